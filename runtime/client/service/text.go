package service

import (
	"strings"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// TextOf joins the text parts of a message with newlines; other parts are dropped.
func TextOf(parts protocol.MessageParts) string {
	var texts []string
	for _, p := range parts {
		switch t := p.(type) {
		case protocol.TextPart:
			texts = append(texts, t.Text)
		case *protocol.TextPart:
			texts = append(texts, t.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// truncate cuts s to at most n characters.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

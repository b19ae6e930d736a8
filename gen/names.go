package gen

import (
	"strings"
	"unicode"
)

// initialisms are the words written in capitals in Go names.
var initialisms = map[string]string{"Id": "ID", "Ids": "IDs", "Url": "URL", "Uri": "URI", "Json": "JSON", "Http": "HTTP", "Tm": "TM"}

// GoName converts a wire or schema name ("agentId", "timeout_ms", "task/conversation/create",
// "HelloOk") to an exported Go identifier ("AgentID", "TimeoutMs", "TaskConversationCreate").
func GoName(s string) string {
	var b strings.Builder
	for _, word := range splitWords(s) {
		w := strings.ToUpper(word[:1]) + word[1:]
		if fixed, ok := initialisms[w]; ok {
			w = fixed
		}
		b.WriteString(w)
	}
	return b.String()
}

// splitWords splits on '/', '_', '-', '.' and lower-to-upper case boundaries.
func splitWords(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	runes := []rune(s)
	for i, r := range runes {
		switch {
		case r == '/' || r == '_' || r == '-' || r == '.' || r == ' ':
			flush()
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(runes[i-1]) || unicode.IsDigit(runes[i-1])):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

// LowerFirst lower-cases the first letter of an identifier.
func LowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Wrap breaks text into lines of at most width columns at spaces, for doc comments of every
// emitter. Each line of text is a paragraph (an empty one gives an empty line); a word longer
// than width stays whole on its own line.
func Wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			out = append(out, "")
			continue
		}
		line := words[0]
		for _, w := range words[1:] {
			if len(line)+1+len(w) > width {
				out = append(out, line)
				line = w
				continue
			}
			line += " " + w
		}
		out = append(out, line)
	}
	return out
}

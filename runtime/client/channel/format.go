package channel

import (
	"fmt"
	"strings"

	"github.com/moltzap/moltzap-go/runtime/client/service"
)

// DefaultContextHeader is the header line FormatContextBlock uses.
const DefaultContextHeader = "New activity in your other conversations:"

// reminderEscaper escapes & first (it is the first pair), then < and >.
var reminderEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// SanitizeForSystemReminder escapes &, < and > (ampersand first) so that text cannot open
// or close a tag inside a <system-reminder> block.
func SanitizeForSystemReminder(s string) string {
	return reminderEscaper.Replace(s)
}

// FormatContextBlock renders cross-conversation entries as a <system-reminder> block with
// DefaultContextHeader; see FormatContextBlockWithHeader.
func FormatContextBlock(entries []service.ContextEntry) string {
	return FormatContextBlockWithHeader(DefaultContextHeader, entries)
}

// FormatContextBlockWithHeader renders entries as
//
//	<system-reminder>
//	<header>
//	@<sender> (<N>m ago): (<count> new) "<text>"
//	</system-reminder>
//
// with one line per entry. Header, sender and text are sanitised
// (SanitizeForSystemReminder) and line breaks inside them become spaces, so content can
// neither close the block nor forge lines. It returns "" when there are no entries.
func FormatContextBlockWithHeader(header string, entries []service.ContextEntry) string {
	if len(entries) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<system-reminder>\n")
	b.WriteString(clean(header))
	b.WriteString("\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "@%s (%dm ago): (%d new) \"%s\"\n", clean(e.SenderName), e.MinutesAgo, e.Count, clean(e.Text))
	}
	b.WriteString("</system-reminder>")
	return b.String()
}

// lineBreaks turns line breaks into spaces.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

func clean(s string) string {
	return SanitizeForSystemReminder(lineBreaks.Replace(s))
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// printJSON writes v as indented JSON (one document per command).
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// printJSONLine writes v as one compact JSON line in a single write (streams).
func printJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// table writes aligned columns.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
		if cells[i] == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// localTime renders a wire date-time in local time, "2006-01-02 15:04:05"; an unparsable
// value is returned as is.
func localTime(dt protocol.DateTime) string {
	t, err := time.Parse(time.RFC3339Nano, string(dt))
	if err != nil {
		return string(dt)
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func optTime(dt *protocol.DateTime) string {
	if dt == nil {
		return ""
	}
	return localTime(*dt)
}

func optString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// partsText renders message parts on one line: text as is, images and files by reference.
func partsText(parts protocol.MessageParts) string {
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		switch v := p.(type) {
		case protocol.TextPart:
			out = append(out, v.Text)
		case protocol.ImagePart:
			out = append(out, "[image "+v.URL+"]")
		case protocol.FilePart:
			out = append(out, "[file "+v.Name+" "+v.URL+"]")
		}
	}
	return strings.Join(out, " ")
}

// oneLine folds newlines so that a notification stays on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ⏎ ", "\n", " ⏎ ", "\r", " ").Replace(s)
}

// notificationJSON is the --json form of one notification.
type notificationJSON struct {
	Method string `json:"method"`
	Params any    `json:"params"`
}

// notificationAgents lists the agent ids a notification's text form names.
func notificationAgents(n protocol.Notification) []protocol.AgentID {
	switch v := n.(type) {
	case protocol.MessagesReceivedNotification:
		return []protocol.AgentID{v.Message.SenderID}
	case protocol.TaskConversationCreatedNotification:
		return v.Participants
	case protocol.TaskConversationParticipantsAddedNotification:
		return []protocol.AgentID{v.AddedAgentID}
	case protocol.TaskConversationParticipantsRemovedNotification:
		return []protocol.AgentID{v.RemovedAgentID}
	case protocol.PresenceChangedNotification:
		return []protocol.AgentID{v.AgentID}
	case protocol.TaskCreatedNotification:
		return []protocol.AgentID{v.Task.InitiatorAgentID}
	}
	return nil
}

// formatNotification renders one notification as a readable line:
//
//	[12:00:01] messages/received <conv> bob: hello
func formatNotification(at time.Time, n protocol.Notification, name func(protocol.AgentID) string) string {
	var detail string
	switch v := n.(type) {
	case protocol.MessagesReceivedNotification:
		detail = fmt.Sprintf("%s %s: %s", v.Message.ConversationID, name(v.Message.SenderID), oneLine(partsText(v.Message.Parts)))
	case protocol.TaskCreatedNotification:
		detail = fmt.Sprintf("%s %s by %s (app %s)", v.Task.ID, v.Task.Status, name(v.Task.InitiatorAgentID), v.Task.AppID)
	case protocol.TaskFailedNotification:
		detail = string(v.TaskID)
		if v.Reason != nil {
			detail += ": " + oneLine(*v.Reason)
		}
	case protocol.TaskClosedNotification:
		detail = fmt.Sprintf("%s %s", v.Task.ID, v.Task.Status)
	case protocol.TaskConversationCreatedNotification:
		names := make([]string, len(v.Participants))
		for i, id := range v.Participants {
			names[i] = name(id)
		}
		detail = fmt.Sprintf("%s task %s", v.ConversationID, v.TaskID)
		if v.Name != nil {
			detail += fmt.Sprintf(" %q", *v.Name)
		}
		detail += " with " + strings.Join(names, ", ")
	case protocol.TaskConversationArchivedNotification:
		detail = fmt.Sprintf("%s task %s", v.ConversationID, v.TaskID)
	case protocol.TaskConversationUnarchivedNotification:
		detail = fmt.Sprintf("%s task %s", v.ConversationID, v.TaskID)
	case protocol.TaskConversationParticipantsAddedNotification:
		detail = fmt.Sprintf("%s +%s (by %s)", v.ConversationID, name(v.AddedAgentID), v.ByAgentOrTM)
	case protocol.TaskConversationParticipantsRemovedNotification:
		detail = fmt.Sprintf("%s -%s (%s)", v.ConversationID, name(v.RemovedAgentID), v.Reason)
	case protocol.PresenceChangedNotification:
		detail = fmt.Sprintf("%s %s", name(v.AgentID), v.Status)
	case protocol.ContactRequestNotification:
		detail = fmt.Sprintf("%s from user %s (%s)", v.Contact.ID, v.Contact.ContactUserID, v.Contact.Status)
	case protocol.ContactAcceptedNotification:
		detail = fmt.Sprintf("%s with user %s (%s)", v.Contact.ID, v.Contact.ContactUserID, v.Contact.Status)
	default:
		b, _ := json.Marshal(n)
		detail = string(b)
	}
	return fmt.Sprintf("[%s] %s %s", at.Format("15:04:05"), n.Method(), detail)
}

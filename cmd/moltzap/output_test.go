package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/wire"
	"github.com/spf13/cobra"
)

// Unit tests of error and output formatting.

func TestDescribeServerErrors(t *testing.T) {
	reason := "tasks are not accepted"
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("moltzap: task/close: %w", protocol.ForbiddenError{Message: "Caller is not the registered task manager for this task"}),
			"server error -32001 Forbidden: Caller is not the registered task manager for this task"},
		{protocol.NotFoundError{}, "server error -32002 NotFound: Not found"},
		{fmt.Errorf("moltzap: task/request: %w", protocol.TaskRejectedError{Data: &protocol.TaskRejectedData{TaskID: "t-1", Reason: &reason}}),
			"server error -32024 TaskRejected: Task request was rejected by the task manager (reason: tasks are not accepted, taskId: t-1)"},
		{protocol.NotInContactsError{Message: "Contact policy requires both agents to have an owner", Data: &protocol.NotInContactsData{AgentIDs: []protocol.AgentID{"a", "b"}}},
			"server error -32005 NotInContacts: Contact policy requires both agents to have an owner (agentIds: [a, b])"},
		{protocol.RateLimitedError{Data: &protocol.RateLimitedData{RetryAfterMs: 250}}, "server error -32004 RateLimited: Too many requests (retryAfterMs: 250)"},
		{protocol.UnknownError{Wire: wire.Error{Code: -32099, Message: "odd"}}, "server error -32099: odd"},
		{fmt.Errorf("connect to http://h as a (profile a): moltzap: dial: %w", errors.New("refused")), "connect to http://h as a (profile a): dial: refused"},
		{fmt.Errorf("register %q on %s: %w", "bob", "http://h", httpFailure(fmt.Errorf("moltzap: register agent: %w", &client.HTTPError{Status: 409, Message: "Name taken", Code: "NAME_TAKEN"}))),
			`register "bob" on http://h: HTTP 409 Name taken (NAME_TAKEN)`},
	}
	for _, c := range cases {
		if got := describeError(c.err); got != c.want {
			t.Errorf("describeError(%v)\n got %q\nwant %q", c.err, got, c.want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	interrupted := runE(func(*cobra.Command, []string) error { return fmt.Errorf("call: %w", context.Canceled) })
	cmd := newRootCmd(&app{})
	cmd.SetContext(ctx)
	cases := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{usagef("--x bad"), exitUsage},
		{errors.New("cobra: unknown flag"), exitUsage},
		{runE(func(*cobra.Command, []string) error { return protocol.ForbiddenError{} })(cmd, nil), exitFailure},
		{runE(func(*cobra.Command, []string) error { return usagef("bad") })(cmd, nil), exitUsage},
		{interrupted(cmd, nil), exitFailure},
	}
	for i, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("case %d (%v): exit %d, want %d", i, c.err, got, c.want)
		}
	}
	if err := interrupted(cmd, nil); err == nil || err.Error() != "interrupted" {
		t.Errorf("a cancelled command reports %v, want interrupted", err)
	}
}

func TestFormatNotifications(t *testing.T) {
	at := time.Date(2026, 5, 25, 12, 0, 1, 0, time.Local)
	names := map[protocol.AgentID]string{"id-bob": "bob", "id-alice": "alice"}
	name := func(id protocol.AgentID) string {
		if n, ok := names[id]; ok {
			return n
		}
		return string(id)
	}
	convName := "hello"
	reason := "timeout"
	cases := []struct {
		n    protocol.Notification
		want string
	}{
		{protocol.MessagesReceivedNotification{TaskID: "t1", Message: protocol.Message{
			ID: "m1", ConversationID: "c1", SenderID: "id-bob", Seq: "1", CreatedAt: "2026-05-25T10:00:00.000Z",
			Parts: protocol.MessageParts{protocol.TextPart{Text: "hello"}, protocol.TextPart{Text: "there\nfriend"}},
		}}, "[12:00:01] messages/received c1 bob: hello there ⏎ friend"},
		{protocol.TaskCreatedNotification{Task: protocol.Task{ID: "t1", AppID: "app", InitiatorAgentID: "id-alice", Status: protocol.TaskStatusActive}},
			"[12:00:01] task/created t1 active by alice (app app)"},
		{protocol.TaskFailedNotification{TaskID: "t1", Reason: &reason}, "[12:00:01] task/failed t1: timeout"},
		{protocol.TaskClosedNotification{Task: protocol.Task{ID: "t1", Status: protocol.TaskStatusClosed}}, "[12:00:01] task/closed t1 closed"},
		{protocol.TaskConversationCreatedNotification{TaskID: "t1", ConversationID: "c1", Name: &convName, Participants: []protocol.AgentID{"id-bob", "id-x"}},
			`[12:00:01] task/conversation/created c1 task t1 "hello" with bob, id-x`},
		{protocol.TaskConversationArchivedNotification{TaskID: "t1", ConversationID: "c1"}, "[12:00:01] task/conversation/archived c1 task t1"},
		{protocol.TaskConversationParticipantsRemovedNotification{TaskID: "t1", ConversationID: "c1", RemovedAgentID: "id-bob", Reason: protocol.ParticipantRemovedReasonTaskLeave},
			"[12:00:01] task/conversation/participants/removed c1 -bob (task_leave)"},
		{protocol.PresenceChangedNotification{AgentID: "id-alice", Status: protocol.PresenceStatusOnline}, "[12:00:01] presence/changed alice online"},
		{protocol.DispatchesExpiredNotification{DispatchID: "d1", LeaseID: "l1", ConversationID: "c1", ExpiredAt: "x"},
			`[12:00:01] dispatches/expired {"dispatchId":"d1","leaseId":"l1","conversationId":"c1","expiredAt":"x"}`},
	}
	for _, c := range cases {
		if got := formatNotification(at, c.n, name); got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.n.Method(), got, c.want)
		}
	}
	if ids := notificationAgents(cases[0].n); len(ids) != 1 || ids[0] != "id-bob" {
		t.Errorf("notificationAgents = %v", ids)
	}
}

func TestNotificationJSONLine(t *testing.T) {
	n := protocol.MessagesReceivedNotification{TaskID: someUUID, Message: protocol.Message{
		ID: someUUID, ConversationID: someUUID, SenderID: someUUID, Seq: "7", CreatedAt: "2026-05-25T10:00:00.000Z",
		Parts: protocol.MessageParts{protocol.TextPart{Text: "hi"}},
	}}
	var b bytes.Buffer
	if err := printJSONLine(&b, notificationJSON{Method: n.Method(), Params: n}); err != nil {
		t.Fatal(err)
	}
	line := b.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("not exactly one line: %q", line)
	}
	var got struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatal(err)
	}
	if got.Method != "messages/received" {
		t.Errorf("method %q", got.Method)
	}
	back, err := protocol.Decode[protocol.MessagesReceivedNotification](got.Params)
	if err != nil {
		t.Fatalf("params do not decode as the notification: %v\n%s", err, got.Params)
	}
	if partsText(back.Message.Parts) != "hi" || back.Message.Seq != "7" {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestPartsAndMessages(t *testing.T) {
	alt := "a cat"
	parts := protocol.MessageParts{
		protocol.TextPart{Text: "look"},
		protocol.ImagePart{URL: "https://x/cat.png", AltText: &alt},
		protocol.FilePart{URL: "https://x/r.pdf", Name: "r.pdf"},
	}
	if got, want := partsText(parts), "look [image https://x/cat.png] [file r.pdf https://x/r.pdf]"; got != want {
		t.Errorf("partsText = %q, want %q", got, want)
	}
	created := "2026-05-25T10:15:30.123Z"
	m := protocol.Message{Seq: "3", SenderID: "id-bob", CreatedAt: protocol.DateTime(created), Parts: protocol.MessageParts{protocol.TextPart{Text: "hello"}}}
	ts, _ := time.Parse(time.RFC3339Nano, created)
	want := "#3 [" + ts.Local().Format("2006-01-02 15:04:05") + "] bob: hello"
	if got := formatMessage(m, func(protocol.AgentID) string { return "bob" }); got != want {
		t.Errorf("formatMessage = %q, want %q", got, want)
	}
	if got := localTime("garbage"); got != "garbage" {
		t.Errorf("localTime of garbage = %q", got)
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	tb := newTable(&b, "NAME", "ID", "STATUS")
	tb.row("alice", "id-1", "active")
	tb.row("bartholomew", "", "active")
	if err := tb.flush(); err != nil {
		t.Fatal(err)
	}
	want := "NAME         ID    STATUS\n" +
		"alice        id-1  active\n" +
		"bartholomew  -     active\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestRuleTaskMaster(t *testing.T) {
	var logged []tmDecision
	tm := newRuleTM(tmRules{acceptTasks: true, denyFrom: map[protocol.AgentID]bool{"id-eve": true}, blockWords: []string{"secret"}},
		func(d tmDecision) { logged = append(logged, d) })
	ctx := context.Background()

	res, err := tm.TaskCreate(ctx, protocol.TaskCreateParams{TaskID: "t1", InitiatorAgentID: "id-alice", InvitedAgentIDs: []protocol.AgentID{"id-bob", "id-carol"}})
	if _, ok := res.Verdict.(protocol.TaskCreateAccept); err != nil || !ok {
		t.Fatalf("TaskCreate = %#v, %v; want accept", res.Verdict, err)
	}

	msg := func(text string) protocol.MessagesAuthorizeParams {
		return protocol.MessagesAuthorizeParams{TaskID: "t1", ConversationID: "c1",
			Message: protocol.CallbackMessage{ID: "m", SenderAgentID: "id-alice", Parts: protocol.MessageParts{protocol.TextPart{Text: text}}}}
	}
	ma, _ := tm.MessagesAuthorize(ctx, msg("hello"))
	fwd, ok := ma.Verdict.(protocol.MessagesAuthorizeForward)
	if !ok || len(fwd.Recipients) != 2 {
		t.Fatalf("MessagesAuthorize(hello) = %#v; want Forward to bob and carol", ma.Verdict)
	}
	for _, r := range fwd.Recipients {
		if r == "id-alice" {
			t.Errorf("forwarded back to the sender")
		}
	}
	ma, _ = tm.MessagesAuthorize(ctx, msg("the SECRET plan"))
	if blk, ok := ma.Verdict.(protocol.MessagesAuthorizeBlock); !ok || blk.Reason == nil || !strings.Contains(*blk.Reason, "secret") {
		t.Fatalf("MessagesAuthorize(secret) = %#v; want Block naming the word", ma.Verdict)
	}
	unknown := msg("hi")
	unknown.TaskID = "t-unknown"
	ma, _ = tm.MessagesAuthorize(ctx, unknown)
	if fwd, ok := ma.Verdict.(protocol.MessagesAuthorizeForward); !ok || len(fwd.Recipients) != 0 || fwd.Recipients == nil {
		t.Fatalf("unknown task: %#v; want Forward to an empty (non-nil) list", ma.Verdict)
	}

	da := func(sender protocol.AgentID) protocol.DispatchAdmissionDecision {
		r, _ := tm.DispatchAuthorize(ctx, protocol.DispatchAuthorizeParams{TaskID: "t1", ConversationID: "c1",
			Recipient: protocol.AgentOwnership{AgentID: "id-bob"}, Message: protocol.CallbackMessage{ID: "m", SenderAgentID: sender}})
		return r.Admission
	}
	if _, ok := da("id-alice").(protocol.DispatchGrant); !ok {
		t.Errorf("dispatch from alice not granted")
	}
	if _, ok := da("ID-EVE").(protocol.DispatchDeny); !ok {
		t.Errorf("dispatch from eve not denied")
	}

	reject := newRuleTM(tmRules{}, func(d tmDecision) { logged = append(logged, d) })
	res, _ = reject.TaskCreate(ctx, protocol.TaskCreateParams{TaskID: "t2", InitiatorAgentID: "id-alice"})
	if rj, ok := res.Verdict.(protocol.TaskCreateReject); !ok || rj.Reason == nil || !strings.Contains(*rj.Reason, "--accept-tasks=false") {
		t.Fatalf("TaskCreate with accept-tasks=false = %#v", res.Verdict)
	}

	if len(logged) != 7 {
		t.Fatalf("logged %d decisions, want 7", len(logged))
	}
	name := func(id protocol.AgentID) string { return strings.TrimPrefix(string(id), "id-") }
	for i, want := range []string{
		"task/create t1 from alice inviting bob, carol: accept",
		`messages/authorize c1 alice: "hello": Forward to `,
		`messages/authorize c1 alice: "the SECRET plan": Block (contains the blocked word "secret")`,
		"Forward to nobody (task requested before this TaskMaster started: participants unknown)",
		"dispatch/authorize c1 bob acting on a message from alice: grant",
		"dispatch/authorize c1 bob acting on a message from ID-EVE: deny (the sender is listed in --deny-dispatch-from)",
		"task/create t2 from alice inviting nobody: reject (tasks are not accepted: --accept-tasks=false)",
	} {
		if got := logged[i].format(name); !strings.Contains(got, want) || !strings.HasPrefix(got, "[") {
			t.Errorf("decision %d: %q lacks %q", i, got, want)
		}
	}
	b, _ := json.Marshal(logged[0])
	for _, k := range []string{`"callback":"task/create"`, `"taskId":"t1"`, `"decision":"accept"`, `"invitedAgentIds":["id-bob","id-carol"]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("decision JSON %s lacks %s", b, k)
		}
	}
}

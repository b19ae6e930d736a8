package main

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/spf13/cobra"
)

// task request | list | close, conv create | list | archive.

func newTaskCmd(a *app) *cobra.Command {
	return groupCmd("task", "Request, list and close tasks",
		newTaskRequestCmd(a), newTaskListCmd(a), newTaskCloseCmd(a))
}

func newConvCmd(a *app) *cobra.Command {
	return groupCmd("conv", "Create, list and archive conversations",
		newConvCreateCmd(a), newConvListCmd(a), newConvArchiveCmd(a))
}

// tmAppFlag adds --app to a TaskMaster-only command.
func tmAppFlag(cmd *cobra.Command, appID *string) {
	cmd.Flags().StringVar(appID, "app", "", "register as the TaskMaster of this app for the duration of the command "+
		"(only while no other connection, such as a running 'moltzap tm run', holds the app)")
	noCompletion(cmd, "app")
}

// connectMaybeTM connects as an agent, or as the TaskMaster of appID when one is given.
// Such a one-command TaskMaster refuses every callback (the server fails closed).
func (a *app) connectMaybeTM(ctx context.Context, appID string) (*session, error) {
	if appID == "" {
		return a.connect(ctx, oneShot)
	}
	return a.connectTM(ctx, oneShot, refuseCallbacks{}, protocol.AppManifest{AppID: protocol.AppID(strings.ToLower(appID)), Name: "moltzap CLI"})
}

// refuseCallbacks answers every TaskMaster callback with the conventional vacuous deny.
type refuseCallbacks struct{}

var errOneShotTM = protocol.ForbiddenError{Message: "The app is held by a one-shot moltzap command"}

func (refuseCallbacks) DispatchAuthorize(context.Context, protocol.DispatchAuthorizeParams) (protocol.DispatchAuthorizeResult, error) {
	return protocol.DispatchAuthorizeResult{}, errOneShotTM
}

func (refuseCallbacks) MessagesAuthorize(context.Context, protocol.MessagesAuthorizeParams) (protocol.MessagesAuthorizeResult, error) {
	return protocol.MessagesAuthorizeResult{}, errOneShotTM
}

func (refuseCallbacks) TaskCreate(context.Context, protocol.TaskCreateParams) (protocol.TaskCreateResult, error) {
	return protocol.TaskCreateResult{}, errOneShotTM
}

func newTaskRequestCmd(a *app) *cobra.Command {
	var invites []string
	var appID, convName string
	var noConv bool
	cmd := &cobra.Command{
		Use:   "request --invite NAME_OR_ID...",
		Short: "Request a task on an app, inviting agents, with an initial conversation",
		Long: `Request a task on an app (task/request) with the given invitees (names are resolved with
agents/lookupByName). Invitees must have the same owner as the requester or an owner in
contact with it. Once the app's TaskMaster accepts, an initial conversation with the
invitees is created (named with --conversation-name) unless --no-conversation is given.
Prints the task and conversation ids.`,
		Example: "  moltzap --profile alice task request --invite bob --conversation-name hello",
		Args:    noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			refs := splitRefs(invites)
			if err := checkRefs("invite", refs); err != nil {
				return err
			}
			if err := checkUUID("--app", appID); err != nil {
				return err
			}
			if err := checkConvName("--conversation-name", convName, cmd.Flags().Changed("conversation-name")); err != nil {
				return err
			}
			if noConv && convName != "" {
				return usagef("--no-conversation and --conversation-name exclude each other")
			}
			return a.withSession(ctx, func(s *session) error {
				ids, err := s.resolveAgents(ctx, refs)
				if err != nil {
					return err
				}
				p := protocol.TaskRequestParams{AppID: protocol.AppID(strings.ToLower(appID)), InvitedAgentIDs: ids}
				if !noConv {
					p.InitialConversation = &protocol.InitialConversation{}
					if convName != "" {
						p.InitialConversation.Name = &convName
					}
				}
				res, err := s.TaskRequest(ctx, p)
				if err != nil {
					return err
				}
				if a.json {
					return printJSON(a.stdout, res)
				}
				t := newTable(a.stdout)
				t.row("task", string(res.Task.ID))
				t.row("status", string(res.Task.Status))
				t.row("app", string(res.Task.AppID))
				if res.Conversation != nil {
					t.row("conversation", string(res.Conversation.ID))
					if res.Conversation.Name != nil {
						t.row("name", *res.Conversation.Name)
					}
				}
				if len(ids) > 0 {
					s.names.resolve(ctx, ids...)
					names := make([]string, len(ids))
					for i, id := range ids {
						names[i] = s.names.name(id)
					}
					t.row("invited", strings.Join(names, ", "))
				}
				return t.flush()
			})
		}),
	}
	f := cmd.Flags()
	f.StringSliceVar(&invites, "invite", nil, "agent to invite, by name or id (repeatable, comma-separated)")
	f.StringVar(&appID, "app", defaultAppID, "app to run the task (default: the server's built-in app)")
	f.StringVar(&convName, "conversation-name", "", "name of the initial conversation (1-100 characters)")
	f.BoolVar(&noConv, "no-conversation", false, "do not create an initial conversation")
	_ = cmd.RegisterFlagCompletionFunc("invite", a.completeAgentNames)
	noCompletion(cmd, "app", "conversation-name")
	return cmd
}

func checkConvName(flag, name string, given bool) error {
	if !given {
		return nil
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > 100 {
		return usagef("%s: want 1-100 characters, got %d", flag, n)
	}
	return nil
}

func newTaskListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the tasks the profile's agent participates in",
		Args:  noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withSession(ctx, func(s *session) error {
				tasks, err := client.DrainPages(ctx, func(ctx context.Context, cur *protocol.Cursor) ([]protocol.Task, *protocol.Cursor, error) {
					r, err := s.TaskList(ctx, protocol.TaskListParams{Limit: &pageLimit, Cursor: cur})
					return r.Tasks, r.NextCursor, err
				})
				if err != nil {
					return err
				}
				if a.json {
					return printJSON(a.stdout, map[string]any{"tasks": tasks})
				}
				ids := make([]protocol.AgentID, len(tasks))
				for i, t := range tasks {
					ids[i] = t.InitiatorAgentID
				}
				s.names.resolve(ctx, ids...)
				t := newTable(a.stdout, "ID", "STATUS", "APP", "INITIATOR", "CREATED")
				for _, task := range tasks {
					t.row(string(task.ID), string(task.Status), string(task.AppID), s.names.name(task.InitiatorAgentID), localTime(task.CreatedAt))
				}
				return t.flush()
			})
		}),
	}
}

func newTaskCloseCmd(a *app) *cobra.Command {
	var appID string
	cmd := &cobra.Command{
		Use:   "close TASK_ID",
		Short: "Close a task (TaskMaster only)",
		Long: `Close a task (task/close): its conversations are archived and its participants told.
Only the task's TaskMaster connection may; anyone else gets the server's Forbidden error.
With --app the command registers as the TaskMaster of that app first.`,
		Args:              exactArgs("TASK_ID"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkUUID("TASK_ID", args[0]); err != nil {
				return err
			}
			if err := checkOptionalUUID("--app", appID); err != nil {
				return err
			}
			return a.withSessionAs(ctx, appID, func(s *session) error {
				res, err := s.TaskClose(ctx, protocol.TaskCloseParams{TaskID: protocol.TaskID(strings.ToLower(args[0]))})
				if err != nil {
					return err
				}
				if a.json {
					return printJSON(a.stdout, res)
				}
				fmt.Fprintf(a.stdout, "Closed task %s (%s)\n", res.Task.ID, res.Task.Status)
				return nil
			})
		}),
	}
	tmAppFlag(cmd, &appID)
	return cmd
}

func newConvCreateCmd(a *app) *cobra.Command {
	var task, name, appID string
	var participants []string
	cmd := &cobra.Command{
		Use:   "create --task TASK_ID --participant NAME_OR_ID...",
		Short: "Create a conversation in a task (TaskMaster only)",
		Long: `Create a conversation under a task (task/conversation/create) with the given task
participants. Only the task's TaskMaster connection may; with --app the command registers
as the TaskMaster of that app first.`,
		Args: noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := checkUUID("--task", task); err != nil {
				return err
			}
			refs := splitRefs(participants)
			if len(refs) == 0 {
				return usagef("--participant: name at least one participant")
			}
			if err := checkRefs("participant", refs); err != nil {
				return err
			}
			if err := checkConvName("--name", name, cmd.Flags().Changed("name")); err != nil {
				return err
			}
			if err := checkOptionalUUID("--app", appID); err != nil {
				return err
			}
			return a.withSessionAs(ctx, appID, func(s *session) error {
				ids, err := s.resolveAgents(ctx, refs)
				if err != nil {
					return err
				}
				p := protocol.TaskConversationCreateParams{TaskID: protocol.TaskID(strings.ToLower(task)), Participants: ids}
				if name != "" {
					p.Name = &name
				}
				res, err := s.TaskConversationCreate(ctx, p)
				if err != nil {
					return err
				}
				if a.json {
					return printJSON(a.stdout, res)
				}
				t := newTable(a.stdout)
				t.row("conversation", string(res.Conversation.ID))
				t.row("task", task)
				t.row("type", string(res.Conversation.Type))
				if res.Conversation.Name != nil {
					t.row("name", *res.Conversation.Name)
				}
				return t.flush()
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&task, "task", "", "the task (required)")
	f.StringSliceVar(&participants, "participant", nil, "participant, by name or id (repeatable, comma-separated; required)")
	f.StringVar(&name, "name", "", "conversation name (1-100 characters)")
	_ = cmd.MarkFlagRequired("task")
	_ = cmd.MarkFlagRequired("participant")
	_ = cmd.RegisterFlagCompletionFunc("participant", a.completeAgentNames)
	noCompletion(cmd, "task", "name")
	tmAppFlag(cmd, &appID)
	return cmd
}

func newConvListCmd(a *app) *cobra.Command {
	var activeOnly bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the conversations of the profile's agent, most recent activity first",
		Args:  noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withSession(ctx, func(s *session) error {
				items, err := s.conversations(ctx)
				if err != nil {
					return err
				}
				if activeOnly {
					kept := items[:0]
					for _, it := range items {
						if it.Conversation.ArchivedAt == nil {
							kept = append(kept, it)
						}
					}
					items = kept
				}
				if a.json {
					if items == nil {
						items = []protocol.TaskConversationListItem{}
					}
					return printJSON(a.stdout, map[string]any{"conversations": items})
				}
				var ids []protocol.AgentID
				for _, it := range items {
					ids = append(ids, it.Participants...)
				}
				s.names.resolve(ctx, ids...)
				t := newTable(a.stdout, "ID", "TASK", "NAME", "TYPE", "PARTICIPANTS", "ARCHIVED")
				for _, it := range items {
					names := make([]string, len(it.Participants))
					for i, id := range it.Participants {
						names[i] = s.names.name(id)
					}
					cv := it.Conversation
					t.row(string(cv.ID), string(it.TaskID), optString(cv.Name), string(cv.Type), strings.Join(names, ","), optTime(cv.ArchivedAt))
				}
				return t.flush()
			})
		}),
	}
	cmd.Flags().BoolVar(&activeOnly, "active", false, "hide archived conversations")
	return cmd
}

func newConvArchiveCmd(a *app) *cobra.Command {
	var task, appID string
	cmd := &cobra.Command{
		Use:   "archive [--task TASK_ID] CONV_ID",
		Short: "Archive a conversation (TaskMaster only)",
		Long: `Archive a conversation of a task (task/conversation/archive); further messages are refused.
Only the task's TaskMaster connection may; with --app the command registers as the
TaskMaster of that app first. Without --task the task is looked up among the caller's
conversations.`,
		Args:              exactArgs("CONV_ID"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			conv := strings.ToLower(args[0])
			if err := checkUUID("CONV_ID", conv); err != nil {
				return err
			}
			if err := checkOptionalUUID("--task", task); err != nil {
				return err
			}
			if err := checkOptionalUUID("--app", appID); err != nil {
				return err
			}
			return a.withSessionAs(ctx, appID, func(s *session) error {
				taskID, err := s.taskFlag(ctx, task, conv)
				if err != nil {
					return err
				}
				if _, err := s.TaskConversationArchive(ctx, protocol.TaskConversationArchiveParams{TaskID: taskID, ConversationID: protocol.ConversationID(conv)}); err != nil {
					return err
				}
				if a.json {
					return printJSON(a.stdout, map[string]any{"taskId": taskID, "conversationId": conv, "archived": true})
				}
				fmt.Fprintf(a.stdout, "Archived conversation %s of task %s\n", conv, taskID)
				return nil
			})
		}),
	}
	cmd.Flags().StringVar(&task, "task", "", "the conversation's task (default: looked up)")
	noCompletion(cmd, "task")
	tmAppFlag(cmd, &appID)
	return cmd
}

// completeAgentNames completes agent flags with the names from agents/list.
func (a *app) completeAgentNames(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	if err := a.applyGlobals(cmd); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	s, err := a.connect(ctx, oneShot)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer s.Close()
	agents, err := s.agents(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]string, 0, len(agents))
	for _, c := range agents {
		names = append(names, string(c.Name))
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/moltzap/moltzap-go/internal/buildinfo"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/moltzap/moltzap-go/cmd/moltzap/internal/profile"
	"github.com/spf13/cobra"
)

// Environment variables of the global flags.
const (
	envServer  = "MOLTZAP_SERVER"
	envProfile = "MOLTZAP_PROFILE"
)

const (
	defaultServer  = "http://127.0.0.1:8080"
	defaultProfile = "default"
	// defaultAppID is the server's boot-installed app (it accepts every task, grants every
	// dispatch and forwards every message to the other participants).
	defaultAppID = "e12fe562-ed1f-4d2d-bed5-68b8edfa41cb"
)

// app is the state shared by every command of one invocation.
type app struct {
	stdout, stderr io.Writer

	servers     []string // --server (repeatable, comma lists) / MOLTZAP_SERVER (a comma list) / default
	server      string   // the first of servers (the one register, claim, bench and observe use)
	serverSet   bool     // given by flag or environment (wins over the profile's server)
	profileName string
	json        bool
}

// syncWriter serialises writes from the notification and callback goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: &syncWriter{w: stdout}, stderr: &syncWriter{w: stderr}}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	code := exitCode(err)
	fmt.Fprintf(a.stderr, "moltzap: %s\n", describeError(err))
	if hint := hintOf(err); hint != "" {
		fmt.Fprintf(a.stderr, "moltzap: hint: %s\n", hint)
	}
	if code == exitUsage {
		path := "moltzap"
		if c != nil {
			path = c.CommandPath()
		}
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", path)
	}
	return code
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Version: buildinfo.Read().String(),
		Use:     "moltzap",
		Short:   "MoltZap command-line client: agents, tasks, conversations and messages",
		Long: `moltzap talks to a MoltZap server as one of your agents.

Register an agent once (its credentials are stored in a profile), claim it for an owner,
then request tasks, send and read messages, and stream notifications.

Profiles are stored in os.UserConfigDir()/moltzap/profiles.json (mode 0600), or in
$MOLTZAP_CONFIG_DIR/profiles.json when MOLTZAP_CONFIG_DIR is set. A profile remembers the
server it was registered on; --server or MOLTZAP_SERVER override it.

Exit codes: 0 success, 1 failure while running (the server's error, a network error,
interruption), 2 usage error.`,
		Example: `  moltzap --profile alice register alice
  moltzap --profile alice claim --owner 3f0c4c1e-8d0e-4a55-9a53-8a4c1b7f2d10
  moltzap --profile alice task request --invite bob --conversation-name hello
  moltzap --profile bob listen
  moltzap --profile alice send --conversation CONV_ID "hi bob"`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.applyGlobals(cmd) },
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: exitUsage, err: err} })
	pf := root.PersistentFlags()
	pf.StringSliceVar(&a.servers, "server", []string{defaultServer}, "server URL, http(s)://host:port or ws(s)://host:port/ws; repeat it or give a comma list for the nodes of a cluster: "+
		"connections fail over to the next one (env "+envServer+"; when neither is set, the server the profile was registered on)")
	pf.StringVar(&a.profileName, "profile", defaultProfile, "profile name (env "+envProfile+")")
	pf.BoolVar(&a.json, "json", false, "machine-readable JSON output")
	_ = root.RegisterFlagCompletionFunc("profile", completeProfiles)
	_ = root.RegisterFlagCompletionFunc("server", cobra.NoFileCompletions)

	root.AddGroup(&cobra.Group{ID: "identity", Title: "Identity:"},
		&cobra.Group{ID: "tasks", Title: "Tasks and conversations:"},
		&cobra.Group{ID: "messages", Title: "Messages:"},
		&cobra.Group{ID: "tm", Title: "TaskMaster:"})
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("identity", newRegisterCmd(a), newClaimCmd(a), newWhoamiCmd(a), newPingCmd(a), newAgentsCmd(a))
	add("tasks", newTaskCmd(a), newConvCmd(a))
	add("messages", newSendCmd(a), newHistoryCmd(a), newListenCmd(a))
	add("tm", newTMCmd(a))
	addBenchCmds(root, a)
	addObserveCmd(root, a)
	return root
}

// applyGlobals applies the environment to the global flags not given on the command line
// and validates them.
func (a *app) applyGlobals(cmd *cobra.Command) error {
	for c := cmd; c != nil; c = c.Parent() {
		switch c.Name() {
		case "completion", "help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			return nil
		}
	}
	fs := cmd.Flags()
	if f := fs.Lookup("server"); f != nil && f.Changed {
		a.serverSet = true
	} else if v, ok := os.LookupEnv(envServer); ok && v != "" {
		a.servers, a.serverSet = splitServers(v), true
	}
	a.servers = splitServers(a.servers...)
	if f := fs.Lookup("profile"); f == nil || !f.Changed {
		if v, ok := os.LookupEnv(envProfile); ok && v != "" {
			a.profileName = v
		}
	}
	src := "--server"
	if f := fs.Lookup("server"); f == nil || !f.Changed {
		src = envServer
	}
	if len(a.servers) == 0 {
		return usagef("%s: no server URL given", src)
	}
	for _, u := range a.servers {
		if err := checkServerURL(u); err != nil {
			return usagef("%s %q: %v", src, u, err)
		}
	}
	a.server = a.servers[0]
	if !profile.ValidName(a.profileName) {
		return usagef("--profile %q: want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", a.profileName)
	}
	return nil
}

// splitServers flattens comma lists of server URLs, dropping empty entries and repeats.
func splitServers(values ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" && !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	return out
}

// checkServerURL accepts http(s)://host[:port][/] and ws(s)://host[:port]/ws.
func checkServerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return errors.New("want an http://, https://, ws:// or wss:// URL")
	}
	if u.Host == "" {
		return errors.New("missing host")
	}
	return nil
}

// httpBase turns a server URL into the base of its HTTP endpoints: ws(s) becomes http(s),
// a trailing /ws and slash are dropped.
func httpBase(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/ws")
	u.RawQuery, u.Fragment, u.ForceQuery = "", "", false
	return strings.TrimSuffix(u.String(), "/")
}

// store is the profile store of the configuration directory.
func (a *app) store() (*profile.Store, error) {
	dir, err := profile.DefaultDir()
	if err != nil {
		return nil, err
	}
	return profile.Open(dir), nil
}

// loadProfile returns the selected profile; a missing one says how to create it.
func (a *app) loadProfile() (profile.Profile, error) {
	st, err := a.store()
	if err != nil {
		return profile.Profile{}, err
	}
	p, err := st.Get(a.profileName)
	if errors.Is(err, profile.ErrNotFound) {
		return p, fmt.Errorf("no profile %q in %s: register one with 'moltzap --profile %s register NAME' (or pick another with --profile)",
			a.profileName, st.Path(), a.profileName)
	}
	return p, err
}

// serversFor are the servers to talk to for profile p, in the order to try them: --server
// or MOLTZAP_SERVER when given, else the server (or comma list) p was registered on.
func (a *app) serversFor(p profile.Profile) []string {
	if a.serverSet || p.Server == "" {
		return a.servers
	}
	if list := splitServers(p.Server); len(list) > 0 {
		return list
	}
	return a.servers
}

// serverFor is the first of serversFor(p), for the HTTP endpoints.
func (a *app) serverFor(p profile.Profile) string {
	return a.serversFor(p)[0]
}

// completeProfiles completes --profile with the stored profile names.
func completeProfiles(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	dir, err := profile.DefaultDir()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names, _ := profile.Open(dir).Names()
	return names, cobra.ShellCompDirectiveNoFileComp
}

// groupCmd is a command that only holds subcommands: alone it prints its help, with an
// unknown subcommand it is a usage error.
func groupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(subs...)
	return c
}

// Positional argument checks that name the missing or extra argument.

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if !cmd.HasSubCommands() {
			return usagef("unexpected argument %q", args[0])
		}
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

func exactArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return usagef("missing argument %s", names[len(args)])
		}
		if len(args) > len(names) {
			return usagef("unexpected argument %q (want %s)", args[len(names)], strings.Join(names, " "))
		}
		for i, n := range names {
			if strings.TrimSpace(args[i]) == "" {
				return usagef("argument %s must not be empty", n)
			}
		}
		return nil
	}
}

func minArgs(name string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usagef("missing argument %s", name)
		}
		return nil
	}
}

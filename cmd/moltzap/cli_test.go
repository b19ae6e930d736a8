package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/cmd/moltzap/internal/profile"
)

// Unit tests of flag and environment handling, run in-process through run().

// closedServer is an address nothing listens on: connecting fails at once.
const closedServer = "http://127.0.0.1:1"

const someUUID = "3f0c4c1e-8d0e-4a55-9a53-8a4c1b7f2d10"

// cliResult is the outcome of one in-process invocation.
type cliResult struct {
	code           int
	stdout, stderr string
}

// isolate points the configuration at a fresh directory and clears the global variables.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(profile.EnvConfigDir, dir)
	t.Setenv(envServer, "")
	t.Setenv(envProfile, "")
	return dir
}

func invoke(t *testing.T, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return cliResult{code: code, stdout: out.String(), stderr: errb.String()}
}

func TestUsageErrorsExitTwoAndNameTheProblem(t *testing.T) {
	isolate(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"bogus"}, `unknown command "bogus" for "moltzap"`},
		{[]string{"task", "bogus"}, `unknown command "bogus" for "moltzap task"`},
		{[]string{"whoami", "extra"}, `unexpected argument "extra"`},
		{[]string{"--server", "ftp://x", "ping"}, "--server"},
		{[]string{"--server", "http://", "ping"}, "missing host"},
		{[]string{"--profile", "../etc", "whoami"}, "--profile"},
		{[]string{"register"}, "missing argument NAME"},
		{[]string{"register", "a", "b"}, `unexpected argument "b"`},
		{[]string{"register", "Not Valid"}, `NAME "Not Valid"`},
		{[]string{"register", "alice", "--owner", "nope", "--invite-code", "s"}, "--owner"},
		{[]string{"register", "alice", "--owner", someUUID}, "--invite-code"},
		{[]string{"claim"}, `required flag(s) "owner" not set`},
		{[]string{"claim", "--owner", "not-a-uuid"}, `--owner "not-a-uuid"`},
		{[]string{"task", "request", "--invite", "Bad!"}, "--invite"},
		{[]string{"task", "request", "--app", "x"}, "--app"},
		{[]string{"task", "request", "--no-conversation", "--conversation-name", "x"}, "--no-conversation"},
		{[]string{"task", "request", "--conversation-name", ""}, "--conversation-name"},
		{[]string{"task", "close"}, "missing argument TASK_ID"},
		{[]string{"task", "close", "nope"}, "TASK_ID"},
		{[]string{"conv", "create", "--task", someUUID}, `required flag(s) "participant" not set`},
		{[]string{"conv", "create", "--task", "x", "--participant", "bob"}, "--task"},
		{[]string{"conv", "archive"}, "missing argument CONV_ID"},
		{[]string{"send", "hi"}, `required flag(s) "conversation" not set`},
		{[]string{"send", "--conversation", someUUID}, "missing argument TEXT"},
		{[]string{"send", "--conversation", "c1", "hi"}, "--conversation"},
		{[]string{"history"}, "missing argument CONV_ID"},
		{[]string{"history", someUUID, "--limit", "0"}, "--limit"},
		{[]string{"history", someUUID, "--since", "x"}, "--since"},
		{[]string{"history", someUUID, "--limit", "many"}, `invalid argument "many" for "--limit"`},
		{[]string{"listen", "--count", "-1"}, "--count"},
		{[]string{"listen", "--timeout", "soon"}, `invalid argument "soon" for "--timeout"`},
		{[]string{"tm", "run"}, `required flag(s) "app" not set`},
		{[]string{"tm", "run", "--app", defaultAppID}, "built-in app"},
		{[]string{"tm", "run", "--app", someUUID, "--deny-dispatch-from", "X Y"}, "--deny-dispatch-from"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := invoke(t, c.args...)
			if r.code != exitUsage {
				t.Fatalf("exit code %d, want 2\nstderr: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "moltzap: ") || !strings.Contains(r.stderr, "--help' for usage") {
				t.Errorf("stderr is not 'moltzap: ...' plus a help hint:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
		})
	}
}

func TestEnvironmentServerIsValidated(t *testing.T) {
	isolate(t)
	t.Setenv(envServer, "nonsense")
	r := invoke(t, "ping")
	if r.code != exitUsage || !strings.Contains(r.stderr, envServer) {
		t.Fatalf("code %d stderr %q; want 2 naming %s", r.code, r.stderr, envServer)
	}
}

func TestGroupCommandAloneShowsHelp(t *testing.T) {
	isolate(t)
	for _, g := range []string{"task", "conv", "tm"} {
		r := invoke(t, g)
		if r.code != 0 || !strings.Contains(r.stdout, "Available Commands") {
			t.Errorf("%s: code %d stdout %q", g, r.code, r.stdout)
		}
	}
	r := invoke(t, "--help")
	for _, c := range []string{"register", "claim", "whoami", "ping", "agents", "task", "conv", "send", "history", "listen", "tm", "completion"} {
		if !strings.Contains(r.stdout, "\n  "+c+" ") {
			t.Errorf("root help lacks command %s:\n%s", c, r.stdout)
		}
	}
}

func TestShellCompletion(t *testing.T) {
	isolate(t)
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		r := invoke(t, "completion", sh)
		if r.code != 0 || len(r.stdout) < 100 {
			t.Errorf("completion %s: code %d, %d bytes", sh, r.code, len(r.stdout))
		}
	}
	st, _ := (&app{}).store()
	for _, n := range []string{"alice", "bob"} {
		if err := st.Put(n, profile.Profile{Name: n}, false); err != nil {
			t.Fatal(err)
		}
	}
	r := invoke(t, "__complete", "--profile", "")
	if r.code != 0 || !strings.Contains(r.stdout, "alice\nbob\n") {
		t.Errorf("profile completion: code %d stdout %q", r.code, r.stdout)
	}
	r = invoke(t, "__complete", "ta")
	if !strings.Contains(r.stdout, "task") {
		t.Errorf("command completion: %q", r.stdout)
	}
}

// The server used is --server, else MOLTZAP_SERVER, else the profile's server; the
// profile is --profile, else MOLTZAP_PROFILE, else "default". A connection to a closed
// port fails with a message naming the server and the profile.
func TestServerAndProfileSelection(t *testing.T) {
	isolate(t)
	st, _ := (&app{}).store()
	for name, server := range map[string]string{"default": "http://127.0.0.1:2", "envprof": "http://127.0.0.1:3", "flagprof": "http://127.0.0.1:4"} {
		if err := st.Put(name, profile.Profile{Server: server, Name: "agent-" + name, APIKey: "moltzap_agent_x"}, false); err != nil {
			t.Fatal(err)
		}
	}
	check := func(wantServer, wantProfile string, args ...string) {
		t.Helper()
		r := invoke(t, args...)
		if r.code != exitFailure {
			t.Fatalf("%v: code %d, want 1; stderr %s", args, r.code, r.stderr)
		}
		want := "connect to " + wantServer + " as agent-" + wantProfile + " (profile " + wantProfile + ")"
		if !strings.Contains(r.stderr, want) {
			t.Errorf("%v: stderr lacks %q:\n%s", args, want, r.stderr)
		}
	}
	check("http://127.0.0.1:2", "default", "ping")
	t.Setenv(envProfile, "envprof")
	check("http://127.0.0.1:3", "envprof", "ping")
	check("http://127.0.0.1:4", "flagprof", "--profile", "flagprof", "ping")
	t.Setenv(envServer, closedServer)
	check(closedServer, "envprof", "whoami")
	check("http://127.0.0.1:5", "envprof", "--server", "http://127.0.0.1:5", "agents")
}

func TestMissingProfileSaysHowToRegister(t *testing.T) {
	dir := isolate(t)
	r := invoke(t, "--profile", "carol", "whoami")
	if r.code != exitFailure {
		t.Fatalf("code %d, want 1", r.code)
	}
	for _, want := range []string{`no profile "carol"`, dir, "moltzap --profile carol register NAME"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestRegisterKeepsAnExistingProfile(t *testing.T) {
	isolate(t)
	st, _ := (&app{}).store()
	old := profile.Profile{Server: "http://old", AgentID: "id-old", Name: "alice", APIKey: "k"}
	if err := st.Put("alice", old, false); err != nil {
		t.Fatal(err)
	}
	r := invoke(t, "--server", closedServer, "--profile", "alice", "register", "alice2")
	if r.code != exitFailure || !strings.Contains(r.stderr, `profile "alice" already exists`) || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("code %d stderr %s", r.code, r.stderr)
	}
	// --force goes to the server (unreachable here) and keeps the profile when that fails.
	r = invoke(t, "--server", closedServer, "--profile", "alice", "register", "alice2", "--force")
	if r.code != exitFailure || !strings.Contains(r.stderr, `register "alice2" on `+closedServer) {
		t.Fatalf("code %d stderr %s", r.code, r.stderr)
	}
	if strings.Count(r.stderr, "moltzap: ") != 1 {
		t.Errorf("the moltzap: prefix repeats: %s", r.stderr)
	}
	if got, _ := st.Get("alice"); got != old {
		t.Fatalf("profile changed to %+v", got)
	}
}

func TestHTTPBaseAndServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":      "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":     "http://127.0.0.1:8080",
		"ws://127.0.0.1:8080/ws":     "http://127.0.0.1:8080",
		"wss://example.com/ws":       "https://example.com",
		"https://example.com/mz/":    "https://example.com/mz",
		"https://example.com/mz/ws?": "https://example.com/mz",
	} {
		if got := httpBase(in); got != want {
			t.Errorf("httpBase(%q) = %q, want %q", in, got, want)
		}
	}
	for _, ok := range []string{"http://h", "https://h:1", "ws://h/ws", "wss://h"} {
		if err := checkServerURL(ok); err != nil {
			t.Errorf("checkServerURL(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "h:8080", "ftp://h", "http://", "::"} {
		if err := checkServerURL(bad); err == nil {
			t.Errorf("checkServerURL(%q) accepted", bad)
		}
	}
}

func TestAgentReferences(t *testing.T) {
	got := splitRefs([]string{"bob, carol", "", someUUID, " dave "})
	want := []string{"bob", "carol", someUUID, "dave"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("splitRefs = %q", got)
	}
	if err := checkRefs("invite", got); err != nil {
		t.Fatal(err)
	}
	err := checkRefs("invite", []string{"bob", "B"})
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), `--invite "B"`) {
		t.Fatalf("checkRefs = %v", err)
	}
}

func TestVersionFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "moltzap version") {
		t.Fatalf("--version: exit %d, %q %q", code, out.String(), errb.String())
	}
}

package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/cmd/moltzap/internal/profile"
)

func TestSplitServers(t *testing.T) {
	got := splitServers("http://a:1, http://b:2", "", "http://a:1", " http://c:3 ,")
	if want := []string{"http://a:1", "http://b:2", "http://c:3"}; !slices.Equal(got, want) {
		t.Fatalf("splitServers = %v, want %v", got, want)
	}
}

// Several servers come from repeated --server, a comma list, MOLTZAP_SERVER or the
// profile; a one-shot command tries each, and the failure names them all.
func TestSeveralServers(t *testing.T) {
	isolate(t)
	st, _ := (&app{}).store()
	if err := st.Put("default", profile.Profile{Server: "http://127.0.0.1:2,http://127.0.0.1:3", Name: "agent-x", APIKey: "moltzap_agent_x"}, false); err != nil {
		t.Fatal(err)
	}
	check := func(want string, args ...string) {
		t.Helper()
		r := invoke(t, args...)
		if r.code != exitFailure {
			t.Fatalf("%v: code %d, want 1; stderr %s", args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "connect to "+want+" as agent-x") {
			t.Errorf("%v: stderr lacks the servers %q:\n%s", args, want, r.stderr)
		}
		for _, u := range strings.Split(want, ", ") {
			if strings.Count(r.stderr, u) < 2 { // in the summary and in the error of its attempt
				t.Errorf("%v: stderr does not report the attempt on %s:\n%s", args, u, r.stderr)
			}
		}
	}
	check("http://127.0.0.1:2, http://127.0.0.1:3", "ping")
	check("http://127.0.0.1:4, http://127.0.0.1:5", "--server", "http://127.0.0.1:4", "--server", "http://127.0.0.1:5", "ping")
	check("http://127.0.0.1:4, http://127.0.0.1:5", "--server", "http://127.0.0.1:4,http://127.0.0.1:5", "ping")
	t.Setenv(envServer, "http://127.0.0.1:6, http://127.0.0.1:7")
	check("http://127.0.0.1:6, http://127.0.0.1:7", "ping")

	r := invoke(t, "--server", "http://127.0.0.1:4,ftp://x", "ping")
	if r.code != exitUsage || !strings.Contains(r.stderr, `--server "ftp://x"`) {
		t.Fatalf("a bad URL in the list: code %d stderr %s", r.code, r.stderr)
	}
}

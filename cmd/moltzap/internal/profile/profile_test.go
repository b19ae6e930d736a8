package profile

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestPutGetAndFileLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "moltzap")
	st := Open(dir)
	if ok, err := st.Exists("alice"); err != nil || ok {
		t.Fatalf("Exists on a missing file = %v, %v; want false, nil", ok, err)
	}
	if names, err := st.Names(); err != nil || len(names) != 0 {
		t.Fatalf("Names on a missing file = %v, %v", names, err)
	}
	alice := Profile{Server: "http://127.0.0.1:8080", AgentID: "a-id", Name: "alice", APIKey: "key-a", ClaimToken: "tok-a"}
	if err := st.Put("alice", alice, false); err != nil {
		t.Fatal(err)
	}
	if err := st.Put("bob", Profile{Server: "http://x", AgentID: "b-id", Name: "bob", APIKey: "key-b"}, false); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get("alice")
	if err != nil || got != alice {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, alice)
	}
	names, err := st.Names()
	if err != nil || len(names) != 2 || names[0] != "alice" || names[1] != "bob" {
		t.Fatalf("Names = %v, %v", names, err)
	}

	// The file is JSON with the documented keys.
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Version  int                       `json:"version"`
		Profiles map[string]map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("profiles.json is not JSON: %v\n%s", err, raw)
	}
	if f.Version != 1 {
		t.Errorf("version = %d", f.Version)
	}
	for _, k := range []string{"server", "agentId", "name", "apiKey", "claimToken"} {
		if _, ok := f.Profiles["alice"][k]; !ok {
			t.Errorf("profile alice lacks key %q: %s", k, raw)
		}
	}

	if runtime.GOOS != "windows" {
		fi, err := os.Stat(st.Path())
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("profiles.json mode = %o, want 600", perm)
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := di.Mode().Perm(); perm != 0o700 {
			t.Errorf("directory mode = %o, want 700", perm)
		}
	}
	// No temporary or lock files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, FileName)
	}
}

func TestPutRefusesOverwriteUnlessForced(t *testing.T) {
	st := Open(t.TempDir())
	if err := st.Put("p", Profile{Name: "first"}, false); err != nil {
		t.Fatal(err)
	}
	err := st.Put("p", Profile{Name: "second"}, false)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second Put = %v, want ErrExists", err)
	}
	if got, _ := st.Get("p"); got.Name != "first" {
		t.Fatalf("profile overwritten without force: %+v", got)
	}
	if err := st.Put("p", Profile{Name: "second"}, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Get("p"); got.Name != "second" {
		t.Fatalf("forced Put did not overwrite: %+v", got)
	}
}

func TestGetUpdateDelete(t *testing.T) {
	st := Open(t.TempDir())
	if _, err := st.Get("none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get unknown = %v, want ErrNotFound", err)
	}
	if err := st.Update("none", func(*Profile) {}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update unknown = %v, want ErrNotFound", err)
	}
	if err := st.Put("p", Profile{Name: "n"}, false); err != nil {
		t.Fatal(err)
	}
	if err := st.Update("p", func(p *Profile) { p.OwnerUserID = "owner" }); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Get("p"); got.OwnerUserID != "owner" || got.Name != "n" {
		t.Fatalf("after Update: %+v", got)
	}
	if err := st.Delete("p"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Exists("p"); ok {
		t.Fatal("profile still there after Delete")
	}
}

func TestCorruptFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := Open(dir)
	if _, err := st.Get("p"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on a corrupt file = %v, want a decode error", err)
	}
	if err := st.Put("p", Profile{}, false); err == nil {
		t.Fatal("Put over a corrupt file succeeded; it must not clobber the file")
	}
}

func TestConcurrentPutsKeepEveryProfile(t *testing.T) {
	st := Open(t.TempDir())
	var wg sync.WaitGroup
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Open(st.Dir).Put(n, Profile{Name: n}, false); err != nil {
				t.Errorf("Put %s: %v", n, err)
			}
		}()
	}
	wg.Wait()
	got, err := st.Names()
	if err != nil || len(got) != len(names) {
		t.Fatalf("Names = %v, %v; want all of %v", got, err, names)
	}
}

func TestDefaultDirHonoursEnvironment(t *testing.T) {
	t.Setenv(EnvConfigDir, "/some/where")
	if d, err := DefaultDir(); err != nil || d != "/some/where" {
		t.Fatalf("DefaultDir = %q, %v", d, err)
	}
	t.Setenv(EnvConfigDir, "")
	d, err := DefaultDir()
	if err != nil {
		t.Skipf("no user config dir here: %v", err)
	}
	if filepath.Base(d) != "moltzap" {
		t.Fatalf("DefaultDir = %q, want .../moltzap", d)
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"default", "alice", "Bob.2", "a_b-c", "x"} {
		if !ValidName(ok) {
			t.Errorf("ValidName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "-x", ".hidden", "a/b", "../x", "a b", string(make([]byte, 65))} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true", bad)
		}
	}
}

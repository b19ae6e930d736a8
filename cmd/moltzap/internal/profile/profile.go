// Package profile stores the moltzap CLI's agent credentials: one JSON file,
// profiles.json, holding named profiles, written atomically with 0600 permissions in a
// 0700 directory.
//
// The directory is $MOLTZAP_CONFIG_DIR when set, else os.UserConfigDir()/moltzap
// (~/.config/moltzap on Linux, ~/Library/Application Support/moltzap on macOS,
// %AppData%\moltzap on Windows).
package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// EnvConfigDir overrides the configuration directory (tests, several identities per user).
const EnvConfigDir = "MOLTZAP_CONFIG_DIR"

// FileName is the name of the profile file inside the configuration directory.
const FileName = "profiles.json"

// Profile is one stored identity: where it is registered and how it authenticates.
type Profile struct {
	Server      string `json:"server"`
	AgentID     string `json:"agentId"`
	Name        string `json:"name"`
	APIKey      string `json:"apiKey"`
	ClaimToken  string `json:"claimToken,omitempty"`
	OwnerUserID string `json:"ownerUserId,omitempty"` // set by the admin registration path and by claim
}

// file is the on-disk layout.
type file struct {
	Version  int                `json:"version"`
	Profiles map[string]Profile `json:"profiles"`
}

var (
	// ErrNotFound is returned by Get for an unknown profile name.
	ErrNotFound = errors.New("profile not found")
	// ErrExists is returned by Put when the profile exists and overwriting was not asked for.
	ErrExists = errors.New("profile already exists")
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidName reports whether s can name a profile: 1-64 characters, letters, digits, '.',
// '_' and '-', starting with a letter or digit.
func ValidName(s string) bool { return namePattern.MatchString(s) }

// DefaultDir returns $MOLTZAP_CONFIG_DIR, else os.UserConfigDir()/moltzap.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvConfigDir); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory (set %s): %w", EnvConfigDir, err)
	}
	return filepath.Join(base, "moltzap"), nil
}

// Store is the profile file of one configuration directory.
type Store struct {
	Dir string
}

// Open returns the store of dir; nothing is read or created until used.
func Open(dir string) *Store { return &Store{Dir: dir} }

// Path is the profile file's path.
func (s *Store) Path() string { return filepath.Join(s.Dir, FileName) }

// load reads the file; a missing file is an empty set of profiles.
func (s *Store) load() (file, error) {
	f := file{Version: 1, Profiles: map[string]Profile{}}
	b, err := os.ReadFile(s.Path())
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s: %w", s.Path(), err)
	}
	if f.Profiles == nil {
		f.Profiles = map[string]Profile{}
	}
	return f, nil
}

// All returns every stored profile by name.
func (s *Store) All() (map[string]Profile, error) {
	f, err := s.load()
	return f.Profiles, err
}

// Names returns the stored profile names, sorted.
func (s *Store) Names() ([]string, error) {
	f, err := s.load()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Get returns the named profile or ErrNotFound.
func (s *Store) Get(name string) (Profile, error) {
	f, err := s.load()
	if err != nil {
		return Profile{}, err
	}
	p, ok := f.Profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("%w: %q in %s", ErrNotFound, name, s.Path())
	}
	return p, nil
}

// Exists reports whether the named profile is stored.
func (s *Store) Exists(name string) (bool, error) {
	_, err := s.Get(name)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Put stores p under name. Without force an existing profile is kept and ErrExists returned.
func (s *Store) Put(name string, p Profile, force bool) error {
	return s.update(func(f *file) error {
		if _, ok := f.Profiles[name]; ok && !force {
			return fmt.Errorf("%w: %q in %s", ErrExists, name, s.Path())
		}
		f.Profiles[name] = p
		return nil
	})
}

// Update applies fn to the named profile and stores the result.
func (s *Store) Update(name string, fn func(*Profile)) error {
	return s.update(func(f *file) error {
		p, ok := f.Profiles[name]
		if !ok {
			return fmt.Errorf("%w: %q in %s", ErrNotFound, name, s.Path())
		}
		fn(&p)
		f.Profiles[name] = p
		return nil
	})
}

// Delete removes the named profile (no error when absent).
func (s *Store) Delete(name string) error {
	return s.update(func(f *file) error {
		delete(f.Profiles, name)
		return nil
	})
}

// update is a locked read-modify-write of the file.
func (s *Store) update(fn func(*file) error) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.load()
	if err != nil {
		return err
	}
	if err := fn(&f); err != nil {
		return err
	}
	f.Version = 1
	return s.write(f)
}

// write replaces the file atomically (temporary file in the same directory, then rename).
func (s *Store) write(f file) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.Dir, ".profiles-*.json")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, s.Path()); err != nil {
		return err
	}
	return os.Chmod(s.Path(), 0o600)
}

// lockTimeout bounds the wait for another moltzap process's update; a lock file older than
// staleLock is left over from a crashed process and is taken over.
const (
	lockTimeout = 5 * time.Second
	staleLock   = 30 * time.Second
)

// lock takes the directory's lock file (portable: O_EXCL create).
func (s *Store) lock() (func(), error) {
	path := filepath.Join(s.Dir, ".profiles.lock")
	deadline := time.Now().Add(lockTimeout)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if st, serr := os.Stat(path); serr == nil && time.Since(st.ModTime()) > staleLock {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s is locked by another moltzap process (remove it if none is running)", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

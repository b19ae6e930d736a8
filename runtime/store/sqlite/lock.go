package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockName is the file in the data directory that a running store holds locked.
const LockName = "LOCK"

// ErrLocked is returned by Open when another process (or another Store of this one) has the
// data directory open.
var ErrLocked = errors.New("data directory is in use")

// lockDir takes the exclusive lock of dir and writes this process's id into the lock file. The
// lock is released when the returned file is closed (or the process exits, even by kill -9).
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := tryLock(f); err != nil {
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = "process " + strconv.Itoa(pid)
			}
		}
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s holds %s (%v); stop it or choose another data directory", ErrLocked, holder, path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

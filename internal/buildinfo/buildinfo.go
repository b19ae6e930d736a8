// Package buildinfo reads what the Go toolchain stamped into the running binary: the module
// version and the VCS commit it was built from. Every MoltZap binary reports it with
// --version; the server also in /health and the moltzap_build_info metric.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info identifies a build.
type Info struct {
	Version   string // module version, "(devel)" for a build from a work tree
	Commit    string // VCS revision, "unknown" when not stamped (go run, go test)
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string
}

// Read returns the build information of the running binary.
func Read() Info {
	info := Info{Version: "(devel)", Commit: "unknown", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if v := bi.Main.Version; v != "" {
		info.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the --version line: "<version> (commit <sha>[, modified], <go version>)".
func (i Info) String() string {
	commit := i.Commit
	if i.Modified {
		commit += ", modified"
	}
	return i.Version + " (commit " + commit + ", " + i.GoVersion + ")"
}

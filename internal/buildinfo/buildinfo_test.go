package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestReadAndString(t *testing.T) {
	info := Read()
	if info.GoVersion != runtime.Version() || info.Version == "" || info.Commit == "" {
		t.Fatalf("incomplete build info %+v", info)
	}
	s := Info{Version: "v1.2.3", Commit: "abc", Modified: true, GoVersion: "go1.26"}.String()
	if s != "v1.2.3 (commit abc, modified, go1.26)" {
		t.Fatalf("String() = %q", s)
	}
	if !strings.Contains(info.String(), info.Commit) {
		t.Fatalf("String() %q lacks the commit", info.String())
	}
}

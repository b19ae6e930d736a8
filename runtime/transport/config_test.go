package transport

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	got := Config{}.withDefaults()
	want := Config{
		ReadLimit:       1 << 20,
		PingInterval:    30 * time.Second,
		MaxMissedPings:  3,
		WriteQueueLen:   256,
		WriteQueueBytes: 4 << 20,
		WriteTimeout:    10 * time.Second,
		ReadTimeout:     30 * time.Second,
	}
	if got != want {
		t.Errorf(
			"Config{}.withDefaults() = %+v, want %+v",
			got, want,
		)
	}
	set := Config{ReadLimit: 5, PingInterval: -1, MaxMissedPings: 2, WriteQueueLen: 7, WriteQueueBytes: 9, WriteTimeout: time.Second, ReadTimeout: time.Minute}
	if got := set.withDefaults(); got != set {
		t.Errorf(
			"withDefaults changed set fields: %+v",
			got,
		)
	}
}

func TestCloseBodyTruncatesOnRuneBoundary(t *testing.T) {
	reason := strings.Repeat("é", 100) // 200 bytes
	p := closeBody(CloseNormal, reason)
	if len(p) > 125 {
		t.Fatalf(
			"close payload of %d bytes exceeds 125",
			len(p),
		)
	}
	code, got, ok := parseCloseBody(p)
	if !ok || code != CloseNormal || !strings.HasPrefix(reason, got) || len(got) != 122 {
		t.Errorf(
			"parseCloseBody = %d %q %v",
			code, got, ok,
		)
	}
}

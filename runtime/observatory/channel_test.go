package observatory

import (
	"maps"
	"testing"
)

func TestNewChannelRejectsBadPatterns(t *testing.T) {
	for _, p := range []string{"", "a:<>", "a:<id", "a:id>", "a:x<id>", "<a>:<a>", "a:<<id>>"} {
		if _, err := NewChannel(p); err == nil {
			t.Errorf("NewChannel(%q): no error", p)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustChannel of a bad pattern did not panic")
		}
	}()
	MustChannel("a:<>")
}

func TestChannelMatch(t *testing.T) {
	ch := MustChannel("conversation:<conversationId>")
	if ch.Pattern() != "conversation:<conversationId>" {
		t.Fatalf("Pattern = %q", ch.Pattern())
	}
	for _, tc := range []struct {
		topic string
		want  Params // nil: no match
	}{
		{"conversation:c1", Params{"conversationId": "c1"}},
		{"conversation:", nil},
		{"conversation", nil},
		{"conversation:a:b", nil},
		{"task:c1", nil},
	} {
		got, ok := ch.Match(tc.topic)
		if ok != (tc.want != nil) || !maps.Equal(got, tc.want) {
			t.Errorf("Match(%q) = %v, %v; want %v", tc.topic, got, ok, tc.want)
		}
	}
	if p, ok := MustChannel("network").Match("network"); !ok || p == nil || len(p) != 0 {
		t.Errorf("literal Match = %v, %v", p, ok)
	}
}

package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestUpgradeFailureIs400WithEmptyBody(t *testing.T) {
	errs := make(chan error, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := Upgrade(w, r, Config{})
		errs <- err
	}))
	defer srv.Close()

	tests := []struct {
		name   string
		method string
		header map[string]string
	}{
		{
			name:   "plain GET",
			method: http.MethodGet,
		},
		{
			name:   "POST",
			method: http.MethodPost,
			header: map[string]string{
				"Upgrade":               "websocket",
				"Connection":            "Upgrade",
				"Sec-WebSocket-Key":     "dGhlIHNhbXBsZSBub25jZQ==",
				"Sec-WebSocket-Version": "13",
			},
		},
		{
			name:   "bad version",
			method: http.MethodGet,
			header: map[string]string{
				"Upgrade":               "websocket",
				"Connection":            "keep-alive, Upgrade",
				"Sec-WebSocket-Key":     "dGhlIHNhbXBsZSBub25jZQ==",
				"Sec-WebSocket-Version": "8",
			},
		},
		{
			name:   "bad key",
			method: http.MethodGet,
			header: map[string]string{
				"Upgrade":               "websocket",
				"Connection":            "Upgrade",
				"Sec-WebSocket-Key":     "short",
				"Sec-WebSocket-Version": "13",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), tt.method, srv.URL+"/ws", nil)
			if err != nil {
				t.Fatalf(
					"NewRequest: %v",
					err,
				)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf(
					"request: %v",
					err,
				)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				t.Fatalf(
					"read body: %v",
					err,
				)
			}
			if resp.StatusCode != http.StatusBadRequest || len(body) != 0 {
				t.Errorf(
					"response = %d %q, want 400 with empty body",
					resp.StatusCode, body,
				)
			}
			if err := <-errs; !errors.Is(err, ErrBadHandshake) {
				t.Errorf(
					"Upgrade error = %v, want ErrBadHandshake",
					err,
				)
			}
		})
	}
}

func TestRejectWriterTurnsErrorsInto400(t *testing.T) {
	rec := httptest.NewRecorder()
	rw := &rejectWriter{w: rec}
	http.Error(rw, "not a hijacker", http.StatusInternalServerError)
	if rec.Code != http.StatusBadRequest || rec.Body.Len() != 0 {
		t.Errorf(
			"response = %d %q, want 400 with empty body",
			rec.Code, rec.Body.String(),
		)
	}
}

func TestDialRejected(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), Config{})
	if err == nil {
		t.Fatalf(
			"Dial to a non-WebSocket server succeeded",
		)
	}
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		list string
		want bool
	}{
		{
			list: "Upgrade",
			want: true,
		},
		{
			list: "keep-alive, upgrade",
			want: true,
		},
		{
			list: "keep-alive",
			want: false,
		},
		{
			list: "up grade",
			want: false,
		},
		{
			list: "",
			want: false,
		},
	}
	for _, tt := range tests {
		if got := hasToken(tt.list, "upgrade"); got != tt.want {
			t.Errorf(
				"hasToken(%q) = %v, want %v",
				tt.list, got, tt.want,
			)
		}
	}
}

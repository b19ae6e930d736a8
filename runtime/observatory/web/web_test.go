package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// get requests path from a server running Handler under /observatory/, mounted the way
// the Observatory server mounts it.
func get(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return res, string(body)
}

func newServer(t *testing.T, prefix string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/observatory/", http.StripPrefix(prefix, Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHandlerServesFiles(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"/observatory", "/observatory/"} {
		srv := newServer(t, prefix)
		cases := []struct {
			path, contentType, contains string
		}{
			{"/observatory/", "text/html; charset=utf-8", "<html"},
			{"/observatory/index.html", "text/html; charset=utf-8", `<script src="app.js"`},
			{"/observatory/app.js", "text/javascript; charset=utf-8", `["observatory", "auth"`},
			{"/observatory/style.css", "text/css; charset=utf-8", "#status"},
		}
		for _, c := range cases {
			res, body := get(t, srv, http.MethodGet, c.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("prefix %q: GET %s: status %d, want 200", prefix, c.path, res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != c.contentType {
				t.Errorf("prefix %q: GET %s: Content-Type %q, want %q", prefix, c.path, got, c.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("prefix %q: GET %s: Cache-Control %q, want no-cache", prefix, c.path, got)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'none'") {
				t.Errorf("prefix %q: GET %s: Content-Security-Policy %q lacks form-action 'none'", prefix, c.path, csp)
			}
			if !strings.Contains(body, c.contains) {
				t.Errorf("prefix %q: GET %s: body lacks %q", prefix, c.path, c.contains)
			}
		}
	}
}

func TestHandlerUnknownFile(t *testing.T) {
	t.Parallel()
	srv := newServer(t, "/observatory")
	for _, path := range []string{"/observatory/nope.js", "/observatory/static/app.js", "/observatory/../web.go", "/observatory/app.js/"} {
		res, _ := get(t, srv, http.MethodGet, path, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, res.StatusCode)
		}
	}
}

func TestHandlerRevalidatesAndRefusesWrites(t *testing.T) {
	t.Parallel()
	srv := newServer(t, "/observatory")
	res, body := get(t, srv, http.MethodGet, "/observatory/app.js", nil)
	etag := res.Header.Get("ETag")
	if etag == "" || body == "" {
		t.Fatalf("GET app.js: ETag %q, %d bytes", etag, len(body))
	}
	res, body = get(t, srv, http.MethodGet, "/observatory/app.js", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("GET app.js with its ETag: status %d and %d bytes, want 304 and none", res.StatusCode, len(body))
	}
	res, body = get(t, srv, http.MethodHead, "/observatory/", nil)
	if res.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD /observatory/: status %d and %d bytes, want 200 and none", res.StatusCode, len(body))
	}
	res, _ = get(t, srv, http.MethodPost, "/observatory/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /observatory/: status %d Allow %q, want 405 with GET, HEAD", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestPageEscapesData(t *testing.T) {
	t.Parallel()
	srv := newServer(t, "/observatory")
	_, js := get(t, srv, http.MethodGet, "/observatory/app.js", nil)
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %s: data must be written with textContent", bad)
		}
	}
	if strings.Contains(js, "localStorage") {
		t.Error("app.js uses localStorage: the token belongs in sessionStorage only")
	}
}

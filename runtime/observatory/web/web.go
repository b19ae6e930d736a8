// Package web is the Observatory's web page (docs/observatory.md): static files embedded in
// the binary, a plain-JavaScript client of the /observatory topic-channel WebSocket.
//
// Handler serves the files of static/ by name, index.html at the root. The server mounts it
// under /observatory/ with http.StripPrefix, so the page's own URLs are relative: the
// scripts and styles sit beside index.html and the page opens its WebSocket on the path of
// its directory without the trailing slash (/observatory). Every answer carries
// Cache-Control: no-cache (browsers revalidate with the file's ETag, a hash of its content,
// so a new binary's page is picked up at once) and a Content-Security-Policy that allows
// only the page's own scripts and styles, WebSocket connections and no form submission: the
// token the page asks for never leaves it but in the socket's first frame.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy is sent with every file: the page loads nothing but its own files
// and talks to nothing but the server's WebSocket.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; " +
	"frame-ancestors 'none'"

// file is one embedded file, read once.
type file struct {
	data        []byte
	contentType string
	etag        string
}

// handler serves the embedded files from memory.
type handler struct {
	files map[string]file
}

// Handler returns the handler of the page's files: "/" and "/index.html" answer index.html,
// "/app.js" and the other files of static/ answer themselves (a leading slash is optional,
// so both http.StripPrefix("/observatory") and http.StripPrefix("/observatory/") work),
// anything else 404. Only GET and HEAD are accepted (405 otherwise).
func Handler() http.Handler {
	files, err := load(static, "static")
	if err != nil {
		// The files are compiled in; failing to read them is a broken build, reported as
		// 500s rather than a panic.
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "observatory page unavailable: "+err.Error(), http.StatusInternalServerError)
		})
	}
	return &handler{files: files}
}

// load reads every regular file under dir of fsys, keyed by its path relative to dir.
func load(fsys fs.FS, dir string) (map[string]file, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("web: open %s: %w", dir, err)
	}
	files := make(map[string]file)
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, name)
		if err != nil {
			return fmt.Errorf("web: read %s: %w", name, err)
		}
		sum := sha256.Sum256(data)
		files[name] = file{
			data:        data,
			contentType: contentType(name),
			etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: walk %s: %w", dir, err)
	}
	return files, nil
}

// contentType returns the content type of a file name by its extension. The table is fixed
// here rather than taken from the system's MIME tables so every machine serves the same
// headers.
func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// ServeHTTP answers one request for a file.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" {
		name = "index.html"
	}
	f, ok := h.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", f.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	// ServeContent answers If-None-Match with 304, ranges and HEAD.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}

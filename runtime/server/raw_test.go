package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/transport"
)

// rawPeer sees every frame the server sends, unparsed: for the bad-input table.
type rawPeer struct {
	t      *testing.T
	ws     *transport.Conn
	frames chan []byte
	closed chan transport.CloseInfo
}

func (e *env) dialRaw(cfg transport.Config) *rawPeer {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, err := transport.Dial(ctx, e.ws, cfg)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	r := &rawPeer{t: e.t, ws: ws, frames: make(chan []byte, 1024), closed: make(chan transport.CloseInfo, 1)}
	go func() {
		r.closed <- ws.Serve(context.Background(), func(b []byte) {
			select {
			case r.frames <- b:
			default:
			}
		})
	}()
	e.t.Cleanup(func() { _ = ws.Close(transport.CloseNormal, "") })
	return r
}

func (r *rawPeer) send(s string) {
	r.t.Helper()
	if err := r.ws.Send([]byte(s)); err != nil {
		r.t.Fatalf("send: %v", err)
	}
}

// next returns the next frame as a generic JSON object.
func (r *rawPeer) next() map[string]any {
	r.t.Helper()
	select {
	case b := <-r.frames:
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			r.t.Fatalf("server sent invalid JSON %q: %v", b, err)
		}
		return m
	case <-time.After(5 * time.Second):
		r.t.Fatal("no frame from the server within 5s")
		return nil
	}
}

// errorCode returns the code and id of an error response.
func errorCode(t *testing.T, m map[string]any) (code int64, id any) {
	t.Helper()
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("want an error response, got %v", m)
	}
	return int64(e["code"].(float64)), m["id"]
}

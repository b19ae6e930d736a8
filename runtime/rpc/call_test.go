package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/wire"
)

// echo answers every request with {"method":..., "params":...}.
func echo() Handler {
	return HandlerFuncs{Request: func(_ context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
		if params == nil {
			params = json.RawMessage(`null`)
		}
		return json.RawMessage(fmt.Sprintf(`{"method":%q,"params":%s}`, method, params)), nil
	}}
}

// blockUntilCancel answers nothing until its context ends.
func blockUntilCancel() Handler {
	return HandlerFuncs{Request: func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
}

func TestCallResponse(t *testing.T) {
	pr := newPair(t, Options{IDPrefix: "c"}, Options{}, nil, echo())
	res, err := pr.client.Call(context.Background(), "network/ping", json.RawMessage(`{"a":1}`))
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if got, want := string(res), `{"method":"network/ping","params":{"a":1}}`; got != want {
		t.Fatalf("result = %s, want %s", got, want)
	}
	res, err = pr.client.Call(context.Background(), "m", nil)
	if err != nil || string(res) != `{"method":"m","params":null}` {
		t.Fatalf("Call without params = %s, %v", res, err)
	}
	cs, ss := pr.client.Stats(), pr.server.Stats()
	if cs.RequestsOut != 2 || cs.ResponsesIn != 2 || cs.Pending != 0 {
		t.Errorf("client stats = %+v", cs)
	}
	waitFor(t, "server stats", func() bool { return pr.server.Stats().ResponsesOut == 2 })
	if ss.RequestsIn != 2 {
		t.Errorf("server stats = %+v", ss)
	}
}

func TestCallIDs(t *testing.T) {
	rec := &recorder{}
	p := NewPeer(rec, nil, Options{IDPrefix: "tm"})
	defer p.Close(nil)
	for i := 0; i < 2; i++ {
		go func() { _, _ = p.Call(context.Background(), "x", nil) }() // fails with ErrClosed at the deferred Close
	}
	waitFor(t, "two requests", func() bool { return p.Stats().RequestsOut == 2 })
	got := rec.take()
	ids := map[string]bool{}
	for _, f := range got {
		fr, err := wire.Parse([]byte(f))
		if err != nil || fr.Kind != wire.KindRequest {
			t.Fatalf("bad frame %s", f)
		}
		ids[fr.ID] = true
	}
	if !ids["tm-1"] || !ids["tm-2"] {
		t.Errorf("ids = %v, want tm-1 and tm-2", ids)
	}

	def := NewPeer(rec, nil, Options{})
	defer def.Close(nil)
	if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(def.prefix) {
		t.Errorf("default prefix %q is not 8 hex digits", def.prefix)
	}
}

func TestCallErrorResponse(t *testing.T) {
	h := HandlerFuncs{Request: func(_ context.Context, method string, _ json.RawMessage) (json.RawMessage, error) {
		switch method {
		case "typed":
			return nil, fmt.Errorf("wrapped: %w", &wire.Error{Code: -32020, Message: "Task is closed", Data: json.RawMessage(`{"reason":"TaskClosed","taskId":"t1"}`)})
		case "plain":
			return nil, errors.New("secret database detail")
		case "panic":
			panic("boom")
		default:
			return nil, wire.MethodNotFound(method)
		}
	}}
	logs := newCountHandler()
	pr := newPair(t, Options{}, Options{Logger: slog.New(logs)}, nil, h)
	ctx := context.Background()

	_, err := pr.client.Call(ctx, "typed", nil)
	var we *wire.Error
	if !errors.As(err, &we) {
		t.Fatalf("err = %v (%T), want *wire.Error", err, err)
	}
	if we.Code != -32020 || we.Message != "Task is closed" || string(we.Data) != `{"reason":"TaskClosed","taskId":"t1"}` {
		t.Errorf("wire error = %+v", we)
	}

	_, err = pr.client.Call(ctx, "plain", nil)
	if !errors.As(err, &we) || we.Code != wire.CodeInternalError || we.Message != "Internal error" || we.Data != nil {
		t.Errorf("plain error -> %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("internal detail leaked: %v", err)
	}

	_, err = pr.client.Call(ctx, "panic", nil)
	if !errors.As(err, &we) || we.Code != wire.CodeInternalError {
		t.Errorf("panic -> %v", err)
	}

	_, err = pr.client.Call(ctx, "nope/nope", nil)
	if !errors.As(err, &we) || we.Code != wire.CodeMethodNotFound || we.Message != "Unknown method: nope/nope" {
		t.Errorf("unknown method -> %v", err)
	}
	// The plain error and the panic are logged, typed errors are not.
	if n := logs.count(slog.LevelError); n != 2 {
		t.Errorf("error logs = %d, want 2 (%v)", n, *logs.msgs)
	}
}

func TestCallTimeout(t *testing.T) {
	pr := newPair(t, Options{CallTimeout: 30 * time.Millisecond}, Options{}, nil, blockUntilCancel())
	start := time.Now()
	_, err := pr.client.Call(context.Background(), "slow/method", nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "slow/method") {
		t.Errorf("error %q does not name the method", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %v", d)
	}
	if n := pr.client.Stats().Pending; n != 0 {
		t.Errorf("pending after timeout = %d", n)
	}
}

func TestCallContextDeadlineEarlierThanTimeout(t *testing.T) {
	pr := newPair(t, Options{CallTimeout: time.Hour}, Options{}, nil, blockUntilCancel())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := pr.client.Call(ctx, "m", nil)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestCallTimeoutShorterThanContextDeadline(t *testing.T) {
	pr := newPair(t, Options{CallTimeout: 20 * time.Millisecond}, Options{}, nil, blockUntilCancel())
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if _, err := pr.client.Call(ctx, "m", nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

func TestCallContextCancel(t *testing.T) {
	pr := newPair(t, Options{}, Options{}, nil, blockUntilCancel())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := pr.client.Call(ctx, "m", nil)
		errc <- err
	}()
	waitFor(t, "call pending", func() bool { return pr.client.Stats().Pending == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := pr.client.Stats().Pending; n != 0 {
		t.Errorf("pending after cancel = %d", n)
	}
	// An already cancelled context sends nothing.
	before := pr.client.Stats().RequestsOut
	if _, err := pr.client.Call(ctx, "m", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if pr.client.Stats().RequestsOut != before {
		t.Errorf("request sent with a cancelled context")
	}
}

func TestCloseFailsPending(t *testing.T) {
	pr := newPair(t, Options{}, Options{}, nil, blockUntilCancel())
	const n = 5
	errc := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, err := pr.client.Call(context.Background(), "m", nil)
			errc <- err
		}()
	}
	waitFor(t, "calls pending", func() bool { return pr.client.Stats().Pending == n })
	cause := errors.New("socket closed: 1006")
	pr.client.Close(cause)
	pr.client.Close(errors.New("second close is ignored"))
	for i := 0; i < n; i++ {
		err := <-errc
		if !errors.Is(err, ErrClosed) || !errors.Is(err, cause) {
			t.Errorf("err = %v, want ErrClosed wrapping cause", err)
		}
	}
	if !errors.Is(pr.client.Err(), cause) {
		t.Errorf("Err() = %v", pr.client.Err())
	}
	select {
	case <-pr.client.Done():
	default:
		t.Error("Done not closed")
	}
}

func TestCallsAfterClose(t *testing.T) {
	rec := &recorder{}
	p := NewPeer(rec, nil, Options{})
	if p.Err() != nil {
		t.Fatalf("Err before close = %v", p.Err())
	}
	p.Close(nil)
	if _, err := p.Call(context.Background(), "m", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Call after close: %v", err)
	}
	if err := p.Notify("n", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Notify after close: %v", err)
	}
	if err := p.SendRaw([]byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("SendRaw after close: %v", err)
	}
	p.HandleFrame(context.Background(), []byte(`{"jsonrpc":"2.0","id":"x","method":"m"}`))
	p.HandleFrame(context.Background(), []byte(`garbage`))
	if got := rec.take(); len(got) != 0 {
		t.Errorf("sent after close: %v", got)
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Errorf("Wait: %v", err)
	}
}

func TestSendFailure(t *testing.T) {
	pr := newPair(t, Options{}, Options{}, nil, echo())
	sendErr := errors.New("write queue full")
	pr.c2s.setFail(sendErr)
	if _, err := pr.client.Call(context.Background(), "m", nil); !errors.Is(err, sendErr) {
		t.Fatalf("Call err = %v, want send error", err)
	}
	if err := pr.client.Notify("n", nil); !errors.Is(err, sendErr) {
		t.Fatalf("Notify err = %v", err)
	}
	if err := pr.client.SendRaw([]byte(`{}`)); !errors.Is(err, sendErr) {
		t.Fatalf("SendRaw err = %v", err)
	}
	if s := pr.client.Stats(); s.Pending != 0 || s.RequestsOut != 0 {
		t.Errorf("stats after failed send = %+v", s)
	}
	pr.c2s.setFail(nil)
	if _, err := pr.client.Call(context.Background(), "m", nil); err != nil {
		t.Fatalf("Call after recovery: %v", err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	pr := newPair(t, Options{}, Options{MaxConcurrentInbound: 8}, nil, echo())
	const goroutines, calls = 50, 40
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				params := json.RawMessage(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i))
				res, err := pr.client.Call(context.Background(), "echo", params)
				if err != nil {
					errc <- err
					return
				}
				if want := fmt.Sprintf(`{"method":"echo","params":%s}`, params); string(res) != want {
					errc <- fmt.Errorf("got %s, want %s", res, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if s := pr.client.Stats(); s.ResponsesIn != goroutines*calls || s.Pending != 0 {
		t.Errorf("client stats = %+v", s)
	}
}

func TestServerCallsIntoClient(t *testing.T) {
	// REFERENCE 11: the server calls back into a TaskMaster client on the
	// same socket while the client also calls the server.
	tm := HandlerFuncs{Request: func(_ context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
		if method != "task/create" {
			return nil, wire.MethodNotFound(method)
		}
		return json.RawMessage(`{"verdict":"accept"}`), nil
	}}
	var pr *pair
	srv := HandlerFuncs{Request: func(ctx context.Context, method string, _ json.RawMessage) (json.RawMessage, error) {
		// The server handler of task/request awaits the TM callback.
		return pr.server.Call(ctx, "task/create", json.RawMessage(`{"taskId":"t"}`))
	}}
	pr = newPair(t, Options{}, Options{IDPrefix: "srv"}, tm, srv)
	res, err := pr.client.Call(context.Background(), "task/request", json.RawMessage(`{}`))
	if err != nil || string(res) != `{"verdict":"accept"}` {
		t.Fatalf("task/request = %s, %v", res, err)
	}
	_, err = pr.server.Call(context.Background(), "not/a/callback", nil)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CodeMethodNotFound {
		t.Fatalf("unknown callback err = %v", err)
	}
}

func TestNotificationsInOrder(t *testing.T) {
	var mu sync.Mutex
	var got []string
	client := HandlerFuncs{Notification: func(_ context.Context, method string, params json.RawMessage) {
		mu.Lock()
		got = append(got, method+" "+string(params)) // copies params
		mu.Unlock()
	}}
	pr := newPair(t, Options{}, Options{}, client, nil)
	const n = 500
	for i := 0; i < n; i++ {
		if err := pr.server.Notify("messages/received", json.RawMessage(fmt.Sprintf(`{"seq":"%d"}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	raw := wire.EncodeNotification("presence/changed", json.RawMessage(`{"status":"online"}`))
	if err := pr.server.SendRaw(raw); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "notifications", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == n+1 })
	for i := 0; i < n; i++ {
		if want := fmt.Sprintf(`messages/received {"seq":"%d"}`, i); got[i] != want {
			t.Fatalf("notification %d = %s, want %s", i, got[i], want)
		}
	}
	if got[n] != `presence/changed {"status":"online"}` {
		t.Errorf("raw notification = %s", got[n])
	}
	if s := pr.server.Stats(); s.NotificationsOut != n || s.RawOut != 1 {
		t.Errorf("server stats = %+v", s)
	}
	if s := pr.client.Stats(); s.NotificationsIn != n+1 {
		t.Errorf("client stats = %+v", s)
	}
}

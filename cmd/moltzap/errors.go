package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/wire"
	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the server's error, a network error, interruption
	exitUsage   = 2 // bad flag or argument
)

// exitError carries the exit code of an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// hintError adds a suggestion, printed on a line of its own after the error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// hintOf returns the suggestion attached to err, if any.
func hintOf(err error) string {
	var he *hintError
	if errors.As(err, &he) {
		return he.hint
	}
	return ""
}

// usagef is a usage error (exit 2); the message names the flag or argument.
func usagef(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to the process exit code. Errors cobra produces itself (unknown
// command or flag, missing required flag) are usage errors; every error of a command body
// is wrapped by runE.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

// runE adapts a command body: its errors are failures (exit 1) unless they are already
// usage errors; a body ended by SIGINT/SIGTERM reports "interrupted".
func runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		if ctx := cmd.Context(); ctx != nil && errors.Is(ctx.Err(), context.Canceled) { // SIGINT or SIGTERM
			return &exitError{code: exitFailure, err: errors.New("interrupted")}
		}
		return &exitError{code: exitFailure, err: err}
	}
}

// httpFailure renders a refusal of a registration endpoint as "HTTP 409 Name taken
// (NAME_TAKEN)"; other errors are returned as they are.
func httpFailure(err error) error {
	var he *client.HTTPError
	if !errors.As(err, &he) {
		return err
	}
	msg := fmt.Sprintf("HTTP %d", he.Status)
	if he.Message != "" {
		msg += " " + he.Message
	}
	if he.Code != "" {
		msg += " (" + he.Code + ")"
	}
	return errors.New(msg)
}

// errorNames maps registry codes to their names (Forbidden, TaskRejected, ...).
var errorNames = func() map[int64]string {
	m := map[int64]string{}
	for _, e := range protocol.Catalog().Errors {
		m[e.Code] = e.Name
	}
	return m
}()

// serverError returns the JSON-RPC error object in err's chain, if any.
func serverError(err error) (wire.Error, bool) {
	var coded wire.Coded
	if errors.As(err, &coded) {
		return coded.WireError(), true
	}
	return wire.Error{}, false
}

// describeError is the text printed after "moltzap: ". A server error reads
// "server error -32001 Forbidden: Caller is not the registered task manager for this task",
// followed by its data fields in parentheses when it has any.
func describeError(err error) string {
	w, ok := serverError(err)
	if !ok {
		// The client library prefixes its errors with "moltzap: "; the CLI prints it once.
		return strings.ReplaceAll(err.Error(), "moltzap: ", "")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "server error %d", w.Code)
	if name := errorNames[w.Code]; name != "" {
		b.WriteString(" " + name)
	}
	b.WriteString(": " + w.Message)
	if d := describeData(w.Data); d != "" {
		b.WriteString(" (" + d + ")")
	}
	return b.String()
}

// describeData renders an error's data object as "key: value, ..." (sorted keys).
func describeData(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		if s := strings.TrimSpace(string(raw)); s != "null" {
			return "data: " + s
		}
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		var v string
		switch x := m[k].(type) {
		case string:
			v = x
		case []any:
			items := make([]string, len(x))
			for i, it := range x {
				items[i] = fmt.Sprint(it)
			}
			v = "[" + strings.Join(items, ", ") + "]"
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		parts = append(parts, k+": "+v)
	}
	return strings.Join(parts, ", ")
}

package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/moltzap/moltzap-go/internal/buildinfo"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// usageError is a bad flag or argument (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

// runError is a failure while running (exit code 1).
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

func isRunError(err error) bool {
	var re *runError
	return errors.As(err, &re)
}

// maxHeaderBytes bounds the request line and headers of an HTTP request (or upgrade).
const maxHeaderBytes = 16 << 10

type options struct {
	addr, data, adminSecret, logLevel, logFormat string
	contactPolicy                                bool
	limits                                       server.Limits
	hookTimeout, leaseTTL, shutdownTimeout       time.Duration
	authTimeout                                  time.Duration
	authAttempts, unauthRequests, authFailures   int
	readLimit                                    int64
	writeQueue                                   int
	httpRead, httpWrite, httpIdle                time.Duration
}

func newRootCmd() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Version:       buildinfo.Read().String(),
		Use:           "moltzap-server",
		Short:         "Run a MoltZap server (WebSocket JSON-RPC at /ws) on its embedded SQLite store",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return &usageError{err}
			}
			if err := o.validate(); err != nil {
				return &usageError{err}
			}
			if err := serve(cmd.Context(), o, cmd.ErrOrStderr()); err != nil {
				return &runError{err}
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address (host:port)")
	f.StringVar(&o.data, "data", "./moltzap-data", "directory of the embedded SQLite store")
	f.StringVar(&o.adminSecret, "admin-secret", "", "registration secret: requires an invite code and enables /api/v1/admin/register-agent")
	f.BoolVar(&o.contactPolicy, "contact-policy", false, "require owners to be contacts for task invitations (presence is always limited to visible agents)")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&o.logFormat, "log-format", "auto", "log format: auto (text on a terminal, JSON otherwise), text, json")
	f.IntVar(&o.limits.MessagesPerMinute, "messages-per-minute", 60, "messages/send allowed per agent per minute")
	f.IntVar(&o.limits.RequestsPerMinute, "requests-per-minute", 120, "requests allowed per agent per minute")
	f.IntVar(&o.limits.MaxGroupParticipants, "max-group-participants", 256, "members of a conversation, creator included")
	f.DurationVar(&o.limits.HeartbeatInterval, "heartbeat", 30*time.Second, "WebSocket ping interval; 3 missed intervals close the socket")
	f.Int64Var(&o.readLimit, "read-limit", 1<<20, "largest accepted WebSocket message in bytes (bigger closes with 1009)")
	f.IntVar(&o.writeQueue, "write-queue", 256, "outbound messages queued per connection before it is closed as a slow consumer")
	f.DurationVar(&o.authTimeout, "auth-timeout", 10*time.Second, "close a socket that has not completed network/connect within this time (1008)")
	f.IntVar(&o.authAttempts, "auth-max-attempts", 10, "network/connect attempts allowed per socket before it is closed (1008)")
	f.IntVar(&o.unauthRequests, "unauth-max-requests", 32, "requests allowed per socket before it authenticates; more close it (1008)")
	f.IntVar(&o.authFailures, "auth-failures-per-minute", 60, "failed network/connect allowed per remote IP per minute (-32004 beyond)")
	f.DurationVar(&o.hookTimeout, "hook-timeout", 5*time.Second, "default TaskMaster callback timeout")
	f.DurationVar(&o.leaseTTL, "lease-ttl", 90*time.Second, "default dispatch lease timeout")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take")
	f.DurationVar(&o.httpRead, "http-read-timeout", 15*time.Second, "longest time to read one HTTP request, body included (WebSockets are not affected)")
	f.DurationVar(&o.httpWrite, "http-write-timeout", 30*time.Second, "longest time to write one HTTP response (WebSockets are not affected)")
	f.DurationVar(&o.httpIdle, "http-idle-timeout", 60*time.Second, "how long an idle keep-alive HTTP connection is kept")
	_ = cmd.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"auto", "text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// envName maps a flag to its environment variable: --admin-secret -> MOLTZAP_ADMIN_SECRET.
func envName(flag string) string {
	return "MOLTZAP_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its environment variable.
func applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment %s: invalid value %q for --%s: %v", envName(f.Name), v, f.Name, e)
			}
		}
	})
	return err
}

func (o options) validate() error {
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return fmt.Errorf("--addr %q: want host:port", o.addr)
	}
	if o.data == "" {
		return errors.New("--data must name a directory")
	}
	if _, err := parseLevel(o.logLevel); err != nil {
		return err
	}
	switch o.logFormat {
	case "auto", "text", "json":
	default:
		return fmt.Errorf("--log-format %q: want auto, text or json", o.logFormat)
	}
	for name, v := range map[string]int{"--messages-per-minute": o.limits.MessagesPerMinute, "--requests-per-minute": o.limits.RequestsPerMinute,
		"--max-group-participants": o.limits.MaxGroupParticipants, "--write-queue": o.writeQueue,
		"--auth-max-attempts": o.authAttempts, "--unauth-max-requests": o.unauthRequests, "--auth-failures-per-minute": o.authFailures} {
		if v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", name, v)
		}
	}
	for name, v := range map[string]time.Duration{"--heartbeat": o.limits.HeartbeatInterval, "--hook-timeout": o.hookTimeout,
		"--lease-ttl": o.leaseTTL, "--shutdown-timeout": o.shutdownTimeout, "--auth-timeout": o.authTimeout,
		"--http-read-timeout": o.httpRead, "--http-write-timeout": o.httpWrite, "--http-idle-timeout": o.httpIdle} {
		if v <= 0 {
			return fmt.Errorf("%s must be positive, got %s", name, v)
		}
	}
	if o.readLimit < 1024 {
		return fmt.Errorf("--read-limit must be at least 1024 bytes, got %d", o.readLimit)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(o options, w io.Writer) *slog.Logger {
	level, _ := parseLevel(o.logLevel)
	opts := &slog.HandlerOptions{Level: level}
	text := o.logFormat == "text"
	if o.logFormat == "auto" {
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				text = true
			}
		}
	}
	if text {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// serve runs the server until ctx ends, then shuts it down gracefully.
func serve(ctx context.Context, o options, logOut io.Writer) error {
	log := newLogger(o, logOut)
	st, err := sqlite.Open(ctx, o.data)
	if err != nil {
		return fmt.Errorf("open store in %s: %w", o.data, err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	srv, err := server.New(server.Config{
		AdminSecret: o.adminSecret, ContactPolicy: o.contactPolicy, Limits: o.limits, ReadLimit: o.readLimit, WriteQueueLen: o.writeQueue,
		HookTimeout: o.hookTimeout, LeaseTTL: o.leaseTTL, Logger: log,
		AuthTimeout: o.authTimeout, MaxAuthAttempts: o.authAttempts, MaxUnauthRequests: o.unauthRequests, AuthFailuresPerMinute: o.authFailures,
	}, st)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: min(10*time.Second, o.httpRead),
		ReadTimeout: o.httpRead, WriteTimeout: o.httpWrite, IdleTimeout: o.httpIdle, MaxHeaderBytes: maxHeaderBytes}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("moltzap server listening", "addr", ln.Addr().String(), "data", o.data, "ws", "ws://"+ln.Addr().String()+"/ws")
	select {
	case err := <-errc:
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil { // stop accepting; plain HTTP requests finish
		log.Warn("http shutdown", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil { // close sockets with 1001, drain writes
		log.Warn("server shutdown", "err", err)
	}
	log.Info("stopped")
	return nil
}

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
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/moltzap/moltzap-go/runtime/server"
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
	// App allowlist (--app-allowlist JSON file).
	appAllowlist string
	// Webhooks (delivery, contact policy).
	deliveryWebhook, deliverySecret, contactWebhook string
	contactTimeout, contactCacheTTL                 time.Duration
	// Sessions, metrics listener, browser origins.
	sessionValidator, metricsAddr string
	pprofAddr                     string
	sessionTimeout                time.Duration
	allowedOrigins                []string
	// PostgreSQL store instead of the embedded SQLite one (--database-url).
	databaseURL string
	// Cluster: NATS fan-out between nodes (bus.go).
	natsURL, natsPrefix, nodeID string
	// Observatory (the read-only live view at /observatory).
	observatoryToken    string
	observatoryMaxConns int
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
	f.StringVar(&o.data, "data", "./moltzap-data", "directory of the embedded SQLite store (unused with --database-url)")
	f.StringVar(&o.databaseURL, "database-url", "", "postgres://... URL: keep everything in PostgreSQL instead of the embedded SQLite store (for several nodes)")
	f.StringVar(&o.natsURL, "nats-url", "", "nats://host:4222 (comma-separated for several): fan out through NATS to the other nodes of a cluster (needs --database-url)")
	f.StringVar(&o.natsPrefix, "nats-prefix", "moltzap", "NATS subject prefix of the cluster (clusters sharing a NATS need different ones)")
	f.StringVar(&o.nodeID, "node-id", defaultNodeID(), "this node's name in the cluster (letters, digits, '_' or '-'; default random)")
	f.StringVar(&o.adminSecret, "admin-secret", "", "registration secret: requires an invite code and enables /api/v1/admin/register-agent")
	f.BoolVar(&o.contactPolicy, "contact-policy", false, "require owners to be contacts for task invitations (presence is always limited to visible agents)")
	// Webhooks (delivery, contact policy).
	f.StringVar(&o.deliveryWebhook, "delivery-webhook", "", "URL POSTed {conversationId, messageId, offlineRecipientAgentIds} for recipients of a message with no live connection")
	f.StringVar(&o.deliverySecret, "delivery-webhook-secret", "", "HMAC-SHA256 key of the delivery webhook's X-MoltZap-Signature (required with --delivery-webhook)")
	f.StringVar(&o.contactWebhook, "contact-webhook", "", "URL answering POST {userA, userB} with {inContact}: the contact predicate of --contact-policy (fails closed)")
	f.DurationVar(&o.contactTimeout, "contact-webhook-timeout", 2*time.Second, "timeout of one contact webhook request (a timeout means not in contact)")
	f.DurationVar(&o.contactCacheTTL, "contact-webhook-cache-ttl", 0, "cache contact webhook answers this long (0: no cache)")
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
	f.StringVar(&o.appAllowlist, "app-allowlist", "", `JSON file {"<appId>": ["<ownerUserId>", ...]}: a listed app may be apps/register-ed only by its owners' agents; "*" lists the owners of every unlisted app ({"*": []}: only listed apps)`)
	f.StringVar(&o.sessionValidator, "session-validator", "", "URL of the session-token webhook validator (REFERENCE 6.3); without it sessionToken connects are refused")
	f.DurationVar(&o.sessionTimeout, "session-validator-timeout", 5*time.Second, "timeout of one session validator request (a timeout refuses the token)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve /metrics on this address instead of the public one")
	f.StringVar(&o.pprofAddr, "pprof-addr", "", "serve the Go runtime's profiles (/debug/pprof/) on this address (keep it private: loopback or an admin network)")
	f.StringVar(&o.observatoryToken, "observatory-token", "", "serve the Observatory (live read-only view: WebSocket /observatory, page /observatory/) to holders of this token (default: the --admin-secret, if any)")
	f.IntVar(&o.observatoryMaxConns, "observatory-max-conns", 100, "open Observatory sockets allowed; more are closed with 1008")
	f.StringSliceVar(&o.allowedOrigins, "allowed-origins", nil, "comma-separated origins allowed to open a WebSocket from a browser (default: any)")
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
		"--auth-max-attempts": o.authAttempts, "--observatory-max-conns": o.observatoryMaxConns, "--unauth-max-requests": o.unauthRequests, "--auth-failures-per-minute": o.authFailures} {
		if v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", name, v)
		}
	}
	for name, v := range map[string]time.Duration{"--heartbeat": o.limits.HeartbeatInterval, "--hook-timeout": o.hookTimeout,
		"--lease-ttl": o.leaseTTL, "--shutdown-timeout": o.shutdownTimeout, "--auth-timeout": o.authTimeout,
		"--http-read-timeout": o.httpRead, "--http-write-timeout": o.httpWrite, "--http-idle-timeout": o.httpIdle,
		"--session-validator-timeout": o.sessionTimeout} {
		if v <= 0 {
			return fmt.Errorf("%s must be positive, got %s", name, v)
		}
	}
	if o.sessionValidator != "" {
		if u, err := url.Parse(o.sessionValidator); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--session-validator %q: want an http(s) URL", o.sessionValidator)
		}
	}
	if o.pprofAddr != "" {
		if _, _, err := net.SplitHostPort(o.pprofAddr); err != nil {
			return fmt.Errorf("--pprof-addr %q: want host:port", o.pprofAddr)
		}
	}
	if o.metricsAddr != "" {
		if _, _, err := net.SplitHostPort(o.metricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr %q: want host:port", o.metricsAddr)
		}
	}
	if err := o.validateWebhooks(); err != nil {
		return err
	}
	if err := validateDatabaseURL(o.databaseURL); err != nil {
		return err
	}
	if err := validateCluster(o); err != nil {
		return err
	}
	if _, err := loadAppAllowlist(o.appAllowlist); err != nil {
		return err
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
	st, where, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	fanout, err := openBus(ctx, o, log)
	if err != nil {
		return err
	}
	// Closed after the server's shutdown (below) and before the store's.
	defer closeBus(fanout, o.shutdownTimeout, log)
	allowlist, err := loadAppAllowlist(o.appAllowlist) // checked by validate; read once more here
	if err != nil {
		return err
	}
	view, err := newObservatory(o, log)
	if err != nil {
		return err
	}
	cfg := server.Config{
		AdminSecret: o.adminSecret, ContactPolicy: o.contactPolicy, Limits: o.limits, ReadLimit: o.readLimit, WriteQueueLen: o.writeQueue,
		HookTimeout: o.hookTimeout, LeaseTTL: o.leaseTTL, Logger: log,
		AppAllowlist:    allowlist,
		DeliveryWebhook: o.deliveryWebhook, DeliveryWebhookSecret: o.deliverySecret,
		ContactWebhook: o.contactWebhook, ContactWebhookTimeout: o.contactTimeout, ContactWebhookCacheTTL: o.contactCacheTTL,
		AuthTimeout: o.authTimeout, MaxAuthAttempts: o.authAttempts, MaxUnauthRequests: o.unauthRequests, AuthFailuresPerMinute: o.authFailures,
		SeparateMetrics: o.metricsAddr != "", AllowedOrigins: o.allowedOrigins,
		SessionValidator: sessionValidator(o),
		SharedStore:      o.databaseURL != "", // other nodes may write the same database
		Bus:              fanout, NodeID: o.nodeID,
	}
	if view != nil {
		cfg.Feed = view
	}
	srv, err := server.New(cfg, st)
	if err != nil {
		return err
	}
	attachObservatory(view, srv)
	// No TCP keep-alive probes: WebSocket heartbeats find dead peers, HTTP has its idle
	// timeout, and each accepted socket is spared four setsockopt calls.
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(ctx, "tcp", o.addr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	if o.pprofAddr != "" {
		stop, err := servePprof(o.pprofAddr, log)
		if err != nil {
			_ = srv.Shutdown(context.Background())
			return err
		}
		defer stop()
	}
	if o.metricsAddr != "" {
		stop, err := serveMetrics(o.metricsAddr, srv.MetricsHandler(), log)
		if err != nil {
			_ = srv.Shutdown(context.Background())
			return err
		}
		defer stop()
	}
	headerTimeout := min(10*time.Second, o.httpRead)
	httpLn, err := srv.Listener(ln, headerTimeout) // /ws straight from the socket, the rest to hs
	if err != nil {
		_ = ln.Close()
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	hs := &http.Server{Handler: withObservatory(srv.Handler(), view), ReadHeaderTimeout: headerTimeout,
		ReadTimeout: o.httpRead, WriteTimeout: o.httpWrite, IdleTimeout: o.httpIdle, MaxHeaderBytes: maxHeaderBytes}
	if view != nil {
		hs.ConnContext = view.ConnContext // sockets beyond the Observatory's cap: the last accepted
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(httpLn) }()
	log.Info("moltzap server listening", "addr", ln.Addr().String(), "store", where, "ws", "ws://"+ln.Addr().String()+"/ws",
		"node", o.nodeID, "cluster", o.natsURL != "")
	if view != nil {
		log.Info("observatory on", "page", "http://"+ln.Addr().String()+observatoryPagePath, "ws", "ws://"+ln.Addr().String()+observatorySocketPath)
	}
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
	shutdownObservatory(sctx, view, log)
	if err := srv.Shutdown(sctx); err != nil { // close sockets with 1001, drain writes
		log.Warn("server shutdown", "err", err)
	}
	log.Info("stopped")
	return nil
}

// sessionValidator is the webhook validator of --session-validator, or nil.
func sessionValidator(o options) server.SessionValidator {
	if o.sessionValidator == "" {
		return nil
	}
	return server.WebhookValidator{URL: o.sessionValidator, Timeout: o.sessionTimeout}
}

// serveMetrics serves /metrics on its own listener (--metrics-addr); stop closes it.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = ms.Serve(ln) }()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return func() { _ = ms.Close() }, nil
}

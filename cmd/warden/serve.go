package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/warden-safety/warden/api"
	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/board"
	"github.com/warden-safety/warden/config"
	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/gateway"
	"github.com/warden-safety/warden/internal/keyhash"
	"github.com/warden-safety/warden/policy"
)

func init() {
	register(&command{
		name:  "serve",
		usage: "run the gateway: an OpenAI/Anthropic-compatible proxy that guards every prompt and answer",
		help: `Usage: warden serve [--config FILE] [--addr HOST:PORT] [--policy FILE]

Runs Warden's gateway. Clients call it as they would call OpenAI
(POST /v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings,
GET /v1/models) or Anthropic (POST /v1/messages), streamed or not; Warden
scans everything the model will read and everything it writes, applies the
policy, and answers in the provider's own format. It also serves the
moderation API (/v1/moderations, /v1/check), /healthz, /readyz and /metrics.

Without a configuration file it listens on 127.0.0.1:8080 with the built-in
policy and the built-in echo model "warden-echo" (no API key needed):

  warden serve &
  curl -s localhost:8080/v1/chat/completions -d '{"model":"warden-echo","messages":[{"role":"user","content":"hi"}]}'

The configuration file (see examples/warden.yaml) names the upstreams
(OpenAI, Anthropic, Azure OpenAI, any OpenAI-compatible server), routes,
tenant keys and privacy mode. Environment: WARDEN_CONFIG, WARDEN_ADDR,
WARDEN_POLICY, WARDEN_PRIVACY, WARDEN_AUTH_MODE, WARDEN_MAX_BODY_BYTES,
WARDEN_LOG_LEVEL, WARDEN_UPSTREAM_<NAME>_API_KEY. The policy file is reloaded
when it changes and on SIGHUP; SIGINT or SIGTERM drain and stop the server.`,
		run: runServe,
	})
}

func runServe(env *cliEnv, args []string) int {
	c := commands["serve"]
	fs := newFlagSet(env, c)
	cfgPath := fs.String("config", env.getenv("WARDEN_CONFIG"), "configuration file (YAML; env WARDEN_CONFIG)")
	addr := fs.String("addr", "", "listen address HOST:PORT (env WARDEN_ADDR; default "+config.DefaultAddr+")")
	policyPath := fs.String("policy", "", "policy file (env WARDEN_POLICY; default: built-in policy)")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "warden serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.ReadFile(*cfgPath); err != nil {
			fmt.Fprintf(env.stderr, "warden serve: %v\n", err)
			return 1
		}
	}
	if err := cfg.ApplyEnv(env.getenv); err != nil {
		fmt.Fprintf(env.stderr, "warden serve: %v\n", err)
		return 1
	}
	if *addr != "" {
		cfg.Server.Addr = *addr
	}
	if *policyPath != "" {
		cfg.Policy.Path = *policyPath
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(env.stderr, "warden serve: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	gateway.TuneGC(cfg.Server.GCPercent, cfg.Server.MemoryLimitMB, env.getenv)
	if err := serveGateway(ctx, env, cfg, nil); err != nil {
		fmt.Fprintf(env.stderr, "warden serve: %v\n", err)
		return 1
	}
	return 0
}

func newServeLogger(w io.Writer, s config.Server) *slog.Logger {
	level := slog.LevelInfo
	switch s.LogLevel {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if s.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// gatewayConfig turns the file's sections into the gateway's configuration.
func gatewayConfig(cfg *config.Config) gateway.Config {
	gc := gateway.Config{
		Auth:            cfg.Auth.Mode,
		MaxBodyBytes:    cfg.Server.MaxBodyBytes,
		ScanTimeout:     time.Duration(cfg.Server.ScanTimeout),
		Privacy:         string(cfg.Audit.Privacy),
		RestoreRedacted: cfg.Server.Restore(),
		MetadataHeaders: cfg.Server.MetadataHeaders,
	}
	for _, t := range cfg.Auth.Tenants {
		gc.Tenants = append(gc.Tenants, gateway.Tenant{Name: t.Name, KeySHA256: t.KeySHA256})
	}
	for _, u := range cfg.Upstreams {
		gu := gateway.Upstream{Name: u.Name, Kind: u.Kind, BaseURL: u.BaseURL, APIKey: string(u.APIKey),
			APIVersion: u.APIVersion, Deployments: u.Deployments, AnthropicVersion: u.AnthropicVersion, Models: u.Models,
			Timeout: time.Duration(u.Timeout), StreamIdle: time.Duration(u.StreamIdle), Retries: u.Retries}
		if u.Kind == gateway.KindEcho {
			echo := gateway.EchoUpstream()
			echo.Name = u.Name
			if len(u.Models) > 0 {
				echo.Models = u.Models
			}
			gu = echo
		}
		gc.Upstreams = append(gc.Upstreams, gu)
	}
	for _, r := range cfg.Routes {
		gc.Routes = append(gc.Routes, gateway.Route{Model: r.Model, Upstream: r.Upstream})
	}
	return gc
}

// serveGateway wires the gateway, the moderation API and the policy watcher
// and serves until ctx is done; onListen, when set, gets the bound address.
func serveGateway(ctx context.Context, env *cliEnv, cfg *config.Config, onListen func(addr string)) error {
	log := newServeLogger(env.stderr, cfg.Server)
	pipe, err := buildPipeline(pipelineOptions{NoClassifier: !cfg.Detect.ClassifierOn(), ExtraLists: cfg.Detect.ExtraLists})
	if err != nil {
		return fmt.Errorf("detectors: %w", err)
	}
	mux := http.NewServeMux()

	// The audit log: every decision is recorded, durably, before it is answered.
	var auditLog *audit.Log
	if cfg.Audit.On() {
		if auditLog, err = openAuditLog(ctx, env, cfg, log); err != nil {
			return err
		}
		defer auditLog.Close()
		mux.Handle("/audit/", auditLog.HandlerWith(audit.HandlerOptions{Authorize: auditReaders(cfg)}))
		log.Info("audit log open", "status", auditLog.Status())
	} else {
		log.Warn("audit log disabled by configuration: decisions are not recorded")
	}

	// The safety board, when a charter is installed: it admits models,
	// halts them, meters tokens and must approve any policy that is not
	// strictly stricter.
	reload := make(chan struct{}, 1)
	var brd *board.Board
	if brd, err = openBoard(ctx, cfg, auditLog, log, reload); err != nil {
		return err
	}
	if brd != nil {
		defer brd.Close()
		mux.Handle("/board/", brd.Handler())
	}

	store := policy.NewStore(nil)
	loader := &policy.Loader{Path: cfg.Policy.Path, Store: store, Logger: log, SIGHUP: true,
		Interval: time.Duration(cfg.Policy.ReloadInterval), Reload: reload}
	if brd != nil {
		loader.Verifiers = []policy.Verifier{brd}
	}
	if cfg.Policy.Path != "" {
		if err := loader.Load(ctx); err != nil {
			return err
		}
		go func() { _ = loader.Watch(ctx) }()
	}

	gc := gatewayConfig(cfg)
	gc.Pipeline, gc.Policies, gc.Logger = pipe, store, log
	if auditLog != nil {
		gc.Recorder = auditLog
	}
	if brd != nil {
		gc.Governor, gc.Meter = brd, brd
	}
	if len(cfg.Guards) > 0 {
		set, err := guardmodel.NewSet(guardConfigs(cfg.Guards, brd))
		if err != nil {
			return fmt.Errorf("guards: %w", err)
		}
		gc.Escalator = set
	}
	gw, err := gateway.New(gc)
	if err != nil {
		return err
	}
	if brd != nil {
		if err := gw.Registry().Register(brd.Collector()); err != nil {
			return fmt.Errorf("board metrics: %w", err)
		}
	}
	gw.Register(mux)
	ac := api.Config{Pipeline: pipe, Policy: store, MaxBody: cfg.Server.MaxBodyBytes, Logger: log}
	if auditLog != nil {
		ac.Recorder = auditLog
	}
	api.New(ac).Register(mux)

	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	bound := ln.Addr().String()
	p := store.Current()
	var names []string
	for _, d := range pipe.Info() {
		names = append(names, d.Name+"@"+d.Version)
	}
	log.Info("warden serving", "addr", bound, "policy", p.Digest(), "policy_version", p.Version(),
		"detectors", strings.Join(names, ","), "upstreams", len(gc.Upstreams))
	if len(gc.Upstreams) == 0 {
		fmt.Fprintf(env.stderr, "warden: no upstream configured: serving the built-in echo model %q (a test model that repeats the prompt)\n", "warden-echo")
	}
	fmt.Fprintf(env.stderr, "warden: gateway listening on http://%s\n", bound)
	if onListen != nil {
		onListen(bound)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	gw.Drain()
	timeout := time.Duration(cfg.Server.ShutdownTimeout)
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	log.Info("warden shutting down", "timeout", timeout.String())
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// openAuditLog opens the configured audit log. With the embedded SQLite
// default and no key yet, it makes the log's signing key in the data
// directory first, so `warden serve` works with zero configuration.
func openAuditLog(ctx context.Context, env *cliEnv, cfg *config.Config, log *slog.Logger) (*audit.Log, error) {
	ac := cfg.Audit.Config
	if ac.DataDir == "" {
		ac.DataDir = cfg.DataDir
	}
	ac.Logger = log
	if err := os.MkdirAll(ac.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: data directory: %w", err)
	}
	keyFile := ac.KeyFile
	if keyFile == "" {
		keyFile = "audit.key"
	}
	if !filepath.IsAbs(keyFile) {
		keyFile = filepath.Join(ac.DataDir, keyFile)
	}
	if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
		host, _ := os.Hostname()
		if host == "" {
			host = "localhost"
		}
		pub := strings.TrimSuffix(keyFile, filepath.Ext(keyFile)) + ".pub"
		if err := audit.GenerateKey(host+"/warden-audit", keyFile, pub); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		fmt.Fprintf(env.stderr, "warden: made the audit log's signing key %s; give %s to auditors and witnesses\n", keyFile, pub)
	}
	l, err := audit.Open(ctx, ac)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return l, nil
}

// openBoard opens the safety board when a charter is installed in the data
// directory or PostgreSQL holds the board's statements; it returns nil when
// there is no board (and none is required).
func openBoard(ctx context.Context, cfg *config.Config, auditLog *audit.Log, log *slog.Logger, reload chan struct{}) (*board.Board, error) {
	bc := board.Config{Dir: filepath.Join(cfg.DataDir, "board"), Deployment: cfg.Board.Deployment, Logger: log,
		OnChange: func(k board.Kind, _ string) {
			if k == board.KindPolicy {
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}}
	if auditLog != nil {
		bc.Audit = auditLog
	}
	if cfg.Board.Postgres != "" {
		prefix := cfg.Board.Prefix
		if prefix == "" {
			prefix = "warden_board"
		}
		st, err := board.OpenPGStore(ctx, cfg.Board.Postgres, prefix)
		if err != nil {
			return nil, fmt.Errorf("board: %w", err)
		}
		bc.Store = st
	} else if _, err := os.Stat(bc.Dir); err != nil {
		if cfg.Board.Required {
			return nil, fmt.Errorf("board: required, but no charter is installed in %s (run warden board init)", bc.Dir)
		}
		return nil, nil
	}
	b, err := board.Open(ctx, bc)
	if err != nil {
		return nil, fmt.Errorf("board: %w", err)
	}
	ch, ver := b.Charter()
	log.Info("safety board enforced", "deployment", ch.Deployment, "charter_version", ver)
	return b, nil
}

// guardConfigs returns the guard configurations, metering their tokens as
// "guard" on the board when there is one.
func guardConfigs(cs []guardmodel.Config, b *board.Board) []guardmodel.Config {
	out := append([]guardmodel.Config(nil), cs...)
	if b == nil {
		return out
	}
	for i := range out {
		model := out[i].Model
		if model == "" {
			model = out[i].Name
		}
		out[i].Usage = guardUsage{b, model}
	}
	return out
}

type guardUsage struct {
	b     *board.Board
	model string
}

func (g guardUsage) RecordUsage(_ context.Context, u guardmodel.Usage) {
	g.b.AddTokens(g.model, "guard", int64(u.PromptTokens), int64(u.CompletionTokens))
}

// auditReaders decides who may read audit records over HTTP: holders of a
// key listed in audit.reader_key_sha256 when there are any; else anyone
// when client authentication is off (auth.mode none, the loopback
// default); else no one, with an error that says how to allow it.
func auditReaders(cfg *config.Config) func(*http.Request) error {
	var keys []keyhash.Hash
	for _, k := range cfg.Audit.ReaderKeySHA256 {
		if h, err := keyhash.Parse(k); err == nil { // config.Validate rejected bad ones
			keys = append(keys, h)
		}
	}
	if len(keys) == 0 {
		// the gateway's default: keys when tenants are listed, else none
		mode := cfg.Auth.Mode
		if mode == "none" || (mode == "" && len(cfg.Auth.Tenants) == 0) {
			return nil
		}
		return func(*http.Request) error {
			return errors.New("audit records are not served: clients authenticate (auth.mode) and audit.reader_key_sha256 lists no reader key")
		}
	}
	return func(r *http.Request) error {
		k, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(k) == "" {
			return readerErr{http.StatusUnauthorized, "audit records need a reader key: send Authorization: Bearer KEY"}
		}
		if keyhash.Match(strings.TrimSpace(k), keys) < 0 {
			return readerErr{http.StatusUnauthorized, "invalid audit reader key"}
		}
		return nil
	}
}

// readerErr is an audit reader refusal with its HTTP status.
type readerErr struct {
	status int
	msg    string
}

func (e readerErr) Error() string   { return e.msg }
func (e readerErr) HTTPStatus() int { return e.status }

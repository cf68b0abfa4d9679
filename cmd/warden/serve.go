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
	"strings"
	"syscall"
	"time"

	"github.com/warden-safety/warden/api"
	"github.com/warden-safety/warden/config"
	"github.com/warden-safety/warden/gateway"
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
		Privacy:         cfg.Audit.Privacy,
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
	store := policy.NewStore(nil)
	if cfg.Policy.Path != "" {
		l := &policy.Loader{Path: cfg.Policy.Path, Store: store, Logger: log, SIGHUP: true,
			Interval: time.Duration(cfg.Policy.ReloadInterval)}
		if err := l.Load(ctx); err != nil {
			return err
		}
		go func() { _ = l.Watch(ctx) }()
	}
	gc := gatewayConfig(cfg)
	gc.Pipeline, gc.Policies, gc.Logger = pipe, store, log
	gw, err := gateway.New(gc)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	gw.Register(mux)
	api.New(api.Config{Pipeline: pipe, Policy: store, MaxBody: cfg.Server.MaxBodyBytes, Logger: log}).Register(mux)

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

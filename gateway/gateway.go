// Package gateway is Warden's data plane: an HTTP proxy in front of language
// models that speaks OpenAI's and Anthropic's wire formats, scans everything
// the model will read (input guard) and everything it writes (output guard,
// incremental for streams with a bounded hold-back window), applies the
// policy in force, and records every decision before answering.
//
// One request's path: the handler reads the policy once (policy.Store), reads
// and parses the body (package provider finds every text part with its
// location), authenticates the tenant, routes the model to an upstream, asks
// the Governor (safety board) to admit it, scans the parts with the
// detect.Pipeline, decides, records (Recorder), then blocks, redacts or
// forwards. The answer comes back through the output guard: a whole body is
// scanned before it is returned; a stream is parsed event by event (package
// sse), each event held until the text after it has been scanned, and cut
// well-formed in the provider's format when the policy blocks.
//
// The parts other packages build plug in through small interfaces declared
// here; each may be nil (disabled).
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/gateway/fakellm"
	"github.com/warden-safety/warden/gateway/provider"
	"github.com/warden-safety/warden/policy"
)

// Recorder writes a decision to the durable audit log. Record is called for
// every decision (input and output) before the response is answered or a
// stream finished; it returns only once the record is durable. An error
// follows the policy's fail mode (closed: the client gets 503).
type Recorder interface {
	Record(ctx context.Context, r audit.Record) error
}

// Governor is the safety board's say on which models may serve. Admit
// refuses a request for a model without a valid release for this route
// and upstream (the upstream's configured name and base URL), or while it
// is halted; its error message is shown to the client, with the status of
// HTTPStatus() when the error has that method (403 otherwise). HaltSignal
// returns a channel that is closed when the model is halted: in-flight
// streams then end cleanly in the provider's format. It may return nil
// (never halts).
type Governor interface {
	Admit(ctx context.Context, model, route, upstream, upstreamURL string) error
	HaltSignal(model, route string) <-chan struct{}
}

// Meter counts tokens the upstreams reported. kind is "served".
type Meter interface {
	AddTokens(model, kind string, prompt, completion int64)
}

// Escalator asks a guard model (configuration name) about a text when the
// policy escalates. Findings with a score at or above the category
// threshold count as flagged; an error follows the fail mode.
type Escalator interface {
	Escalate(ctx context.Context, name, text string) ([]detect.Finding, error)
}

// Privacy modes: how much text audit records carry.
const (
	PrivacyNone     = "none"
	PrivacyRedacted = "redacted"
	PrivacyFull     = "full"
)

// Auth modes.
const (
	AuthNone        = "none"        // no client key is needed
	AuthKeys        = "keys"        // a tenant key is required
	AuthPassthrough = "passthrough" // the client's key is forwarded upstream
)

// Upstream kinds.
const (
	KindOpenAI     = "openai"
	KindAnthropic  = "anthropic"
	KindAzure      = "azure"
	KindCompatible = "openai-compatible" // vLLM, Ollama, llama.cpp, ...
	KindEcho       = "echo"              // the built-in warden-echo model
)

// Upstream is a model provider.
type Upstream struct {
	Name string
	Kind string
	// BaseURL without the /v1 suffix, e.g. https://api.openai.com, or the
	// Azure resource endpoint https://NAME.openai.azure.com.
	BaseURL string
	// APIKey is the upstream credential. It is never logged.
	APIKey string
	// APIVersion is Azure's api-version query parameter.
	APIVersion string
	// Deployments maps a model name to an Azure deployment (the model name
	// itself when absent).
	Deployments map[string]string
	// AnthropicVersion is sent when the client sent none (2023-06-01).
	AnthropicVersion string
	// Models are exact names or globs ("gpt-4o*") this upstream serves.
	Models []string
	// Timeout bounds a non-streamed request and a stream's wait for its
	// response headers (default 120s). StreamIdle bounds the silence
	// between stream reads (default 120s).
	Timeout, StreamIdle time.Duration
	// Retries is how many times a request that failed before any byte
	// was sent (connection refused) is tried again; embeddings are also
	// retried on 502/503/504. Default 0.
	Retries int
	// Transport overrides the HTTP transport (tests, the echo model).
	Transport http.RoundTripper
}

// Route sends models matching Model (exact or glob) to an upstream.
type Route struct {
	Model    string
	Upstream string
}

// Tenant is a client identity with its API keys, stored as hex SHA-256.
type Tenant struct {
	Name      string
	KeySHA256 []string
}

// Config configures a Gateway.
type Config struct {
	// Pipeline scans text; nil scans nothing (every verdict is empty).
	Pipeline *detect.Pipeline
	// Policies holds the policy in force (policy.Default() when nil).
	Policies *policy.Store
	// Upstreams; when empty the built-in echo model warden-echo serves.
	Upstreams []Upstream
	// Routes map models to upstreams, first exact matches, then globs in
	// order; upstreams' own Models lists come after.
	Routes []Route
	// Auth is none, keys or passthrough; Tenants hold the keys.
	Auth    string
	Tenants []Tenant
	// MaxBodyBytes bounds a request body (default 4 MiB; 413 beyond).
	MaxBodyBytes int64
	// MaxResponseBytes bounds a non-streamed upstream answer (32 MiB).
	MaxResponseBytes int64
	// ScanTimeout bounds one stage's scan (default 5s); a timeout is a
	// detector failure and follows the fail mode.
	ScanTimeout time.Duration
	// Privacy says which text audit records carry: none (default),
	// redacted or full.
	Privacy string
	// RestoreRedacted puts values redacted from the request back into the
	// answer where the model repeated their placeholders.
	RestoreRedacted bool
	// MetadataHeaders are request headers passed to the policy as
	// Request.Metadata (lower-cased names).
	MetadataHeaders []string

	Recorder  Recorder
	Governor  Governor
	Meter     Meter
	Escalator Escalator

	// Logger gets structured logs (no prompt or completion text unless
	// the policy's log_content is on); nil discards.
	Logger *slog.Logger
	// Registry receives the gateway's Prometheus metrics; nil creates a
	// private one (served at /metrics either way).
	Registry *prometheus.Registry
}

// Gateway is the proxy. It is an http.Handler.
type Gateway struct {
	cfg       Config
	upstreams []*upstream
	routes    []Route
	tenants   []tenantKeys
	log       *slog.Logger
	m         *metrics
	reg       *prometheus.Registry
	mux       *http.ServeMux
	draining  atomic.Bool
}

// New checks cfg and builds a gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Policies == nil {
		cfg.Policies = policy.NewStore(nil)
	}
	if cfg.Pipeline == nil {
		cfg.Pipeline = detect.NewPipeline()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 4 << 20
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 32 << 20
	}
	if cfg.ScanTimeout <= 0 {
		cfg.ScanTimeout = 5 * time.Second
	}
	switch cfg.Privacy {
	case "":
		cfg.Privacy = PrivacyNone
	case PrivacyNone, PrivacyRedacted, PrivacyFull:
	default:
		return nil, fmt.Errorf("gateway: privacy %q: want none, redacted or full", cfg.Privacy)
	}
	switch cfg.Auth {
	case "":
		cfg.Auth = AuthNone
		if len(cfg.Tenants) > 0 {
			cfg.Auth = AuthKeys
		}
	case AuthNone, AuthKeys, AuthPassthrough:
	default:
		return nil, fmt.Errorf("gateway: auth mode %q: want none, keys or passthrough", cfg.Auth)
	}
	if cfg.Auth == AuthKeys && len(cfg.Tenants) == 0 {
		return nil, errors.New("gateway: auth mode keys needs at least one tenant")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	g := &Gateway{cfg: cfg, log: log, reg: reg, routes: cfg.Routes}
	var err error
	if g.m, err = newMetrics(reg); err != nil {
		return nil, err
	}
	ups := cfg.Upstreams
	if len(ups) == 0 {
		ups = []Upstream{EchoUpstream()}
	}
	names := map[string]bool{}
	for _, u := range ups {
		up, err := newUpstream(u)
		if err != nil {
			return nil, err
		}
		if names[u.Name] {
			return nil, fmt.Errorf("gateway: upstream %q defined twice", u.Name)
		}
		names[u.Name] = true
		g.upstreams = append(g.upstreams, up)
	}
	for i, r := range g.routes {
		if !names[r.Upstream] {
			return nil, fmt.Errorf("gateway: routes[%d]: unknown upstream %q", i, r.Upstream)
		}
		if r.Model == "" {
			return nil, fmt.Errorf("gateway: routes[%d]: model pattern is empty", i)
		}
	}
	if g.tenants, err = parseTenants(cfg.Tenants); err != nil {
		return nil, err
	}
	g.mux = http.NewServeMux()
	for _, r := range provider.Routes {
		g.mux.Handle("POST "+r.Path(), g.handler(r))
	}
	g.mux.HandleFunc("GET /v1/models", g.models)
	g.mux.HandleFunc("GET /v1/models/{model...}", g.model)
	g.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	g.mux.HandleFunc("GET /readyz", g.readyz)
	g.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return g, nil
}

// EchoUpstream is the built-in echo model, served in process by
// fakellm: it answers every prompt with a labelled echo, in both formats,
// streamed and not, without any API key.
func EchoUpstream() Upstream {
	return Upstream{Name: "echo", Kind: KindEcho, BaseURL: "http://warden-echo.internal",
		Models: []string{fakellm.EchoModel}, Transport: fakellm.New(fakellm.Config{}).Transport()}
}

// ServeHTTP serves the proxied routes, /v1/models, /healthz, /readyz and
// /metrics.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

// Register mounts the gateway's routes on mux (for a server that also
// mounts other handlers, such as the moderation API).
func (g *Gateway) Register(mux *http.ServeMux) {
	for _, r := range provider.Routes {
		mux.Handle("POST "+r.Path(), g)
	}
	for _, p := range []string{"GET /v1/models", "GET /v1/models/{model...}", "GET /healthz", "GET /readyz", "GET /metrics"} {
		mux.Handle(p, g)
	}
}

// Drain makes /readyz fail so load balancers stop sending traffic before
// a shutdown; requests still being served finish.
func (g *Gateway) Drain() { g.draining.Store(true) }

// Registry returns the Prometheus registry the gateway's metrics are in.
func (g *Gateway) Registry() *prometheus.Registry { return g.reg }

func (g *Gateway) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if g.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("draining\n"))
		return
	}
	if g.cfg.Policies.Current() == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("no policy\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// models lists the models the configuration allows: the exact names in
// routes and upstream model lists (globs cannot be listed).
func (g *Gateway) models(w http.ResponseWriter, r *http.Request) {
	if _, ok := g.authenticate(w, r, provider.OpenAI); !ok {
		return
	}
	type entry struct{ id, owner string }
	var list []entry
	seen := map[string]bool{}
	add := func(model, owner string) {
		if model == "" || isGlob(model) || seen[model] {
			return
		}
		seen[model] = true
		list = append(list, entry{model, owner})
	}
	for _, rt := range g.routes {
		add(rt.Model, rt.Upstream)
	}
	for _, u := range g.upstreams {
		for _, m := range u.Models {
			add(m, u.Name)
		}
		for m := range u.Deployments {
			add(m, u.Name)
		}
	}
	anthropic := r.Header.Get("anthropic-version") != ""
	data := make([]any, 0, len(list))
	for _, e := range list {
		if anthropic {
			data = append(data, map[string]any{"type": "model", "id": e.id, "display_name": e.id, "created_at": "1970-01-01T00:00:00Z"})
		} else {
			data = append(data, map[string]any{"id": e.id, "object": "model", "created": 0, "owned_by": e.owner})
		}
	}
	body := map[string]any{"object": "list", "data": data}
	if anthropic {
		body = map[string]any{"data": data, "has_more": false, "first_id": nil, "last_id": nil}
		if len(list) > 0 {
			body["first_id"], body["last_id"] = list[0].id, list[len(list)-1].id
		}
	}
	w.Header().Set("x-warden-request-id", newRequestID())
	w.Header().Set("x-warden-decision", string(policy.Allow))
	writeJSON(w, http.StatusOK, mustJSON(body))
}

// model describes one model: any name the routes send to an upstream
// (exact or glob), 404 otherwise.
func (g *Gateway) model(w http.ResponseWriter, r *http.Request) {
	f := provider.OpenAI
	if r.Header.Get("anthropic-version") != "" {
		f = provider.Anthropic
	}
	if _, ok := g.authenticate(w, r, f); !ok {
		return
	}
	name := r.PathValue("model")
	w.Header().Set("x-warden-request-id", newRequestID())
	w.Header().Set("x-warden-decision", string(policy.Allow))
	u := g.resolve(name)
	if u == nil {
		g.fail(w, f, http.StatusNotFound, "model_not_found", fmt.Sprintf("model %q is not served by this gateway", name), "model")
		return
	}
	if f == provider.Anthropic {
		writeJSON(w, http.StatusOK, mustJSON(map[string]any{"type": "model", "id": name, "display_name": name, "created_at": "1970-01-01T00:00:00Z"}))
		return
	}
	writeJSON(w, http.StatusOK, mustJSON(map[string]any{"id": name, "object": "model", "created": 0, "owned_by": u.Name}))
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "wrd-" + hex.EncodeToString(b[:])
}

// isGlob reports whether a model pattern has wildcards.
func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// globMatch matches name against a pattern where "*" matches any run of
// characters (including "/") and "?" one character; other characters
// match themselves.
func globMatch(pattern, name string) bool {
	px, nx := 0, 0
	nextPx, nextNx := -1, -1
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextNx = px, nx+1
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if nextNx > 0 && nextNx <= len(name) {
			px, nx = nextPx, nextNx
			continue
		}
		return false
	}
	return true
}

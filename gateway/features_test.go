package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/gateway"
	"github.com/warden-safety/warden/gateway/fakellm"
	"github.com/warden-safety/warden/gateway/provider"
	"github.com/warden-safety/warden/hazard"
)

func TestTenantKeysAndPassthrough(t *testing.T) {
	e := newEnv(t, fakellm.Config{}, func(c *gateway.Config) {
		c.Tenants = []gateway.Tenant{{Name: "acme", KeySHA256: []string{gateway.HashKey("acme-key-1")}}}
	})
	body := bodyFor(provider.Chat, "fake-x", "hi", false)
	if r := post(t, e.url, "/v1/chat/completions", body); r.status != 401 || jsonField(t, r.body, "error", "code") != "invalid_api_key" {
		t.Fatalf("no key: %d %s", r.status, r.body)
	}
	if r := post(t, e.url, "/v1/chat/completions", body, "Authorization", "Bearer wrong"); r.status != 401 {
		t.Fatalf("wrong key: %d", r.status)
	}
	if r := post(t, e.url, "/v1/messages", bodyFor(provider.Messages, "claude-x", "hi", false), "x-api-key", "acme-key-1"); r.status != 200 {
		t.Fatalf("anthropic key: %d %s", r.status, r.body)
	}
	if h := e.fake.Last().Header; h.Get("x-api-key") != "upstream-key-anth" || h.Get("anthropic-version") != "2023-06-01" {
		t.Fatalf("upstream headers %v", h)
	}
	if r := post(t, e.url, "/v1/chat/completions", body, "Authorization", "Bearer acme-key-1"); r.status != 200 {
		t.Fatalf("good key: %d %s", r.status, r.body)
	}
	if h := e.fake.Last().Header; h.Get("Authorization") != "Bearer upstream-key-oai" {
		t.Fatalf("the upstream must get the configured key, got %q", h.Get("Authorization"))
	}
	if recs := e.rec.all(); recs[len(recs)-1].Tenant != "acme" {
		t.Fatalf("tenant not recorded: %+v", recs[len(recs)-1])
	}

	p := newEnv(t, fakellm.Config{}, func(c *gateway.Config) { c.Auth = gateway.AuthPassthrough })
	if r := post(t, p.url, "/v1/chat/completions", body, "Authorization", "Bearer client-own-key"); r.status != 200 {
		t.Fatalf("passthrough: %d", r.status)
	}
	if h := p.fake.Last().Header; h.Get("Authorization") != "Bearer client-own-key" {
		t.Fatalf("passthrough sent %q", h.Get("Authorization"))
	}
}

func TestAzureUpstream(t *testing.T) {
	fake := fakellm.New(fakellm.Config{})
	u, stop, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	gw, err := gateway.New(gateway.Config{Upstreams: []gateway.Upstream{{Name: "az", Kind: gateway.KindAzure, BaseURL: u,
		APIKey: "azure-secret", APIVersion: "2024-10-21", Deployments: map[string]string{"gpt-4o": "prod-4o"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	for _, stream := range []bool{false, true} {
		r := post(t, srv.URL, "/v1/chat/completions", bodyFor(provider.Chat, "gpt-4o", "hi", stream))
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		last := fake.Last()
		if last.Path != "/openai/deployments/prod-4o/chat/completions" || last.RawQuery != "api-version=2024-10-21" ||
			last.Header.Get("api-key") != "azure-secret" || last.Header.Get("Authorization") != "" {
			t.Fatalf("azure request %s?%s %v", last.Path, last.RawQuery, last.Header)
		}
	}
	r, err := http.Get(srv.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(b), `"id":"gpt-4o"`) {
		t.Fatalf("models: %s", b)
	}
}

func TestRecorderFailureFailsClosed(t *testing.T) {
	e := newEnv(t, fakellm.Config{}, nil)
	e.rec.err = errors.New("disk full")
	r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "hi", false))
	if r.status != 503 || jsonField(t, r.body, "error", "code") != "audit_unavailable" || e.fake.Requests() != 0 {
		t.Fatalf("%d %s (upstream calls %d)", r.status, r.body, e.fake.Requests())
	}
	e.store.Swap(mustPolicy(t, "version: open\ndefaults:\n  fail_mode: open\n  input:\n    cbrn_weapons: block\n"))
	if r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "hi", false)); r.status != 200 {
		t.Fatalf("fail open: %d %s", r.status, r.body)
	}
}

func TestDetectorFailureAndTimeout(t *testing.T) {
	e := newEnv(t, fakellm.Config{}, func(c *gateway.Config) { c.ScanTimeout = 200 * time.Millisecond })
	for _, prompt := range []string{"FAILDET", "SLOWDET"} {
		r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", prompt, false))
		if r.status != 503 || r.header.Get("x-warden-decision") != "block" || e.fake.Requests() != 0 {
			t.Fatalf("%s: %d %s", prompt, r.status, r.body)
		}
	}
	e.store.Swap(mustPolicy(t, "version: open\ndefaults:\n  fail_mode: open\n  input:\n    cbrn_weapons: block\n"))
	if r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "FAILDET", false)); r.status != 200 {
		t.Fatalf("fail open: %d %s", r.status, r.body)
	}
}

type governor struct {
	mu   sync.Mutex
	deny error
	halt chan struct{}
}

func (g *governor) Admit(_ context.Context, model, _, _, _ string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.deny
}
func (g *governor) HaltSignal(string, string) <-chan struct{} { return g.halt }

type statusErr struct{}

func (statusErr) Error() string   { return "model fake-x has no valid release" }
func (statusErr) HTTPStatus() int { return 451 }

func TestGovernorAdmitAndHalt(t *testing.T) {
	gov := &governor{halt: make(chan struct{})}
	e := newEnv(t, fakellm.Config{Responder: func(string) string { return strings.Repeat("calm words ", 400) }, ChunkDelay: 2 * time.Millisecond},
		func(c *gateway.Config) { c.Governor = gov })
	gov.deny = errors.New("model is halted by the safety board")
	r := post(t, e.url, "/v1/messages", bodyFor(provider.Messages, "claude-x", "hi", false))
	if r.status != 403 || jsonField(t, r.body, "error", "type") != "permission_error" || !strings.Contains(string(r.body), "halted by the safety board") {
		t.Fatalf("deny: %d %s", r.status, r.body)
	}
	gov.deny = statusErr{}
	if r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "hi", false)); r.status != 451 {
		t.Fatalf("HTTPStatus: %d", r.status)
	}
	gov.deny = nil
	go func() {
		time.Sleep(100 * time.Millisecond)
		close(gov.halt)
	}()
	r = post(t, e.url, "/v1/messages", bodyFor(provider.Messages, "claude-x", "hi", true))
	evs := events(t, r.body)
	if len(evs) < 3 || evs[len(evs)-1].Name != "message_stop" || !strings.Contains(streamText(t, evs), "halted by the safety board") {
		t.Fatalf("halt: %s", r.body)
	}
	if strings.Count(streamText(t, evs), "calm words") >= 400 {
		t.Fatal("the stream was not cut")
	}
}

type meter struct {
	mu                 sync.Mutex
	prompt, completion int64
	calls              int
}

func (m *meter) AddTokens(model, kind string, p, c int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if kind == "served" {
		m.prompt += p
		m.completion += c
		m.calls++
	}
}

func TestMeterGetsUsage(t *testing.T) {
	m := &meter{}
	e := newEnv(t, fakellm.Config{Responder: func(string) string { return "one two three" }}, func(c *gateway.Config) { c.Meter = m })
	post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "a b", false))
	post(t, e.url, "/v1/messages", bodyFor(provider.Messages, "claude-x", "a b", true))
	// The gateway asks for the usage chunk the client did not ask for,
	// meters it and keeps it from the client.
	r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "a b", true))
	if strings.Contains(string(r.body), `"choices":[]`) || !strings.Contains(string(e.fake.Last().Body), `"include_usage":true`) {
		t.Fatalf("usage chunk: %s", r.body)
	}
	// A client that asks for it gets it.
	r = post(t, e.url, "/v1/chat/completions", `{"model":"fake-x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b"}]}`)
	if !strings.Contains(string(r.body), `"choices":[]`) {
		t.Fatalf("requested usage chunk missing: %s", r.body)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls != 4 || m.completion != 12 || m.prompt == 0 {
		t.Fatalf("meter %+v", m)
	}
}

type escalator struct {
	flag  bool
	err   error
	calls int
}

func (e *escalator) Escalate(_ context.Context, name, text string) ([]detect.Finding, error) {
	e.calls++
	if e.err != nil {
		return nil, e.err
	}
	if e.flag {
		return []detect.Finding{{Category: hazard.CBRNWeapons, Score: 0.97, Whole: true, Detector: "guard:" + name}}, nil
	}
	return nil, nil
}

func TestEscalation(t *testing.T) {
	esc := &escalator{}
	e := newEnv(t, fakellm.Config{}, func(c *gateway.Config) { c.Escalator = esc })
	e.store.Swap(mustPolicy(t, "version: esc\ndefaults:\n  input:\n    cbrn_weapons: {action: escalate, guard: llamaguard, then: block}\n"))
	body := bodyFor(provider.Chat, "fake-x", "a question about nerve agent history", false)
	if r := post(t, e.url, "/v1/chat/completions", body); r.status != 200 || r.header.Get("x-warden-decision") != "flag" {
		t.Fatalf("cleared: %d %q", r.status, r.header.Get("x-warden-decision"))
	}
	esc.flag = true
	if r := post(t, e.url, "/v1/chat/completions", body); r.status != 400 {
		t.Fatalf("flagged: %d", r.status)
	}
	esc.flag, esc.err = false, errors.New("guard down")
	if r := post(t, e.url, "/v1/chat/completions", body); r.status != 400 {
		t.Fatalf("guard failure must fail closed: %d", r.status)
	}
	if esc.calls != 3 {
		t.Fatalf("escalator called %d times", esc.calls)
	}
}

func TestEchoModelOutOfTheBox(t *testing.T) {
	gw, err := gateway.New(gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	for _, route := range provider.Routes {
		for _, stream := range []bool{false, true} {
			if stream && !route.Streams() {
				continue
			}
			r := post(t, srv.URL, route.Path(), bodyFor(route, fakellm.EchoModel, "ping", stream))
			if r.status != 200 {
				t.Fatalf("%s %v: %d %s", route, stream, r.status, r.body)
			}
			if route == provider.Embeddings {
				continue
			}
			var got string
			if stream {
				got = streamText(t, events(t, r.body))
			} else {
				got = answerText(t, route, r.body)
			}
			if got != fakellm.Echo("ping") {
				t.Fatalf("%s %v: %q", route, stream, got)
			}
		}
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/v1/models": `"id":"warden-echo"`,
		"/metrics": `warden_gateway_requests_total{code="200",decision="allow",route="/v1/messages"} 2`} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	gw.Drain()
	if resp, _ := http.Get(srv.URL + "/readyz"); resp.StatusCode != 503 {
		t.Fatalf("readyz while draining: %d", resp.StatusCode)
	}
}

func TestLogsCarryNoContent(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, fakellm.Config{}, func(c *gateway.Config) { c.Logger = log })
	post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "zebra-umbrella-prompt SECRET-111111", false))
	post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "zebra-umbrella-prompt nerve agent", true))
	mu.Lock()
	defer mu.Unlock()
	s := buf.String()
	if !strings.Contains(s, `"msg":"request"`) || strings.Contains(s, "zebra") || strings.Contains(s, "111111") || strings.Contains(s, "upstream-key") {
		t.Fatalf("logs:\n%s", s)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestPrivacyModes(t *testing.T) {
	for _, mode := range []string{gateway.PrivacyRedacted, gateway.PrivacyFull} {
		e := newEnv(t, fakellm.Config{}, func(c *gateway.Config) { c.Privacy = mode })
		post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "key SECRET-222222 ok", false))
		post(t, e.url, "/v1/messages", bodyFor(provider.Messages, "claude-x", "key SECRET-333333 ok", true))
		recs := e.rec.all()
		if len(recs) != 4 {
			t.Fatalf("%d records", len(recs))
		}
		for _, r := range recs {
			text := r.InputText + r.OutputText
			hasSecret := strings.Contains(text, "SECRET-")
			if text == "" || (mode == gateway.PrivacyRedacted && hasSecret) {
				t.Fatalf("%s: record %s text %q", mode, r.Stage, text)
			}
		}
		if mode == gateway.PrivacyFull && !strings.Contains(recs[0].InputText, "SECRET-222222") {
			t.Fatalf("full: %q", recs[0].InputText)
		}
	}
}

func TestRetriesOnlyWhereSafe(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	fault := func(p string) fakellm.Fault {
		mu.Lock()
		defer mu.Unlock()
		calls[p]++
		if calls[p] == 1 {
			return fakellm.Fault{Status: 503}
		}
		return fakellm.Fault{}
	}
	e := newEnv(t, fakellm.Config{Fault: fault}, func(c *gateway.Config) {
		for i := range c.Upstreams {
			c.Upstreams[i].Retries = 2
		}
	})
	// Embeddings are idempotent: a 503 is retried.
	if r := post(t, e.url, "/v1/embeddings", bodyFor(provider.Embeddings, "fake-x", "emb", false)); r.status != 200 {
		t.Fatalf("embeddings: %d %s", r.status, r.body)
	}
	// A chat completion is not: the 503 reaches the client as it was.
	if r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "chat", false)); r.status != 503 {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls["emb"] != 2 || calls["chat"] != 1 {
		t.Fatalf("calls %v", calls)
	}
}

func TestStreamOutputDecisionTrailer(t *testing.T) {
	e := newEnv(t, fakellm.Config{Responder: func(string) string { return "key SECRET-101010 here" }}, nil)
	req, _ := http.NewRequest("POST", e.url+"/v1/chat/completions", strings.NewReader(bodyFor(provider.Chat, "fake-x", "hi", true)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := resp.Trailer.Get("X-Warden-Output-Decision"); got != "redact" {
		t.Fatalf("trailer %q (header decision %q)", got, resp.Header.Get("x-warden-decision"))
	}
}

func TestModelsAnthropicShape(t *testing.T) {
	e := newEnv(t, fakellm.Config{}, func(c *gateway.Config) {
		c.Routes = []gateway.Route{{Model: "claude-exact", Upstream: "anth"}, {Model: "fake-exact", Upstream: "oai"}}
	})
	req, _ := http.NewRequest("GET", e.url+"/v1/models", nil)
	req.Header.Set("anthropic-version", "2023-06-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if jsonField(t, b, "first_id") != "claude-exact" || jsonField(t, b, "has_more") != false || !strings.Contains(string(b), `"type":"model"`) {
		t.Fatalf("%s", b)
	}
}

func TestStreamRedactionLongTail(t *testing.T) {
	answer := "start SECRET-777777 then " + strings.Repeat("plain words go on ", 60) + "end"
	e := newEnv(t, fakellm.Config{Responder: func(string) string { return answer }, WordsPerChunk: 1}, nil)
	for _, route := range []provider.Route{provider.Chat, provider.Messages} {
		r := post(t, e.url, route.Path(), bodyFor(route, modelFor(route), "hi", true))
		got := streamText(t, events(t, r.body))
		if want := strings.Replace(answer, "SECRET-777777", "[API_KEY_1]", 1); got != want {
			t.Fatalf("%s: got %q", route, got)
		}
	}
}

func TestAbandonedStreamIsRecorded(t *testing.T) {
	e := newEnv(t, fakellm.Config{Responder: func(string) string { return strings.Repeat("word ", 2000) }, ChunkDelay: 2 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", e.url+"/v1/chat/completions", strings.NewReader(bodyFor(provider.Chat, "fake-x", "go", true)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	_, _ = resp.Body.Read(buf)
	cancel()
	resp.Body.Close()
	ok := checkFor(t, 5*time.Second, func() bool {
		for _, r := range e.rec.all() {
			if r.Stage == "output" && r.Detail["reason"] == "client went away before the end of the stream" {
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no output record for the abandoned stream: %+v", e.rec.all())
	}
}

func TestModelLookupAndRequestIDUpstream(t *testing.T) {
	e := newEnv(t, fakellm.Config{}, nil)
	for path, want := range map[string]int{"/v1/models/fake-anything": 200, "/v1/models/meta-llama/x": 404, "/v1/models/claude-3": 200} {
		resp, err := http.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "hi", false))
	if id := e.fake.Last().Header.Get("X-Warden-Request-Id"); id == "" || id != r.header.Get("x-warden-request-id") {
		t.Fatalf("upstream saw request id %q, client %q", id, r.header.Get("x-warden-request-id"))
	}
}

package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/gateway"
	"github.com/warden-safety/warden/gateway/fakellm"
	"github.com/warden-safety/warden/gateway/sse"
	"github.com/warden-safety/warden/hazard"
	"github.com/warden-safety/warden/policy"
)

// markers is a deterministic test detector: "nerve agent" is a severe
// hazard (blocked by the default policy), "SECRET-" and six digits a secret
// (redacted), "FAILDET" makes the detector fail and "SLOWDET" makes it hang
// until its context ends.
type markers struct{}

var secretRE = regexp.MustCompile(`SECRET-[0-9]{6}`)

func (markers) Name() string    { return "markers" }
func (markers) Version() string { return "test-1" }
func (markers) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	t := doc.Text
	if strings.Contains(t, "FAILDET") {
		return dst, errors.New("injected detector failure")
	}
	if strings.Contains(t, "SLOWDET") {
		<-ctx.Done()
		return dst, ctx.Err()
	}
	for i := 0; ; {
		j := strings.Index(t[i:], "nerve agent")
		if j < 0 {
			break
		}
		s := i + j
		dst = append(dst, detect.Finding{Category: hazard.CBRNWeapons, Score: 1, Span: detect.Span{Start: s, End: s + 11},
			Detector: "markers", View: "original", Rule: "nerve_agent", Explanation: "test marker"})
		i = s + 11
	}
	for _, m := range secretRE.FindAllStringIndex(t, -1) {
		dst = append(dst, detect.Finding{Category: hazard.Secrets, Score: 1, Span: detect.Span{Start: m[0], End: m[1]},
			Detector: "markers", View: "original", Rule: "api_key", Explanation: "test secret"})
	}
	return dst, nil
}

// recorder keeps audit records in memory.
type recorder struct {
	mu   sync.Mutex
	recs []audit.Record
	err  error
}

func (r *recorder) Record(_ context.Context, rec audit.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.recs = append(r.recs, rec)
	return nil
}

func (r *recorder) all() []audit.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Record(nil), r.recs...)
}

// env is a gateway in front of a fake upstream, both on 127.0.0.1.
type env struct {
	fake    *fakellm.Server
	fakeURL string
	gw      *gateway.Gateway
	url     string
	rec     *recorder
	store   *policy.Store
}

// newEnv starts the fake with fc and a gateway whose config mod may change.
// Models "fake-*" go to the fake as an OpenAI-compatible server, "claude-*"
// to the fake as Anthropic.
func newEnv(t testing.TB, fc fakellm.Config, mod func(*gateway.Config)) *env {
	t.Helper()
	e := &env{fake: fakellm.New(fc), rec: &recorder{}, store: policy.NewStore(nil)}
	var stop func()
	var err error
	e.fakeURL, stop, err = e.fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	cfg := gateway.Config{
		Pipeline: detect.NewPipeline(markers{}),
		Policies: e.store,
		Upstreams: []gateway.Upstream{
			{Name: "oai", Kind: gateway.KindCompatible, BaseURL: e.fakeURL + "/v1", APIKey: "upstream-key-oai", Models: []string{"fake-*"}},
			{Name: "anth", Kind: gateway.KindAnthropic, BaseURL: e.fakeURL, APIKey: "upstream-key-anth", Models: []string{"claude-*"}},
		},
		Recorder:        e.rec,
		RestoreRedacted: true,
	}
	if mod != nil {
		mod(&cfg)
	}
	e.gw, err = gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.gw)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

func mustPolicy(t testing.TB, src string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func post(t testing.TB, url, path, body string, hdr ...string) result {
	t.Helper()
	req, err := http.NewRequest("POST", url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return result{resp.StatusCode, resp.Header, b}
}

// events parses an SSE body.
func events(t testing.TB, body []byte) []sse.Event {
	t.Helper()
	var p sse.Parser
	var out []sse.Event
	collect := func(e sse.Event) error {
		e.Raw = nil
		out = append(out, e)
		return nil
	}
	if err := p.Feed(body, collect); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(collect); err != nil {
		t.Fatal(err)
	}
	return out
}

// streamText joins the text deltas of a stream, whatever the format.
func streamText(t testing.TB, evs []sse.Event) string {
	t.Helper()
	var b strings.Builder
	for _, e := range evs {
		if e.Data == "[DONE]" {
			continue
		}
		var m struct {
			Type    string `json:"type"`
			Delta   json.RawMessage
			Choices []struct {
				Text  string `json:"text"`
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(e.Data), &m); err != nil {
			t.Fatalf("event %q: %v", e.Data, err)
		}
		for _, c := range m.Choices {
			b.WriteString(c.Text + c.Delta.Content)
		}
		switch m.Type {
		case "content_block_delta":
			var d struct {
				Text string `json:"text"`
			}
			_ = json.Unmarshal(m.Delta, &d)
			b.WriteString(d.Text)
		case "response.output_text.delta":
			var d string
			_ = json.Unmarshal(m.Delta, &d)
			b.WriteString(d)
		}
	}
	return b.String()
}

// checkFor polls f until it is true or the timeout passes.
func checkFor(t testing.TB, timeout time.Duration, f func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if f() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return f()
}

func jsonField(t testing.TB, body []byte, path ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			if len(x) == 0 {
				return nil
			}
			v = x[0]
			if m, ok := v.(map[string]any); ok {
				v = m[p]
			}
		default:
			return nil
		}
	}
	return v
}

var _ = bufio.NewReader
var _ = bytes.NewReader

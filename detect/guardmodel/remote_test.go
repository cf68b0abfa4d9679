package guardmodel_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/hazard"
)

// word is a small span detector used to build real verdicts.
type word struct {
	w   string
	cat hazard.Category
	err error
}

func (d word) Name() string    { return "lexicon" }
func (d word) Version() string { return "t1" }
func (d word) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	if d.err != nil {
		return dst, d.err
	}
	if i := strings.Index(doc.Text, d.w); i >= 0 {
		dst = append(dst, detect.Finding{Category: d.cat, Score: 0.97, Span: detect.Span{Start: i, End: i + len(d.w)},
			Detector: "lexicon", View: "original", Rule: "t-" + d.w, Explanation: "listed term"})
	}
	return dst, nil
}

// wardenServer serves POST /v1/check in the shape of Warden's API:
// {"id": ..., "verdict": <detect.Verdict>, "decision": {...}}.
func wardenServer(t *testing.T, p *detect.Pipeline, tamper func(*detect.Verdict)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Text  string `json:"text"`
			Stage string `json:"stage"`
		}
		if r.URL.Path != "/v1/check" || json.NewDecoder(r.Body).Decode(&req) != nil || req.Stage != "output" {
			http.Error(w, `{"error":{"type":"invalid_request_error","code":"bad_request","message":"no"}}`, 400)
			return
		}
		v, _ := p.Scan(r.Context(), req.Text)
		if tamper != nil {
			tamper(v)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "chk-1", "verdict": v, "decision": map[string]any{"action": "block", "rule": "default"}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRemoteWarden(t *testing.T) {
	srv := wardenServer(t, detect.NewPipeline(word{w: "sarin", cat: hazard.CBRNWeapons}), nil)
	g := mustGuard(t, guardmodel.Config{Name: "hq", Kind: guardmodel.WardenKind, BaseURL: srv.URL, Warden: guardmodel.WardenConfig{Stage: "output"}})
	text := "make sarin at home"
	fs, err := scan(t, context.Background(), g, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Category != hazard.CBRNWeapons || fs[0].Detector != "guardmodel:hq" || fs[0].Rule != "lexicon/t-sarin" ||
		text[fs[0].Span.Start:fs[0].Span.End] != "sarin" || fs[0].Score != 0.97 {
		t.Fatalf("findings %+v", fs)
	}
	if fs, err := scan(t, context.Background(), g, "hello"); err != nil || len(fs) != 0 {
		t.Fatalf("safe: %v %v", fs, err)
	}
}

func TestRemoteWardenBadVerdicts(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(*detect.Verdict)
		check  func([]detect.Finding, error) bool
	}{
		{"detector error", func(v *detect.Verdict) { v.Errors = []detect.DetectorError{{Detector: "classifier", Error: "x"}} },
			func(fs []detect.Finding, err error) bool {
				var ge *guardmodel.Error
				return errors.As(err, &ge) && ge.Kind == guardmodel.ErrUnavailable && strings.Contains(err.Error(), "classifier")
			}},
		{"span outside text", func(v *detect.Verdict) { v.Findings[0].Span = detect.Span{Start: 5, End: 500} },
			func(fs []detect.Finding, err error) bool {
				return err == nil && len(fs) == 1 && fs[0].Whole && fs[0].Span == detect.Span{}
			}},
		{"unknown category", func(v *detect.Verdict) { v.Findings[0].Category = "from_the_future" },
			func(fs []detect.Finding, err error) bool { return err == nil && len(fs) == 0 }},
		{"score out of range", func(v *detect.Verdict) { v.Findings[0].Score = 7 },
			func(fs []detect.Finding, err error) bool { return err != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wardenServer(t, detect.NewPipeline(word{w: "sarin", cat: hazard.CBRNWeapons}), tt.tamper)
			g := mustGuard(t, guardmodel.Config{Name: "hq", Kind: guardmodel.WardenKind, BaseURL: srv.URL, Warden: guardmodel.WardenConfig{Stage: "output"}})
			fs, err := scan(t, context.Background(), g, "make sarin")
			if !tt.check(fs, err) {
				t.Fatalf("findings %+v err %v", fs, err)
			}
		})
	}
	// A response without "verdict" is malformed.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"id":"chk-1"}`)) }))
	defer srv.Close()
	g := mustGuard(t, guardmodel.Config{Name: "hq", Kind: guardmodel.WardenKind, BaseURL: srv.URL})
	var ge *guardmodel.Error
	if _, err := scan(t, context.Background(), g, "x"); !errors.As(err, &ge) || ge.Kind != guardmodel.ErrMalformed {
		t.Fatalf("err = %v", err)
	}
}

func TestChunkedLongText(t *testing.T) {
	filler := strings.Repeat("the weather is mild and the tea is warm ", 30) // 1200 bytes
	text := filler + "then make sarin" + filler
	// Remote Warden: the span found in a later piece points into the whole text.
	srv := wardenServer(t, detect.NewPipeline(word{w: "sarin", cat: hazard.CBRNWeapons}), nil)
	g := mustGuard(t, guardmodel.Config{Name: "hq", Kind: guardmodel.WardenKind, BaseURL: srv.URL, MaxChunkBytes: 512,
		Warden: guardmodel.WardenConfig{Stage: "output"}})
	fs, err := scan(t, context.Background(), g, text)
	if err != nil || len(fs) == 0 {
		t.Fatalf("%+v %v", fs, err)
	}
	for _, f := range fs {
		if text[f.Span.Start:f.Span.End] != "sarin" {
			t.Fatalf("span %+v covers %q", f.Span, text[f.Span.Start:f.Span.End])
		}
	}
	// Llama Guard: several requests, one merged finding.
	llm := newFakeLLM(t)
	cfg := lgConfig(llm.srv.URL)
	cfg.MaxChunkBytes = 512
	lg := mustGuard(t, cfg)
	text = filler + "a nerve agent " + filler + "a nerve agent " + filler
	fs, err = scan(t, context.Background(), lg, text)
	if err != nil || len(fs) != 1 || fs[0].Rule != "S9" {
		t.Fatalf("%+v %v", fs, err)
	}
	if n := llm.requests.Load(); n < 7 || lg.Calls() != uint64(n) {
		t.Fatalf("%d requests, %d calls for %d bytes in 512-byte pieces", n, lg.Calls(), len(text))
	}
	// A piece that fails fails the whole text.
	llm.requests.Store(0)
	_, err = scan(t, context.Background(), lg, filler+"boom"+filler)
	var ge *guardmodel.Error
	if !errors.As(err, &ge) || ge.Status != 500 {
		t.Fatalf("err %v", err)
	}
}

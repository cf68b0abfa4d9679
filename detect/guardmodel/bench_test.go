package guardmodel_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/hazard"
)

const benchText = "Explain how vaccines train the immune system to recognise a virus, in three short paragraphs."

// BenchmarkGuardCacheHit is the cost of a repeated text: SHA-256 key and LRU
// lookup, no network.
func BenchmarkGuardCacheHit(b *testing.B) {
	srv := newFakeLLM(&testing.T{})
	defer srv.srv.Close()
	g, _ := guardmodel.New(lgConfig(srv.srv.URL))
	doc := &detect.Document{Text: benchText}
	ctx := context.Background()
	if _, err := g.Scan(ctx, doc, nil); err != nil {
		b.Fatal(err)
	}
	var dst []detect.Finding
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = g.Scan(ctx, doc, dst[:0])
	}
}

// BenchmarkGuardRoundTrip is one uncached Llama Guard call to a local
// OpenAI-compatible server that answers at once: Warden's own overhead
// (prompt, JSON, HTTP on loopback, parse), not a model's latency.
func BenchmarkGuardRoundTrip(b *testing.B) {
	for _, mode := range []string{guardmodel.ModeChat, guardmodel.ModeCompletions} {
		b.Run(mode, func(b *testing.B) {
			srv := newFakeLLM(&testing.T{})
			defer srv.srv.Close()
			cfg := lgConfig(srv.srv.URL)
			cfg.CacheSize = -1
			cfg.LlamaGuard.Mode = mode
			g, _ := guardmodel.New(cfg)
			doc := &detect.Document{Text: benchText}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Scan(ctx, doc, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCascadeNoEscalation is the cascade's decision cost when the
// built-in scores are sure (outside the band), so the guard is not called.
func BenchmarkCascadeNoEscalation(b *testing.B) {
	srv := newFakeLLM(&testing.T{})
	defer srv.srv.Close()
	g, _ := guardmodel.New(lgConfig(srv.srv.URL))
	c, _ := guardmodel.NewCascade(guardmodel.Escalation{Lo: 0.3, Hi: 0.7}, g, fixed{
		{Category: hazard.Hate, Score: 0.95, Whole: true, Detector: "classifier"},
		{Category: hazard.SelfHarm, Score: 0.1, Whole: true, Detector: "classifier"},
		{Category: hazard.PII, Score: 1, Span: detect.Span{Start: 0, End: 4}, Detector: "pii"},
	})
	doc := &detect.Document{Text: benchText}
	ctx := context.Background()
	var dst []detect.Finding
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = c.Scan(ctx, doc, dst[:0])
	}
	if c.Escalations() != 0 {
		b.Fatal("escalated")
	}
}

// fixed is a detector that always reports the same findings.
type fixed []detect.Finding

func (fixed) Name() string    { return "fixed" }
func (fixed) Version() string { return "1" }
func (f fixed) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	return append(dst, f...), nil
}

func BenchmarkParseAnswer(b *testing.B) {
	for i, s := range []string{"safe", "unsafe\nS1,S9"} {
		b.Run(fmt.Sprint(i), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := guardmodel.ParseAnswer(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

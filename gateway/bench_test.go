package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/lexicon"
	"github.com/warden-safety/warden/detect/pii"
	"github.com/warden-safety/warden/gateway"
	"github.com/warden-safety/warden/gateway/fakellm"
	"github.com/warden-safety/warden/gateway/loadtest"
)

// benchPipeline is what the benchmarks scan with: the lexicon and PII
// detectors (the classifier is left out, as documented in
// docs/bench-gateway.md).
func benchPipeline(b *testing.B) *detect.Pipeline {
	lex, err := lexicon.New()
	if err != nil {
		b.Fatal(err)
	}
	return detect.NewPipeline(lex, pii.New())
}

// chat2KiB is a benign chat request of about 2 KiB.
func chat2KiB(stream bool) []byte {
	para := "Please summarise the following notes about our quarterly garden club meeting, keeping the tone friendly. "
	user := strings.Repeat(para, 17)
	s := ""
	if stream {
		s = `,"stream":true`
	}
	body := fmt.Sprintf(`{"model":"fake-bench","messages":[{"role":"system","content":"You are a helpful assistant that writes short summaries."},{"role":"user","content":%q}]%s}`, user, s)
	return []byte(body)
}

type benchEnv struct {
	fake    *fakellm.Server
	fakeURL string
	gwURL   string
}

func newBenchEnv(b *testing.B, fc fakellm.Config) *benchEnv {
	fake := fakellm.New(fc)
	fu, stop, err := fake.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	gw, err := gateway.New(gateway.Config{Pipeline: benchPipeline(b), Upstreams: []gateway.Upstream{
		{Name: "fake", Kind: gateway.KindCompatible, BaseURL: fu, Models: []string{"fake-*"}}}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	b.Cleanup(srv.Close)
	return &benchEnv{fake: fake, fakeURL: fu, gwURL: srv.URL}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// BenchmarkLoadChat2KiB sends 2 KiB non-streamed chat requests at 2,000
// requests/s (open loop) for WARDEN_BENCH_SECONDS (5) seconds, first to the
// fake upstream directly, then through the gateway, and reports the
// latency percentiles of both and the difference (the added latency).
// Run it once: go test ./gateway -run XXX -bench LoadChat2KiB -benchtime 1x
func BenchmarkLoadChat2KiB(b *testing.B) {
	rate := envInt("WARDEN_BENCH_RATE", 2000)
	secs := envInt("WARDEN_BENCH_SECONDS", 5)
	answer := strings.Repeat("A short friendly summary of the garden club meeting. ", 4)
	e := newBenchEnv(b, fakellm.Config{Responder: func(string) string { return answer }})
	body := chat2KiB(false)
	client := loadtest.NewClient(256)
	ctx := context.Background()
	run := func(url string, count int) loadtest.Result {
		r, err := loadtest.Run(ctx, loadtest.Config{URL: url + "/v1/chat/completions", Body: body, Rate: rate, Count: count, Client: client})
		if err != nil {
			b.Fatal(err)
		}
		if r.Failed > 0 {
			b.Fatalf("%d of %d requests failed", r.Failed, r.Sent)
		}
		return r
	}
	for b.Loop() {
		run(e.fakeURL, rate/2) // warm up connections and caches
		run(e.gwURL, rate/2)
		direct := run(e.fakeURL, rate*secs)
		gw := run(e.gwURL, rate*secs)
		b.ReportMetric(us(direct.Percentile(50)), "direct-p50-µs")
		b.ReportMetric(us(direct.Percentile(99)), "direct-p99-µs")
		b.ReportMetric(us(gw.Percentile(50)), "gateway-p50-µs")
		b.ReportMetric(us(gw.Percentile(99)), "gateway-p99-µs")
		b.ReportMetric(us(gw.Percentile(50)-direct.Percentile(50)), "added-p50-µs")
		b.ReportMetric(us(gw.Percentile(99)-direct.Percentile(99)), "added-p99-µs")
		b.ReportMetric(us(max(direct.Lag, gw.Lag)), "max-send-lag-µs")
		b.ReportMetric(float64(gw.Sent)/gw.Duration.Seconds(), "gateway-req/s")
	}
}

// BenchmarkGatewayInProcess measures the gateway's own CPU time and
// allocations per 2 KiB chat request, with the echo model in process (no
// sockets).
func BenchmarkGatewayInProcess(b *testing.B) {
	gw, err := gateway.New(gateway.Config{Pipeline: benchPipeline(b)})
	if err != nil {
		b.Fatal(err)
	}
	body := strings.Replace(string(chat2KiB(false)), "fake-bench", fakellm.EchoModel, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkStreamFirstByte opens 50 concurrent streams whose upstream sends
// one word every 2 ms, directly and through the gateway, and reports the
// time to the first byte and to the first answer text.
func BenchmarkStreamFirstByte(b *testing.B) {
	answer := strings.Repeat("garden ", 150)
	e := newBenchEnv(b, fakellm.Config{Responder: func(string) string { return answer }, ChunkDelay: 2 * time.Millisecond})
	body := chat2KiB(true)
	text := func(line string) bool {
		return strings.Contains(line, `"content":"garden`) || strings.Contains(line, `"content":" garden`)
	}
	for b.Loop() {
		for _, side := range []struct{ name, url string }{{"direct", e.fakeURL}, {"gateway", e.gwURL}} {
			r := loadtest.Streams(context.Background(), loadtest.StreamConfig{URL: side.url + "/v1/chat/completions", Body: body,
				Concurrent: 50, TextMarker: text})
			if r.Failed > 0 {
				b.Fatalf("%s: %d streams failed", side.name, r.Failed)
			}
			b.ReportMetric(float64(loadtest.Median(r.FirstByte))/1e6, side.name+"-first-byte-ms")
			b.ReportMetric(float64(loadtest.Median(r.FirstText))/1e6, side.name+"-first-text-ms")
			b.ReportMetric(float64(loadtest.Median(r.Total))/1e6, side.name+"-total-ms")
		}
	}
}

// BenchmarkStreams1000 holds 1,000 streams open through the gateway at
// once (each 200 words, one every 10 ms) and reports the process's resident
// memory while they are all open. The process also runs the fake upstream
// and the 1,000 clients, so this is an upper bound on the gateway's share.
func BenchmarkStreams1000(b *testing.B) {
	n := envInt("WARDEN_BENCH_STREAMS", 1000)
	answer := strings.Repeat("garden ", 200)
	e := newBenchEnv(b, fakellm.Config{Responder: func(string) string { return answer }, ChunkDelay: 10 * time.Millisecond})
	body := chat2KiB(true)
	for b.Loop() {
		base, _, _ := loadtest.RSS()
		var rss int64
		r := loadtest.Streams(context.Background(), loadtest.StreamConfig{URL: e.gwURL + "/v1/chat/completions", Body: body,
			Concurrent: n, Timeout: 60 * time.Second, Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n + 8}},
			Sample: func() {
				time.Sleep(500 * time.Millisecond)
				rss, _, _ = loadtest.RSS()
			}})
		if r.Failed > 0 {
			b.Fatalf("%d of %d streams failed", r.Failed, n)
		}
		_, peak, _ := loadtest.RSS()
		b.ReportMetric(float64(base)/(1<<20), "rss-before-MB")
		b.ReportMetric(float64(rss)/(1<<20), "rss-1000-open-MB")
		b.ReportMetric(float64(peak)/(1<<20), "rss-peak-MB")
		b.ReportMetric(float64(loadtest.Median(r.Total))/1e6, "stream-median-ms")
	}
}

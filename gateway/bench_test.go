package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
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
	user := strings.Repeat(para, 18)
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
	if os.Getenv("WARDEN_BENCH_CHILD") != "" {
		// The gateway in its own process, apart from the generator and the fake.
		url, _, stop := startChildGateway(b, e.fakeURL)
		defer stop()
		e.gwURL = url
	}
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
				Concurrent: envInt("WARDEN_BENCH_CONCURRENT", 50), TextMarker: text})
			if r.Failed > 0 {
				b.Fatalf("%s: %d streams failed: %v", side.name, r.Failed, r.Errors)
			}
			b.ReportMetric(float64(loadtest.Median(r.FirstByte))/1e6, side.name+"-first-byte-ms")
			b.ReportMetric(float64(loadtest.Median(r.FirstText))/1e6, side.name+"-first-text-ms")
			b.ReportMetric(float64(loadtest.Median(r.Total))/1e6, side.name+"-total-ms")
		}
	}
}

// TestMain lets the test binary run as a gateway child process (for
// measuring the gateway's own memory, apart from the fake upstream and
// the load generator): with WARDEN_BENCH_CHILD_UPSTREAM set it serves a
// gateway in front of that URL, prints its address, and exits when its
// standard input closes.
func TestMain(m *testing.M) {
	// Benchmarks measure the gateway as `warden serve` runs it.
	gateway.TuneGC(0, 0, os.Getenv)
	if up := os.Getenv("WARDEN_BENCH_CHILD_UPSTREAM"); up != "" {
		if err := runChildGateway(up); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

func runChildGateway(upstream string) error {
	lex, err := lexicon.New()
	if err != nil {
		return err
	}
	gw, err := gateway.New(gateway.Config{Pipeline: detect.NewPipeline(lex, pii.New()), Upstreams: []gateway.Upstream{
		{Name: "fake", Kind: gateway.KindCompatible, BaseURL: upstream, Models: []string{"fake-*"}}}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: gw}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("ADDR %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	return srv.Close()
}

// startChildGateway runs the gateway in a child process and returns its
// URL, its pid and a stop function.
func startChildGateway(b *testing.B, upstream string) (string, int, func()) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WARDEN_BENCH_CHILD_UPSTREAM="+upstream)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		b.Fatalf("child gateway: %q %v", line, err)
	}
	return "http://" + strings.TrimSpace(strings.TrimPrefix(line, "ADDR ")), cmd.Process.Pid, func() {
		stdin.Close()
		_ = cmd.Wait()
	}
}

// procRSS reads VmRSS and VmHWM of a process in bytes.
func procRSS(pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n << 10
		case "VmHWM:":
			peak = n << 10
		}
	}
	return rss, peak
}

// BenchmarkStreams1000 holds 1,000 streams open at once through a gateway
// running in its own process (each stream 100 words, one every 20 ms) and
// reports that process's resident memory while they are all open and its
// peak.
func BenchmarkStreams1000(b *testing.B) {
	n := envInt("WARDEN_BENCH_STREAMS", 1000)
	answer := strings.Repeat("garden ", 100)
	fake := fakellm.New(fakellm.Config{Responder: func(string) string { return answer }, ChunkDelay: 20 * time.Millisecond})
	fu, stop, err := fake.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	gwURL, pid, stopChild := startChildGateway(b, fu)
	defer stopChild()
	body := chat2KiB(true)
	for b.Loop() {
		base, _ := procRSS(pid)
		var rss int64
		r := loadtest.Streams(context.Background(), loadtest.StreamConfig{URL: gwURL + "/v1/chat/completions", Body: body,
			Concurrent: n, Timeout: 90 * time.Second, Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n + 8}},
			Sample: func() {
				time.Sleep(300 * time.Millisecond)
				rss, _ = procRSS(pid)
			}})
		if r.Failed > 0 {
			b.Fatalf("%d of %d streams failed: %v", r.Failed, n, r.Errors)
		}
		_, peak := procRSS(pid)
		b.ReportMetric(float64(base)/(1<<20), "gateway-rss-idle-MB")
		b.ReportMetric(float64(rss)/(1<<20), "gateway-rss-all-open-MB")
		b.ReportMetric(float64(peak)/(1<<20), "gateway-rss-peak-MB")
		b.ReportMetric(float64(loadtest.Median(r.FirstByte))/1e6, "first-byte-median-ms")
		b.ReportMetric(float64(loadtest.Median(r.Total))/1e6, "stream-median-ms")
	}
}

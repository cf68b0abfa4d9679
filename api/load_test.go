package api_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/warden-safety/warden/api"
	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/classifier"
	"github.com/warden-safety/warden/detect/lexicon"
	"github.com/warden-safety/warden/detect/pii"
	"github.com/warden-safety/warden/internal/loadgen"
	"github.com/warden-safety/warden/policy"
)

// BenchmarkModerationsLoopback serves /v1/moderations on a real loopback
// socket and drives it with the bounded load generator (closed loop, 64
// keep-alive connections), reporting requests per second. The detectors are
// the lexicon and PII ones; the prompt is a typical ~250-byte request.
//
//	go test ./api -run '^$' -bench ModerationsLoopback -benchtime 100000x
func BenchmarkModerationsLoopback(b *testing.B) { benchModerations(b, false) }

// BenchmarkModerationsLoopbackClassifier is the same with the trained
// classifier in the pipeline, as `warden serve` runs by default.
func BenchmarkModerationsLoopbackClassifier(b *testing.B) { benchModerations(b, true) }

func benchModerations(b *testing.B, withClassifier bool) {
	lex, err := lexicon.New()
	if err != nil {
		b.Fatal(err)
	}
	ds := []detect.Detector{lex, pii.New()}
	if withClassifier {
		clf, err := classifier.New()
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, clf)
	}
	mux := http.NewServeMux()
	api.New(api.Config{Pipeline: detect.NewPipeline(ds...), Policy: policy.NewStore(policy.Default())}).Register(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	body := []byte(`{"input": "Can you help me write a polite email to my landlord asking to fix the heating? It has been broken for a week and the apartment is very cold at night. I would like it repaired before the weekend if possible.", "model": "omni-moderation-latest"}`)
	b.ResetTimer()
	r, err := loadgen.Run(context.Background(), loadgen.Config{Addr: ln.Addr().String(), Path: "/v1/moderations", Body: body, Conns: 64, Requests: int64(b.N), Duration: 2 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if r.Errors > 0 || r.Non2xx > 0 {
		b.Fatalf("%v", r)
	}
	b.ReportMetric(r.PerSecond, "req/s")
	b.ReportMetric(float64(r.P99.Microseconds()), "p99-µs")
}

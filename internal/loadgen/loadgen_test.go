package loadgen_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-safety/warden/internal/loadgen"
)

func TestRunIsBoundedAndCounts(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != `{"x":1}` {
			w.WriteHeader(400)
		}
		if n.Add(1)%10 == 0 {
			w.WriteHeader(500)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	r, err := loadgen.Run(context.Background(), loadgen.Config{Addr: addr, Path: "/", Body: []byte(`{"x":1}`), Conns: 4, Requests: 200})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 200 || n.Load() != 200 || r.Errors != 0 || r.Non2xx != 20 {
		t.Errorf("%v (server saw %d)", r, n.Load())
	}
	if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
		t.Errorf("latencies %v", r)
	}
	// Paced run: 20 requests at 200/s take about 100 ms.
	start := time.Now()
	r, _ = loadgen.Run(context.Background(), loadgen.Config{Addr: addr, Path: "/", Body: []byte(`{"x":1}`), Conns: 2, Requests: 20, Rate: 200})
	if d := time.Since(start); d < 90*time.Millisecond || r.Requests != 20 {
		t.Errorf("paced run took %v: %v", d, r)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, a := range []string{"10.0.0.1:80", "192.168.1.1:8080", "example.com:80", "8.8.8.8:53"} {
		if _, err := loadgen.Run(context.Background(), loadgen.Config{Addr: a, Requests: 1}); err == nil {
			t.Errorf("%s accepted", a)
		}
	}
}

package loadtest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/warden-safety/warden/gateway/loadtest"
)

func TestRunIsBoundedAndCounts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	start := time.Now()
	r, err := loadtest.Run(context.Background(), loadtest.Config{URL: srv.URL, Body: []byte("{}"), Rate: 200, Count: 40})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 40 || r.OK != 40 || len(r.Latencies) != 40 || r.Percentile(50) <= 0 || r.Percentile(50) > r.Percentile(99) {
		t.Fatalf("%+v", r)
	}
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Fatalf("40 requests at 200/s took %s: the rate was not kept", el)
	}
	r, _ = loadtest.Run(context.Background(), loadtest.Config{URL: srv.URL + "/fail", Rate: 100, Count: 5})
	if r.Failed != 5 || r.OK != 0 {
		t.Fatalf("failures: %+v", r)
	}
	if _, err := loadtest.Run(context.Background(), loadtest.Config{URL: srv.URL}); err == nil {
		t.Fatal("zero rate accepted")
	}
}

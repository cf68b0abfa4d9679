package guardmodel_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-safety/warden/detect/guardmodel"
)

// flaky answers the first `fails` requests with status (and Retry-After
// when retryAfter is set), then with a safe moderation result.
func flaky(t *testing.T, fails int64, status int, retryAfter string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	body := readFile(t, "testdata/moderation_safe.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1) <= fails {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func modConfig(base string, retries int) guardmodel.Config {
	return guardmodel.Config{Name: "oai", Kind: guardmodel.ModerationKind, BaseURL: base, Model: "omni-moderation-latest",
		Retries: retries, Timeout: guardmodel.Duration(3 * time.Second), CacheSize: -1}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	// Two 429s with Retry-After: 0, then success: 2 retries suffice.
	srv, n := flaky(t, 2, http.StatusTooManyRequests, "0")
	g := mustGuard(t, modConfig(srv.URL, 2))
	if _, err := scan(t, ctx, g, "hi"); err != nil || n.Load() != 3 {
		t.Fatalf("err %v after %d requests", err, n.Load())
	}
	// One retry is not enough: the 429 is reported with its code.
	srv, n = flaky(t, 2, http.StatusTooManyRequests, "0")
	g = mustGuard(t, modConfig(srv.URL, 1))
	_, err := scan(t, ctx, g, "hi")
	var ge *guardmodel.Error
	if !errors.As(err, &ge) || ge.Status != 429 || !strings.Contains(err.Error(), "rate_limit_exceeded") || n.Load() != 2 {
		t.Fatalf("err %v after %d requests", err, n.Load())
	}
	// 503 without Retry-After backs off (100 ms) and succeeds.
	srv, n = flaky(t, 1, http.StatusServiceUnavailable, "")
	g = mustGuard(t, modConfig(srv.URL, 3))
	start := time.Now()
	if _, err := scan(t, ctx, g, "hi"); err != nil || n.Load() != 2 || time.Since(start) < 90*time.Millisecond {
		t.Fatalf("err %v after %d requests in %v", err, n.Load(), time.Since(start))
	}
	// A client error is not retried.
	srv, n = flaky(t, 5, http.StatusBadRequest, "")
	g = mustGuard(t, modConfig(srv.URL, 3))
	if _, err := scan(t, ctx, g, "hi"); !errors.As(err, &ge) || ge.Kind != guardmodel.ErrRejected || n.Load() != 1 {
		t.Fatalf("err %v after %d requests", err, n.Load())
	}
	// A Retry-After beyond the call's timeout fails at once.
	srv, n = flaky(t, 5, http.StatusTooManyRequests, "60")
	g = mustGuard(t, modConfig(srv.URL, 3))
	start = time.Now()
	if _, err := scan(t, ctx, g, "hi"); err == nil || n.Load() != 1 || time.Since(start) > time.Second {
		t.Fatalf("err %v after %d requests in %v", err, n.Load(), time.Since(start))
	}
	if c := modConfig(srv.URL, 9); c.Validate() == nil {
		t.Fatal("retries 9 accepted")
	}
}

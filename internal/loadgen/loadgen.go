// Package loadgen is a small, bounded HTTP/1.1 load generator for Warden's
// loopback benchmarks. It keeps one request in flight per connection over
// persistent connections, writes pre-built request bytes and reads
// responses with net/http's parser, so little of the machine's CPU goes to
// the generator itself. It refuses any address that is not loopback.
package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes a run. A run stops when Requests have been sent or
// Duration has passed, whichever comes first; at least one must be set.
type Config struct {
	Addr     string // host:port, must be loopback
	Method   string // default POST
	Path     string
	Body     []byte
	Header   http.Header
	Conns    int // concurrent connections (default 16)
	Requests int64
	Duration time.Duration
	// Rate, when > 0, paces request starts to this many per second across
	// all connections (open-loop latency measurement); 0 is closed-loop.
	Rate float64
}

// Result summarises a run.
type Result struct {
	Requests  int64
	Errors    int64
	Non2xx    int64
	Elapsed   time.Duration
	PerSecond float64
	P50, P90  time.Duration
	P99, Max  time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%d requests in %v (%.0f/s), %d errors, %d non-2xx; latency p50 %v p90 %v p99 %v max %v",
		r.Requests, r.Elapsed.Round(time.Millisecond), r.PerSecond, r.Errors, r.Non2xx, r.P50, r.P90, r.P99, r.Max)
}

// Run executes the load.
func Run(ctx context.Context, cfg Config) (Result, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return Result{}, fmt.Errorf("loadgen: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return Result{}, fmt.Errorf("loadgen: %s is not a loopback address", cfg.Addr)
	}
	if cfg.Requests <= 0 && cfg.Duration <= 0 {
		return Result{}, errors.New("loadgen: set Requests or Duration")
	}
	if cfg.Duration <= 0 || cfg.Duration > 10*time.Minute {
		cfg.Duration = 10 * time.Minute // hard bound
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 16
	}
	if cfg.Method == "" {
		cfg.Method = "POST"
	}
	req := buildRequest(cfg)
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	var sent, errs, non2xx atomic.Int64
	var pace *pacer
	if cfg.Rate > 0 {
		pace = &pacer{every: time.Duration(float64(time.Second) / cfg.Rate), next: time.Now()}
	}
	lats := make([][]time.Duration, cfg.Conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range cfg.Conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var conn net.Conn
			var br *bufio.Reader
			for ctx.Err() == nil {
				if cfg.Requests > 0 && sent.Add(1) > cfg.Requests {
					return
				} else if cfg.Requests <= 0 {
					sent.Add(1)
				}
				at := time.Now()
				if pace != nil {
					at = pace.take()
					if d := time.Until(at); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					}
				}
				if conn == nil {
					c, err := (&net.Dialer{}).DialContext(ctx, "tcp", cfg.Addr)
					if err != nil {
						errs.Add(1)
						continue
					}
					conn, br = c, bufio.NewReaderSize(c, 16<<10)
				}
				conn.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := conn.Write(req); err != nil {
					errs.Add(1)
					conn.Close()
					conn = nil
					continue
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					errs.Add(1)
					conn.Close()
					conn = nil
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				// Latency is measured from the scheduled start, so a
				// slow server cannot hide queueing (coordinated omission).
				lats[i] = append(lats[i], time.Since(at))
				if resp.StatusCode < 200 || resp.StatusCode > 299 {
					non2xx.Add(1)
				}
				if resp.Close {
					conn.Close()
					conn = nil
				}
			}
			if conn != nil {
				conn.Close()
			}
		}(i)
	}
	wg.Wait()
	el := time.Since(start)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := Result{Requests: int64(len(all)), Errors: errs.Load(), Non2xx: non2xx.Load(), Elapsed: el}
	if el > 0 {
		r.PerSecond = float64(len(all)) / el.Seconds()
	}
	if n := len(all); n > 0 {
		q := func(p float64) time.Duration { return all[min(n-1, int(p*float64(n)))] }
		r.P50, r.P90, r.P99, r.Max = q(0.50), q(0.90), q(0.99), all[n-1]
	}
	return r, nil
}

type pacer struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func (p *pacer) take() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.next
	p.next = p.next.Add(p.every)
	return t
}

func buildRequest(cfg Config) []byte {
	b := []byte(cfg.Method + " " + cfg.Path + " HTTP/1.1\r\nHost: " + cfg.Addr + "\r\n")
	for k, vs := range cfg.Header {
		for _, v := range vs {
			b = append(b, k+": "+v+"\r\n"...)
		}
	}
	if cfg.Header.Get("Content-Type") == "" && len(cfg.Body) > 0 {
		b = append(b, "Content-Type: application/json\r\n"...)
	}
	b = append(b, "Content-Length: "+strconv.Itoa(len(cfg.Body))+"\r\n\r\n"...)
	return append(b, cfg.Body...)
}

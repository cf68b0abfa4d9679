// Package loadtest drives bounded, open-loop HTTP load against a gateway
// or an upstream on the loopback interface and measures latency
// percentiles, stream time-to-first-byte and memory. It backs the gateway's
// benchmarks (docs/bench-gateway.md). Every run is bounded in requests and
// time and stops by itself.
package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config is one open-loop run: Count requests sent at Rate per second.
type Config struct {
	URL    string
	Body   []byte
	Header http.Header
	Rate   int
	Count  int
	// Timeout bounds each request and, times 2 plus Count/Rate, the run.
	Timeout time.Duration
	Client  *http.Client
}

// Result summarizes a run. Latencies are sorted.
type Result struct {
	Sent, OK, Failed int
	Latencies        []time.Duration
	// Lag is the largest delay between a request's scheduled and actual
	// send time: a large lag means the generator could not keep the rate.
	Lag      time.Duration
	Duration time.Duration
}

// Percentile returns the p-th percentile (0..100) of the latencies.
func (r Result) Percentile(p float64) time.Duration { return percentile(r.Latencies, p) }

func percentile(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

// NewClient returns a client tuned for loopback load: enough idle
// connections that the run does not measure connection setup.
func NewClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		IdleConnTimeout: time.Minute, DisableCompression: true}}
}

// Run sends cfg.Count POST requests at cfg.Rate per second, each in its own
// goroutine, and measures each from send to the last byte of the body.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Rate <= 0 || cfg.Count <= 0 {
		return Result{}, errors.New("loadtest: rate and count must be positive")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(512)
	}
	budget := 2*cfg.Timeout + time.Duration(cfg.Count)*time.Second/time.Duration(cfg.Rate)
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	interval := time.Second / time.Duration(cfg.Rate)
	lat := make([]time.Duration, cfg.Count)
	ok := make([]bool, cfg.Count)
	var wg sync.WaitGroup
	var res Result
	start := time.Now()
	for i := 0; i < cfg.Count; i++ {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		if ctx.Err() != nil {
			break
		}
		if lag := time.Since(at); lag > res.Lag {
			res.Lag = lag
		}
		res.Sent++
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rctx, rcancel := context.WithTimeout(ctx, cfg.Timeout)
			defer rcancel()
			req, err := http.NewRequestWithContext(rctx, http.MethodPost, cfg.URL, bytes.NewReader(cfg.Body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/json")
			for k, v := range cfg.Header {
				req.Header[k] = v
			}
			t0 := time.Now()
			resp, err := cfg.Client.Do(req)
			if err != nil {
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat[i] = time.Since(t0)
			ok[i] = err == nil && resp.StatusCode == http.StatusOK
		}(i)
	}
	wg.Wait()
	res.Duration = time.Since(start)
	for i := 0; i < res.Sent; i++ {
		if ok[i] {
			res.OK++
			res.Latencies = append(res.Latencies, lat[i])
		} else {
			res.Failed++
		}
	}
	slices.Sort(res.Latencies)
	return res, nil
}

// StreamConfig is Concurrent streams opened at once.
type StreamConfig struct {
	URL        string
	Body       []byte
	Concurrent int
	Timeout    time.Duration
	Client     *http.Client
	// TextMarker is a byte string that appears in the first event that
	// carries answer text ("\"content\":\"" followed by a non-quote, for
	// instance); FirstText measures until it.
	TextMarker func(line string) bool
	// Sample, when set, is called while all streams are open.
	Sample func()
}

// StreamResult summarizes concurrent streams (sorted durations).
type StreamResult struct {
	OK, Failed int
	// Errors counts the failures by message.
	Errors    map[string]int
	FirstByte []time.Duration // to the first body byte
	FirstText []time.Duration // to the first event with answer text
	Total     []time.Duration
}

// Streams opens cfg.Concurrent streams together and reads them to the end.
func Streams(ctx context.Context, cfg StreamConfig) StreamResult {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(cfg.Concurrent + 16)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	type one struct {
		ok                bool
		err               string
		first, text, done time.Duration
	}
	out := make([]one, cfg.Concurrent)
	var wg sync.WaitGroup
	var opened sync.WaitGroup
	opened.Add(cfg.Concurrent)
	for i := 0; i < cfg.Concurrent; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var once sync.Once
			markOpen := func() { once.Do(opened.Done) }
			defer markOpen()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(cfg.Body))
			if err != nil {
				out[i].err = err.Error()
				return
			}
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := cfg.Client.Do(req)
			if err != nil {
				out[i].err = err.Error()
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			o := one{}
			for {
				line, err := br.ReadString('\n')
				if o.first == 0 && len(line) > 0 {
					o.first = time.Since(t0)
					markOpen()
				}
				if o.text == 0 && cfg.TextMarker != nil && cfg.TextMarker(line) {
					o.text = time.Since(t0)
				}
				if err != nil {
					o.ok = err == io.EOF && resp.StatusCode == 200
					if !o.ok {
						o.err = fmt.Sprintf("status %d: %v", resp.StatusCode, err)
					}
					break
				}
			}
			o.done = time.Since(t0)
			out[i] = o
		}(i)
	}
	if cfg.Sample != nil {
		opened.Wait()
		cfg.Sample()
	}
	wg.Wait()
	var r StreamResult
	r.Errors = map[string]int{}
	for _, o := range out {
		if !o.ok {
			r.Failed++
			r.Errors[o.err]++
			continue
		}
		r.OK++
		r.FirstByte = append(r.FirstByte, o.first)
		r.FirstText = append(r.FirstText, o.text)
		r.Total = append(r.Total, o.done)
	}
	slices.Sort(r.FirstByte)
	slices.Sort(r.FirstText)
	slices.Sort(r.Total)
	return r
}

// Median returns the median of sorted durations.
func Median(s []time.Duration) time.Duration { return percentile(s, 50) }

// P returns the p-th percentile of sorted durations.
func P(s []time.Duration, p float64) time.Duration { return percentile(s, p) }

// RSS returns this process's resident set size and its peak (VmHWM) in
// bytes, from /proc/self/status (Linux).
func RSS() (rss, peak int64, err error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, fmt.Errorf("loadtest: rss: %w", err)
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
	return rss, peak, nil
}

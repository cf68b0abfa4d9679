// Package redteam measures how a model, a guard, or a model behind a
// Warden gateway fails under attack. A run takes cases from suites
// (package suite), rewrites each with mutator chains (package mutate),
// sends the attempts to a target (package target) with bounded concurrency,
// a rate limit, retries and a budget, judges each answer (package judge),
// and summarises the result as a versioned scorecard whose SHA-256 digest a
// model release signed by the safety board can name.
//
// Every attempt is appended to a JSONL log as it finishes; a run started
// again with the same log skips the attempts already done, so an
// interrupted run resumes where it stopped. Each attempt records its
// target's identity (target.Identity: the endpoint, or the detector
// versions), and a log holding attempts against another target is refused
// rather than silently reused.
package redteam

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warden-safety/warden/redteam/judge"
	"github.com/warden-safety/warden/redteam/mutate"
	"github.com/warden-safety/warden/redteam/suite"
	"github.com/warden-safety/warden/redteam/target"
)

// Config describes a run.
type Config struct {
	Target target.Target
	// Builtin marks the in-process detector target: an attempt succeeds
	// when it is not flagged, and a benign case is a false positive when it
	// is.
	Builtin  bool
	Suites   []*suite.Suite
	Mutators []*mutate.Chain
	// Judges decide model answers; the first is the primary judge whose
	// verdict counts. With two or more, their agreement is reported.
	Judges []judge.Judge
	Seed   uint64

	Concurrency int           // parallel attempts (default 4)
	RatePerSec  float64       // request starts per second (0 = unlimited)
	MaxRetries  int           // on 429/5xx and transport errors (default 3)
	Timeout     time.Duration // per request (default 60s)
	// Budget: the run stops cleanly when either is reached (0 = no cap).
	MaxRequests int64
	MaxTokens   int64

	// LogPath is the JSONL attempt log, used to resume.
	LogPath string
	// Private omits prompts and responses from the log.
	Private bool
	// Progress, when set, receives a progress line with ETA.
	Progress io.Writer
	// OnTokens receives token usage as it is spent (metering for the
	// safety-compute commitment).
	OnTokens func(prompt, completion int64)
	// Backoff is the first retry delay (default 500ms), doubled each time.
	Backoff time.Duration
}

// Attempt is one line of the attempt log.
type Attempt struct {
	ID       string `json:"id"`
	CaseID   string `json:"case_id"`
	Category string `json:"category,omitempty"`
	Expect   string `json:"expect"`
	Lang     string `json:"lang,omitempty"`
	Source   string `json:"source,omitempty"`
	Mutator  string `json:"mutator"`
	Seed     uint64 `json:"seed"`
	// Target is the identity of the target the attempt was made against
	// (target.Identity).
	Target   string `json:"target,omitempty"`
	Prompt   string `json:"prompt,omitempty"`
	Mutated  string `json:"mutated,omitempty"`
	Turns    int    `json:"turns"`
	Response string `json:"response,omitempty"`
	Blocked  bool   `json:"blocked"`
	// Judgements by judge name.
	Judgements map[string]judge.Judgement `json:"judgements,omitempty"`
	// Success: for a harmful case, the attack succeeded (harmful
	// compliance, or for builtin: not flagged); for a benign case, the
	// target over-refused (for builtin: a false positive).
	Success          bool    `json:"success"`
	Error            string  `json:"error,omitempty"`
	PromptTokens     int64   `json:"prompt_tokens,omitempty"`
	CompletionTokens int64   `json:"completion_tokens,omitempty"`
	LatencyMS        float64 `json:"latency_ms"`
}

// job is one planned attempt.
type job struct {
	c     suite.Case
	chain *mutate.Chain
	seed  uint64
	id    string
}

// plan lists every attempt of the run in a deterministic order.
func plan(cfg *Config) []job {
	var jobs []job
	for _, s := range cfg.Suites {
		for _, c := range s.Cases {
			for _, m := range cfg.Mutators {
				h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%d", s.Name, c.ID, m.Name, cfg.Seed)))
				seed := cfg.Seed ^ uint64(h[0])<<56 ^ uint64(h[1])<<48 ^ uint64(h[2])<<40 ^ uint64(h[3])<<32 ^ uint64(h[4])<<24 ^ uint64(h[5])<<16 ^ uint64(h[6])<<8 ^ uint64(h[7])
				jobs = append(jobs, job{c: c, chain: m, seed: seed, id: hex.EncodeToString(h[:8])})
			}
		}
	}
	return jobs
}

// Run executes the run and returns every attempt (resumed ones included)
// and why it stopped early ("" when it finished).
func Run(ctx context.Context, cfg Config) ([]Attempt, string, error) {
	if cfg.Target == nil {
		return nil, "", errors.New("redteam: no target")
	}
	if len(cfg.Mutators) == 0 {
		none, _ := mutate.ParseChain("none")
		cfg.Mutators = []*mutate.Chain{none}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	} else if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	jobs := plan(&cfg)
	done := map[string]Attempt{}
	var logw *os.File
	if cfg.LogPath != "" {
		prev, err := ReadLog(cfg.LogPath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, "", err
		}
		id := target.Identity(cfg.Target)
		for _, a := range prev {
			if a.Target != id {
				return nil, "", fmt.Errorf("redteam: %s holds attempts against %q, not %q: write this run to another directory, or remove the log to start over", cfg.LogPath, a.Target, id)
			}
			if a.Error == "" {
				done[a.ID] = a
			}
		}
		logw, err = os.OpenFile(cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, "", fmt.Errorf("redteam: %w", err)
		}
		defer logw.Close()
	}
	r := &runner{cfg: &cfg, log: logw, lim: newLimiter(cfg.RatePerSec), id: target.Identity(cfg.Target)}
	var todo []job
	var results []Attempt
	for _, j := range jobs {
		if a, ok := done[j.id]; ok {
			results = append(results, a)
			continue
		}
		todo = append(todo, j)
	}
	bar := newBar(cfg.Progress, len(todo))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan job)
	out := make(chan Attempt)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				out <- r.attempt(ctx, j)
			}
		}()
	}
	go func() {
		defer close(work)
		for _, j := range todo {
			if r.stopped() != "" {
				return
			}
			select {
			case work <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()
	var werr error
	for a := range out {
		if a.Error == errBudget {
			continue // not attempted: the budget ran out first
		}
		if ctx.Err() != nil && a.Error != "" {
			continue // interrupted: will be retried on resume
		}
		results = append(results, a)
		if logw != nil && werr == nil {
			b, _ := json.Marshal(a)
			if _, err := logw.Write(append(b, '\n')); err != nil {
				werr = fmt.Errorf("redteam: writing log: %w", err)
				cancel()
			}
		}
		bar.step()
	}
	bar.finish()
	if werr != nil {
		return results, "", werr
	}
	sortAttempts(results, jobs)
	stop := r.stopped()
	if stop == "" && ctx.Err() != nil {
		stop = "interrupted"
	}
	return results, stop, nil
}

func sortAttempts(as []Attempt, jobs []job) {
	order := make(map[string]int, len(jobs))
	for i, j := range jobs {
		order[j.id] = i
	}
	sort.SliceStable(as, func(i, k int) bool { return order[as[i].ID] < order[as[k].ID] })
}

const errBudget = "budget exhausted before this attempt"

type runner struct {
	cfg      *Config
	log      *os.File
	id       string // the target's identity, recorded on every attempt
	lim      *limiter
	requests atomic.Int64
	tokens   atomic.Int64
	stop     atomic.Value // string
}

func (r *runner) stopped() string {
	s, _ := r.stop.Load().(string)
	return s
}

// reserve takes one request from the budget.
func (r *runner) reserve() bool {
	if r.cfg.MaxTokens > 0 && r.tokens.Load() >= r.cfg.MaxTokens {
		r.stop.CompareAndSwap(nil, fmt.Sprintf("budget: %d tokens spent (cap %d)", r.tokens.Load(), r.cfg.MaxTokens))
		return false
	}
	if n := r.requests.Add(1); r.cfg.MaxRequests > 0 && n > r.cfg.MaxRequests {
		r.stop.CompareAndSwap(nil, fmt.Sprintf("budget: %d requests sent (cap %d)", r.cfg.MaxRequests, r.cfg.MaxRequests))
		return false
	}
	return true
}

func (r *runner) attempt(ctx context.Context, j job) Attempt {
	a := Attempt{ID: j.id, CaseID: j.c.ID, Category: string(j.c.Category), Expect: j.c.Expect,
		Lang: j.c.Lang, Source: j.c.Source, Mutator: j.chain.Name, Seed: j.seed, Target: r.id}
	at := j.chain.Apply(j.c.Prompt, j.seed)
	if !r.cfg.Private {
		a.Prompt = j.c.Prompt
		a.Mutated = at.Text()
	}
	start := time.Now()
	var resp target.Response
	var err error
	if at.Interactive && !r.cfg.Builtin {
		resp, a.Turns, err = r.interactive(ctx, at)
	} else {
		a.Turns = len(at.Turns)
		resp, err = r.send(ctx, at.Turns)
	}
	a.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	a.PromptTokens, a.CompletionTokens = resp.PromptTokens, resp.CompletionTokens
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.Blocked = resp.Blocked
	if !r.cfg.Private {
		a.Response = resp.Text
	}
	harmful := j.c.Expect == suite.Refuse
	if r.cfg.Builtin {
		if harmful {
			a.Success = !resp.Blocked
		} else {
			a.Success = resp.Blocked
		}
		return a
	}
	in := judge.Input{Goal: j.c.Prompt, Category: j.c.Category, HarmfulRequest: harmful, Response: resp.Text, Blocked: resp.Blocked}
	a.Judgements = map[string]judge.Judgement{}
	for i, jd := range r.cfg.Judges {
		v, err := jd.Judge(ctx, in)
		if err != nil {
			if i == 0 {
				a.Error = "judge " + jd.Name() + ": " + err.Error()
				return a
			}
			continue
		}
		a.Judgements[jd.Name()] = v
		if i == 0 {
			if harmful {
				a.Success = v.Harmful && !v.Refused
			} else {
				a.Success = v.Refused
			}
		}
	}
	return a
}

// interactive plays a multi-turn escalation, sending the user turns one at
// a time with the target's real answers in between.
func (r *runner) interactive(ctx context.Context, at mutate.Attempt) (target.Response, int, error) {
	var hist []mutate.Turn
	var total target.Response
	n := 0
	for _, t := range at.Turns {
		if t.Role != "user" {
			continue
		}
		hist = append(hist, t)
		n++
		resp, err := r.send(ctx, hist)
		total.PromptTokens += resp.PromptTokens
		total.CompletionTokens += resp.CompletionTokens
		if err != nil {
			return total, n, err
		}
		total.Text, total.Blocked = resp.Text, resp.Blocked
		if resp.Blocked {
			return total, n, nil
		}
		hist = append(hist, mutate.Turn{Role: "assistant", Content: resp.Text})
	}
	return total, n, nil
}

// send makes one request with rate limiting, retries and the budget.
func (r *runner) send(ctx context.Context, turns []mutate.Turn) (target.Response, error) {
	var last error
	backoff := r.cfg.Backoff
	for try := 0; try <= r.cfg.MaxRetries; try++ {
		if !r.reserve() {
			return target.Response{}, errors.New(errBudget)
		}
		if err := r.lim.wait(ctx); err != nil {
			return target.Response{}, err
		}
		cctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		resp, err := r.cfg.Target.Send(cctx, turns)
		cancel()
		if t := resp.PromptTokens + resp.CompletionTokens; t > 0 {
			r.tokens.Add(t)
			if r.cfg.OnTokens != nil {
				r.cfg.OnTokens(resp.PromptTokens, resp.CompletionTokens)
			}
		}
		if err == nil {
			return resp, nil
		}
		last = err
		if ctx.Err() != nil {
			return target.Response{}, ctx.Err()
		}
		var he *target.HTTPError
		if errors.As(err, &he) && !he.Retryable() {
			return target.Response{}, err
		}
		wait := backoff + time.Duration(rand.Int64N(int64(backoff)/2+1))
		if he != nil && he.RetryAfter > wait {
			wait = he.RetryAfter
		}
		backoff *= 2
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return target.Response{}, ctx.Err()
		}
	}
	return target.Response{}, fmt.Errorf("after %d retries: %w", r.cfg.MaxRetries, last)
}

// limiter spaces request starts at least 1/rate apart.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{every: time.Duration(float64(time.Second) / rate)}
}

func (l *limiter) wait(ctx context.Context) error {
	if l.every == 0 {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.every)
	l.mu.Unlock()
	if d := time.Until(at); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// ReadLog reads an attempt log. A torn last line (the run was killed while
// writing it) is ignored; any other bad line is an error naming it.
func ReadLog(path string) ([]Attempt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Attempt
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	var pendingErr error
	for sc.Scan() {
		n++
		if pendingErr != nil {
			return nil, pendingErr
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var a Attempt
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			pendingErr = fmt.Errorf("redteam: log %s line %d: %v", path, n, err)
			continue
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

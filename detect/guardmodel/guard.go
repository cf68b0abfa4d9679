package guardmodel

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

// ErrorKind classifies a guard failure.
type ErrorKind string

const (
	// ErrUnavailable: network error, timeout, HTTP 5xx or 429.
	ErrUnavailable ErrorKind = "unavailable"
	// ErrRejected: the upstream refused the request (other HTTP 4xx, such
	// as a bad API key or an unknown model).
	ErrRejected ErrorKind = "rejected"
	// ErrMalformed: the upstream answered something that cannot be read.
	ErrMalformed ErrorKind = "malformed"
)

// Error is a failed guard call. It never holds the text, the upstream's
// answer or the API key.
type Error struct {
	Guard  string    // "guardmodel:<name>"
	Kind   ErrorKind // what went wrong
	Status int       // HTTP status, 0 when there was none
	Msg    string
	// Open is true when the guard is configured to fail open: Scan returned
	// no error and the scan went on without the guard.
	Open bool
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: %s: HTTP %d: %s", e.Guard, e.Kind, e.Status, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Guard, e.Kind, e.Msg)
}

// FailOpen reports whether the failure was passed over (fail-open mode).
func (e *Error) FailOpen() bool { return e.Open }

// backend is one upstream protocol.
type backend interface {
	assess(ctx context.Context, g *Guard, text string) ([]detect.Finding, error)
	covers(c hazard.Category) bool
	variant() string
}

// Guard is a detect.Detector that asks a guard model.
type Guard struct {
	cfg      Config
	name     string
	key      string
	base     string
	timeout  time.Duration
	client   *http.Client
	cache    *lru
	be       backend
	version  string
	failures atomic.Uint64
	calls    atomic.Uint64
}

var _ detect.Detector = (*Guard)(nil)

// New returns the guard cfg describes.
func New(cfg Config) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Guard{cfg: cfg, name: "guardmodel:" + cfg.Name, client: cfg.HTTPClient, timeout: time.Duration(cfg.Timeout)}
	g.base = strings.TrimSuffix(strings.TrimSuffix(cfg.BaseURL, "/"), "/v1")
	if g.client == nil {
		g.client = &http.Client{}
	}
	if g.timeout == 0 {
		g.timeout = DefaultTimeout
	}
	g.key = string(cfg.APIKey)
	if g.key == "" && cfg.APIKeyEnv != "" {
		getenv := cfg.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		g.key = getenv(cfg.APIKeyEnv)
		if g.key == "" {
			return nil, fmt.Errorf("guardmodel %s: environment variable %s (api_key_env) is empty", cfg.Name, cfg.APIKeyEnv)
		}
	}
	switch cfg.Kind {
	case LlamaGuardKind:
		g.be = newLlamaGuard(&cfg)
	case ModerationKind:
		g.be = newModeration(&cfg)
	case WardenKind:
		g.be = newRemote(&cfg)
	}
	size := cfg.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	if size > 0 {
		g.cache = newLRU(size)
	}
	g.version = string(cfg.Kind) + ":" + cfg.Model + ":" + g.be.variant()
	return g, nil
}

// Name is "guardmodel:<name>".
func (g *Guard) Name() string { return g.name }

// Version names the protocol, model and prompt variant.
func (g *Guard) Version() string { return g.version }

// Covers reports whether the guard judges category c, so that its silence
// about c means "not c" (Cascade's "guard" resolution uses it).
func (g *Guard) Covers(c hazard.Category) bool { return g.be.covers(c) }

// Failures is the number of failed upstream calls so far.
func (g *Guard) Failures() uint64 { return g.failures.Load() }

// Calls is the number of upstream calls so far (cache hits excluded).
func (g *Guard) Calls() uint64 { return g.calls.Load() }

// Scan asks the guard about doc.Text (and the turns set with
// WithConversation) and appends its findings, all Whole with Detector
// Name(). Failures follow the fail mode (see the package comment); a done
// ctx returns ctx.Err().
func (g *Guard) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	fs, err := g.Check(ctx, doc.Text)
	if err != nil {
		if ctx.Err() != nil {
			return dst, ctx.Err()
		}
		var ge *Error
		if errors.As(err, &ge) && ge.Open {
			return dst, nil
		}
		return dst, err
	}
	return append(dst, fs...), nil
}

// Check asks the guard about text, using the cache. On failure it returns
// a *Error (with Open set in fail-open mode) after calling
// Config.OnFailure, or ctx.Err() when ctx is done. The returned slice must
// not be modified.
func (g *Guard) Check(ctx context.Context, text string) ([]detect.Finding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var key [32]byte
	if g.cache != nil {
		key = g.cacheKey(ctx, text)
		if fs, ok := g.cache.get(key); ok {
			return fs, nil
		}
	}
	fs, err := g.assessChunks(ctx, text)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		g.failures.Add(1)
		var ge *Error
		if !errors.As(err, &ge) {
			ge = &Error{Guard: g.name, Kind: ErrUnavailable, Msg: g.scrub(err.Error())}
		}
		ge.Open = g.cfg.FailMode == FailOpen
		if g.cfg.OnFailure != nil {
			g.cfg.OnFailure(ctx, ge)
		}
		return nil, ge
	}
	if g.cache != nil {
		g.cache.put(key, fs)
	}
	return fs, nil
}

// assessChunks asks the upstream about text, in pieces of at most
// Config.MaxChunkBytes when it is longer, each piece with its own timeout.
// Findings from several pieces are merged: whole-text findings keep the
// highest score per category and rule, span findings are moved to their
// place in text.
func (g *Guard) assessChunks(ctx context.Context, text string) ([]detect.Finding, error) {
	pieces := []chunk{{0, text}}
	if g.cfg.MaxChunkBytes > 0 && len(text) > g.cfg.MaxChunkBytes {
		pieces = chunks(text, g.cfg.MaxChunkBytes)
	}
	var out []detect.Finding
	for _, p := range pieces {
		g.calls.Add(1)
		cctx, cancel := context.WithTimeout(ctx, g.timeout)
		fs, err := g.be.assess(cctx, g, p.text)
		cancel()
		if err != nil {
			return nil, err
		}
		if len(pieces) == 1 {
			return fs, nil
		}
	next:
		for _, f := range fs {
			if !f.Whole {
				f.Span.Start += p.start
				f.Span.End += p.start
			} else {
				for i := range out {
					if o := &out[i]; o.Whole && o.Category == f.Category && o.Rule == f.Rule {
						if f.Score > o.Score {
							*o = f
						}
						continue next
					}
				}
			}
			out = append(out, f)
		}
	}
	return out, nil
}

type chunk struct {
	start int
	text  string
}

// chunks splits text into pieces of at most max bytes that overlap by
// about an eighth of max, so a phrase cut by one boundary is whole in the
// next piece. Cuts fall after whitespace where one is found in the last
// quarter of a piece, and always on a UTF-8 boundary.
func chunks(text string, max int) []chunk {
	overlap := max / 8
	var out []chunk
	for start := 0; ; {
		end := start + max
		if end >= len(text) {
			return append(out, chunk{start, text[start:]})
		}
		cut := end
		for cut > start && !utf8.RuneStart(text[cut]) {
			cut--
		}
		for i := cut; i > start+max*3/4; i-- {
			if c := text[i-1]; c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				cut = i
				break
			}
		}
		if cut <= start { // a single rune longer than max cannot happen for max >= 4
			cut = end
		}
		out = append(out, chunk{start, text[start:cut]})
		next := cut - overlap
		for next > start && next < len(text) && !utf8.RuneStart(text[next]) {
			next--
		}
		if next <= start {
			next = cut
		}
		start = next
	}
}

// cacheKey is SHA-256 over the guard's version (kind, model, prompt
// variant), the conversation and the text, each length-prefixed.
func (g *Guard) cacheKey(ctx context.Context, text string) [32]byte {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		for i, l := 0, uint64(len(s)); i < 8; i++ {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		io.WriteString(h, s)
	}
	field(g.version)
	if g.cfg.Kind == LlamaGuardKind {
		for _, m := range conversation(ctx) {
			field(m.Role)
			field(m.Content)
		}
	}
	field(text)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (g *Guard) errorf(kind ErrorKind, status int, format string, a ...any) *Error {
	return &Error{Guard: g.name, Kind: kind, Status: status, Msg: g.scrub(fmt.Sprintf(format, a...))}
}

// scrub removes the API key from a message, in case a library quoted it.
func (g *Guard) scrub(s string) string {
	if g.key != "" {
		s = strings.ReplaceAll(s, g.key, redacted)
	}
	return s
}

func (g *Guard) recordUsage(ctx context.Context, prompt, completion int) {
	if g.cfg.Usage != nil {
		g.cfg.Usage.RecordUsage(ctx, Usage{Guard: g.name, Model: g.cfg.Model, PromptTokens: prompt, CompletionTokens: completion})
	}
}

// post sends body as JSON to base+path and decodes a 2xx JSON answer into
// out. Failures of kind ErrUnavailable other than the timeout (connection
// errors, HTTP 429 and 5xx) are retried up to Config.Retries times with
// exponential backoff from 100 ms, or after the server's Retry-After when
// it gives one, as long as the call's deadline leaves time for the wait.
func (g *Guard) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return g.errorf(ErrMalformed, 0, "encode request: %v", err)
	}
	for attempt := 0; ; attempt++ {
		retryAfter, err := g.postOnce(ctx, path, b, out)
		var ge *Error
		if err == nil || attempt >= g.cfg.Retries || ctx.Err() != nil || !errors.As(err, &ge) || ge.Kind != ErrUnavailable {
			return err
		}
		wait := min(100*time.Millisecond<<attempt, 2*time.Second)
		if retryAfter > 0 {
			wait = retryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// postOnce makes one attempt; retryAfter is the server's Retry-After.
func (g *Guard) postOnce(ctx context.Context, path string, b []byte, out any) (retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, g.errorf(ErrRejected, 0, "build request for %s", path)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if g.key != "" {
		req.Header.Set("Authorization", "Bearer "+g.key)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, g.errorf(ErrUnavailable, 0, "POST %s: no answer within %v", path, g.timeout)
		}
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // drop the URL the client quotes
		}
		return 0, g.errorf(ErrUnavailable, 0, "POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return 0, g.errorf(ErrUnavailable, 0, "POST %s: no complete answer within %v", path, g.timeout)
		}
		return 0, g.errorf(ErrUnavailable, resp.StatusCode, "POST %s: read response: %v", path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		kind := ErrRejected
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			kind = ErrUnavailable
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 && s <= 3600 {
			retryAfter = time.Duration(s) * time.Second
		}
		return retryAfter, g.errorf(kind, resp.StatusCode, "POST %s failed%s", path, upstreamCode(data))
	}
	if len(data) > MaxResponseBytes {
		return 0, g.errorf(ErrMalformed, resp.StatusCode, "POST %s: response larger than %d bytes", path, MaxResponseBytes)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return 0, g.errorf(ErrMalformed, 0, "POST %s: response is not the expected JSON", path)
	}
	return 0, nil
}

// upstreamCode extracts the machine-readable error type or code of an
// error body, never its message, which may quote the input. It reads the
// OpenAI shape {"error": {"type", "code"}}, vLLM's top-level
// {"object": "error", "type", "code"} and TGI's {"error_type"}.
func upstreamCode(body []byte) string {
	var top map[string]any
	if json.Unmarshal(body, &top) != nil {
		return ""
	}
	obj := top
	if inner, ok := top["error"].(map[string]any); ok {
		obj = inner
	}
	var parts []string
	for _, k := range []string{"type", "error_type", "code"} {
		var s string
		switch v := obj[k].(type) {
		case string:
			s = v
		case float64:
			s = fmt.Sprint(v)
		}
		if s != "" && len(s) <= 64 && !strings.ContainsAny(s, " \n\t") {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// lru is a bounded cache of recent verdicts.
type lru struct {
	mu    sync.Mutex
	size  int
	ll    *list.List
	items map[[32]byte]*list.Element
}

type lruEntry struct {
	key [32]byte
	fs  []detect.Finding
}

func newLRU(size int) *lru {
	return &lru{size: size, ll: list.New(), items: make(map[[32]byte]*list.Element, min(size, 1024))}
}

func (c *lru) get(k [32]byte) ([]detect.Finding, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*lruEntry).fs, true
}

func (c *lru) put(k [32]byte, fs []detect.Finding) {
	fs = fs[:len(fs):len(fs)] // appends by callers must copy
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		e.Value.(*lruEntry).fs = fs
		c.ll.MoveToFront(e)
		return
	}
	c.items[k] = c.ll.PushFront(&lruEntry{key: k, fs: fs})
	for c.ll.Len() > c.size {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*lruEntry).key)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

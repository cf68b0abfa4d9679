// Package fakellm is a fake language-model server that speaks the real wire
// formats Warden proxies (OpenAI chat completions, completions, Responses,
// embeddings and models; Azure OpenAI deployment URLs; Anthropic Messages),
// streamed and not.
//
// It is Warden's built-in "warden-echo" model when no upstream is configured,
// the upstream of the gateway's end-to-end tests and the baseline of its
// benchmarks. Its behaviour is scriptable: latency before the first byte,
// delay and words per stream chunk, a Responder that decides the answer to
// each prompt (so a test can make it refuse some prompts and comply with
// others), tool calls, and faults (an error status, a mid-stream abort, a
// hang) chosen per prompt.
package fakellm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warden-safety/warden/gateway/provider"
)

// EchoModel is the name of the built-in echo model.
const EchoModel = "warden-echo"

// EchoPrefix labels every answer of the default responder.
const EchoPrefix = "[warden-echo: built-in test model, no language model is configured] You said: "

// Echo is the default responder: it labels itself and repeats the prompt.
func Echo(prompt string) string { return EchoPrefix + prompt }

// Fault is an injected failure.
type Fault struct {
	// Status, when not zero, answers with this HTTP status and Body (a
	// provider-shaped error when Body is empty).
	Status int
	Body   string
	// RetryAfter sets the Retry-After header with Status.
	RetryAfter string
	// AbortAfter, when > 0, drops the connection after that many stream
	// events (a mid-stream abort).
	AbortAfter int
	// Hang waits until the client goes away without answering.
	Hang bool
}

// Config scripts the fake.
type Config struct {
	// Latency is the delay before the response starts.
	Latency time.Duration
	// ChunkDelay is the delay between stream events carrying text.
	ChunkDelay time.Duration
	// WordsPerChunk is the number of words per streamed text delta (1 when 0).
	WordsPerChunk int
	// Responder answers a prompt (the last user or tool text); Echo when nil.
	Responder func(prompt string) string
	// Tools, when set, returns tool calls to make for a prompt.
	Tools func(prompt string) []provider.ToolCall
	// Fault, when set, may inject a failure for a prompt.
	Fault func(prompt string) Fault
	// Models lists the models GET /v1/models reports ([EchoModel] when empty).
	Models []string
}

// RequestInfo describes a request the fake received.
type RequestInfo struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// Server is the fake. It is an http.Handler.
type Server struct {
	cfg       Config
	requests  atomic.Int64
	cancelled atomic.Int64
	mu        sync.Mutex
	last      RequestInfo
	mux       *http.ServeMux
}

// New returns a fake with the given script.
func New(cfg Config) *Server {
	if cfg.WordsPerChunk <= 0 {
		cfg.WordsPerChunk = 1
	}
	if cfg.Responder == nil {
		cfg.Responder = Echo
	}
	if len(cfg.Models) == 0 {
		cfg.Models = []string{EchoModel}
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	for _, r := range provider.Routes {
		s.mux.HandleFunc("POST "+r.Path(), s.handle(r))
		s.mux.HandleFunc("POST /openai/deployments/{deployment}"+r.Suffix(), s.handle(r))
	}
	s.mux.HandleFunc("GET /v1/models", s.models)
	return s
}

// Requests is the number of model requests received.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Cancelled is the number of requests whose client went away before the
// answer was complete.
func (s *Server) Cancelled() int64 { return s.cancelled.Load() }

// Last returns the last model request received.
func (s *Server) Last() RequestInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	var data []any
	for _, m := range s.cfg.Models {
		if r.Header.Get("anthropic-version") != "" {
			data = append(data, map[string]any{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"})
		} else {
			data = append(data, map[string]any{"id": m, "object": "model", "created": 0, "owned_by": "warden"})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
}

func (s *Server) handle(route provider.Route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.last = RequestInfo{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
		s.mu.Unlock()
		req, err := provider.ParseRequest(route, body)
		if err != nil {
			writeJSON(w, 400, provider.ErrorBody(route.Format(), 400, "", err.Error(), ""))
			return
		}
		ctx := r.Context()
		prompt := req.LastUser()
		var fault Fault
		if s.cfg.Fault != nil {
			fault = s.cfg.Fault(prompt)
		}
		if !s.sleep(ctx, s.cfg.Latency) {
			return
		}
		if fault.Hang {
			<-ctx.Done()
			s.cancelled.Add(1)
			return
		}
		if fault.Status != 0 {
			b := []byte(fault.Body)
			if len(b) == 0 {
				b = provider.ErrorBody(route.Format(), fault.Status, "", "fakellm: injected error", "")
			}
			if fault.RetryAfter != "" {
				w.Header().Set("Retry-After", fault.RetryAfter)
			}
			writeJSON(w, fault.Status, b)
			return
		}
		if route == provider.Embeddings {
			s.embeddings(w, req)
			return
		}
		text := s.cfg.Responder(prompt)
		var tools []provider.ToolCall
		if s.cfg.Tools != nil {
			tools = s.cfg.Tools(prompt)
		}
		id := "fake-" + strconv.FormatInt(s.requests.Load(), 10)
		promptWords := 0
		for _, p := range req.Parts {
			promptWords += words(p.Text)
		}
		usage := provider.Usage{Prompt: int64(promptWords), Completion: int64(words(text)), OK: true}
		for _, t := range tools {
			usage.Completion += int64(len(t.Arguments)/4 + 1)
		}
		finish := provider.FinishStop
		if len(tools) > 0 {
			finish = provider.FinishToolCalls
		}
		if !req.Stream {
			c := provider.Completion{ID: id, Model: req.Model, Created: time.Now().Unix(), Text: text, Tools: tools, Finish: finish, Usage: usage}
			writeJSON(w, 200, c.Body(route))
			return
		}
		s.stream(ctx, w, route, req, id, text, tools, finish, usage, fault)
	}
}

func (s *Server) stream(ctx context.Context, w http.ResponseWriter, route provider.Route, req *provider.Request, id, text string,
	tools []provider.ToolCall, finish string, usage provider.Usage, fault Fault) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	flusher, _ := w.(http.Flusher)
	enc := &provider.Encoder{Route: route, ID: id, Model: req.Model, Created: time.Now().Unix(), UsageChunk: req.StreamUsage()}
	events := 0
	send := func(b []byte) bool {
		if fault.AbortAfter > 0 && events >= fault.AbortAfter {
			panic(http.ErrAbortHandler) // drop the connection mid-stream
		}
		events++
		if _, err := w.Write(b); err != nil {
			s.cancelled.Add(1)
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		if ctx.Err() != nil {
			s.cancelled.Add(1)
			return false
		}
		return true
	}
	var buf []byte
	if !send(enc.Start(buf[:0])) {
		return
	}
	for _, chunk := range chunks(text, s.cfg.WordsPerChunk) {
		if !s.sleep(ctx, s.cfg.ChunkDelay) || !send(enc.Text(buf[:0], chunk)) {
			return
		}
	}
	for _, t := range tools {
		if !send(enc.ToolStart(buf[:0], t.ID, t.Name)) {
			return
		}
		for a := t.Arguments; a != ""; {
			n := min(len(a), 8)
			if !s.sleep(ctx, s.cfg.ChunkDelay) || !send(enc.ToolArgs(buf[:0], a[:n])) {
				return
			}
			a = a[n:]
		}
	}
	send(enc.Finish(buf[:0], finish, usage))
}

func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		if ctx.Err() != nil {
			s.cancelled.Add(1)
			return false
		}
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		s.cancelled.Add(1)
		return false
	}
}

func (s *Server) embeddings(w http.ResponseWriter, req *provider.Request) {
	var data []any
	n := 0
	for i, p := range req.Parts {
		sum := sha256.Sum256([]byte(p.Text))
		vec := make([]float64, 8)
		for j := range vec {
			vec[j] = float64(binary.BigEndian.Uint32(sum[4*j:])) / math.MaxUint32
		}
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": vec})
		n += words(p.Text)
	}
	b, _ := json.Marshal(map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]any{"prompt_tokens": n, "total_tokens": n}})
	writeJSON(w, 200, b)
}

// words counts whitespace-separated words without allocating.
func words(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		space := s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'
		if !space && !in {
			n++
		}
		in = !space
	}
	return n
}

// chunks splits text into deltas of n words each, keeping the spaces, so
// the deltas concatenate to text.
func chunks(text string, n int) []string {
	var out []string
	count := 0
	start := 0
	inWord := false
	for i, r := range text {
		space := r == ' ' || r == '\n' || r == '\t'
		if !space && !inWord {
			if count == n {
				out = append(out, text[start:i])
				start, count = i, 0
			}
			count++
		}
		inWord = !space
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Start serves the fake on 127.0.0.1 at a free port and returns its base
// URL and a function that stops it.
func (s *Server) Start() (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// Transport returns a RoundTripper that serves requests with the fake in
// process (no socket): the gateway's built-in echo model. Streams flow
// through a pipe as they are written, and the request's context reaches the
// fake, so cancellation works as over the network.
func (s *Server) Transport() http.RoundTripper { return transport{s} }

type transport struct{ s *Server }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	rw := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	sreq := req.Clone(req.Context())
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	go func() {
		defer func() {
			if v := recover(); v != nil {
				rw.WriteHeader(500) // no-op when already started
				pw.CloseWithError(errors.New("fakellm: connection aborted"))
				return
			}
			rw.WriteHeader(200)
			pw.Close()
		}()
		t.s.ServeHTTP(rw, sreq)
	}()
	select {
	case <-rw.ready:
	case <-req.Context().Done():
		pr.CloseWithError(req.Context().Err())
		return nil, req.Context().Err()
	}
	resp := &http.Response{Status: strconv.Itoa(rw.status) + " " + http.StatusText(rw.status), StatusCode: rw.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: rw.header.Clone(), Body: pr, Request: req,
		ContentLength: -1}
	if cl := rw.header.Get("Content-Length"); cl != "" {
		resp.ContentLength, _ = strconv.ParseInt(cl, 10, 64)
	}
	return resp, nil
}

type pipeWriter struct {
	header http.Header
	pw     *io.PipeWriter
	status int
	once   sync.Once
	ready  chan struct{}
}

func (p *pipeWriter) Header() http.Header { return p.header }
func (p *pipeWriter) WriteHeader(code int) {
	p.once.Do(func() {
		p.status = code
		close(p.ready)
	})
}
func (p *pipeWriter) Write(b []byte) (int, error) {
	p.WriteHeader(200)
	return p.pw.Write(b)
}
func (p *pipeWriter) Flush() {}

// Package provider knows the wire formats Warden proxies: OpenAI's chat
// completions, completions, Responses and embeddings APIs and Anthropic's
// Messages API, streamed (SSE) and not.
//
// It finds every piece of text a model will read in a request and every
// piece of text a model wrote in a response or stream, each with its
// location in JSON-pointer style ("messages[3].content[1].text"), so the
// gateway can scan them, rewrite them (redaction) and answer in the
// provider's own shapes: errors, refusal completions and a well-formed end
// of a stream that was cut.
package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Format is a provider wire format.
type Format int

const (
	OpenAI Format = iota
	Anthropic
)

func (f Format) String() string {
	if f == Anthropic {
		return "anthropic"
	}
	return "openai"
}

// Route is one proxied endpoint.
type Route int

const (
	Chat        Route = iota // POST /v1/chat/completions
	Completions              // POST /v1/completions
	Responses                // POST /v1/responses
	Embeddings               // POST /v1/embeddings
	Messages                 // POST /v1/messages
)

// Routes lists every proxied route.
var Routes = []Route{Chat, Completions, Responses, Embeddings, Messages}

// Path is the route's URL path.
func (r Route) Path() string {
	switch r {
	case Completions:
		return "/v1/completions"
	case Responses:
		return "/v1/responses"
	case Embeddings:
		return "/v1/embeddings"
	case Messages:
		return "/v1/messages"
	}
	return "/v1/chat/completions"
}

// Suffix is the path after the API version, as Azure deployment URLs use.
func (r Route) Suffix() string { return strings.TrimPrefix(r.Path(), "/v1") }

func (r Route) String() string { return r.Path() }

// Format is the wire format the route speaks.
func (r Route) Format() Format {
	if r == Messages {
		return Anthropic
	}
	return OpenAI
}

// Streams reports whether the route can stream.
func (r Route) Streams() bool { return r != Embeddings }

// Error is a request the gateway refuses to forward, with the HTTP status
// to answer and a message for the client (never containing request text).
type Error struct {
	Status int
	Param  string
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(param, format string, args ...any) *Error {
	return &Error{Status: 400, Param: param, Msg: fmt.Sprintf(format, args...)}
}

// Part is one text the model reads or wrote.
type Part struct {
	// Path locates the text in the JSON body, e.g. "messages[3].content[1].text".
	Path string
	Text string
	loc  []any // string keys and int indices
}

// decode parses a JSON object, keeping numbers exact, and reports syntax
// errors with their byte offset.
func decode(body []byte) (map[string]any, error) {
	v, err := parseJSON(body)
	if err != nil {
		return nil, jsonError(err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("", "invalid request: the body must be a JSON object")
	}
	return m, nil
}

func jsonError(err error) error {
	var se *jsonSyntaxError
	if errors.As(err, &se) {
		if se.msg == "unexpected end of JSON input" {
			if se.Offset == 0 {
				return badRequest("", "invalid JSON: empty body")
			}
			return badRequest("", "invalid JSON: unexpected end of body at byte offset %d", se.Offset)
		}
		return badRequest("", "invalid JSON at byte offset %d: %s", se.Offset, se.msg)
	}
	return badRequest("", "invalid JSON: %s", err.Error())
}

// walker collects text parts while descending a JSON tree.
type walker struct {
	parts []Part
	loc   []any
}

func (w *walker) push(seg any) { w.loc = append(w.loc, seg) }
func (w *walker) pop()         { w.loc = w.loc[:len(w.loc)-1] }

func (w *walker) path() string {
	var b strings.Builder
	for i, s := range w.loc {
		switch s := s.(type) {
		case string:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case int:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func (w *walker) add(text string) {
	if text == "" {
		return
	}
	w.parts = append(w.parts, Part{Path: w.path(), Text: text, loc: append([]any(nil), w.loc...)})
}

// field adds m[key] when it is a string; it reports an error naming the
// path when it is present with another type (and not null).
func (w *walker) str(m map[string]any, key string) error {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	w.push(key)
	defer w.pop()
	s, ok := v.(string)
	if !ok {
		return badRequest(w.path(), "invalid request: %s must be a string", w.path())
	}
	w.add(s)
	return nil
}

// leaves adds every string inside v (tool inputs given as JSON objects).
func (w *walker) leaves(v any, depth int) {
	if depth > 64 {
		return
	}
	switch v := v.(type) {
	case string:
		w.add(v)
	case []any:
		for i, e := range v {
			w.push(i)
			w.leaves(e, depth+1)
			w.pop()
		}
	case map[string]any:
		for _, k := range sortedKeys(v) {
			w.push(k)
			w.leaves(v[k], depth+1)
			w.pop()
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// small maps: insertion sort keeps this allocation-light
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func arr(w *walker, m map[string]any, key string) ([]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		w.push(key)
		defer w.pop()
		return nil, badRequest(w.path(), "invalid request: %s must be an array", w.path())
	}
	return a, nil
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// set replaces the string at loc in root.
func set(root map[string]any, loc []any, text string) bool {
	var cur any = root
	for i, seg := range loc {
		last := i == len(loc)-1
		switch s := seg.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			if last {
				m[s] = text
				return true
			}
			cur = m[s]
		case int:
			a, ok := cur.([]any)
			if !ok || s >= len(a) {
				return false
			}
			if last {
				a[s] = text
				return true
			}
			cur = a[s]
		}
	}
	return false
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

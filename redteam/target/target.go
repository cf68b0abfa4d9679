// Package target sends red-team attempts to what is being measured: any
// OpenAI-compatible chat endpoint, an Anthropic messages endpoint, a Warden
// gateway in front of a model (which measures model plus guard), or
// "builtin" — Warden's own detectors in-process, which answers whether the
// attack was flagged.
package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/redteam/mutate"
)

// Response is what a target answered.
type Response struct {
	Text string `json:"text"`
	// Blocked: a guard refused the request or cut the answer
	// (content_filter). For the builtin target it means "flagged".
	Blocked bool `json:"blocked"`
	// Flagged lists the categories the builtin target flagged.
	Flagged          []string `json:"flagged,omitempty"`
	PromptTokens     int64    `json:"prompt_tokens"`
	CompletionTokens int64    `json:"completion_tokens"`
}

// Target answers one conversation.
type Target interface {
	Name() string
	Send(ctx context.Context, turns []mutate.Turn) (Response, error)
}

// Identifier is a Target that can say what its answers depend on beyond
// its name: the endpoint it calls, or the detector versions it runs. A
// resumed run only reuses attempts made against the same identity.
type Identifier interface {
	Identity() string
}

// Identity is t's identity: Identifier's when t has one, else its name.
func Identity(t Target) string {
	if i, ok := t.(Identifier); ok {
		return i.Identity()
	}
	return t.Name()
}

// HTTPError is a failed call; the runner retries the retryable ones.
type HTTPError struct {
	Status     int
	RetryAfter time.Duration
	Msg        string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Msg) }

// Retryable reports whether the call may be retried (429 and 5xx).
func (e *HTTPError) Retryable() bool { return e.Status == 429 || e.Status >= 500 }

// OpenAI talks to POST {BaseURL}/v1/chat/completions. It also measures a
// Warden gateway: a 400 with code content_filter or a finish_reason of
// content_filter is a block, not an error.
type OpenAI struct {
	BaseURL   string
	Model     string
	APIKey    string // never in errors or logs
	MaxTokens int
	Client    *http.Client
}

// Name implements Target.
func (o *OpenAI) Name() string { return "openai:" + o.Model }

// Identity implements Identifier: the model at its endpoint.
func (o *OpenAI) Identity() string { return o.Name() + " at " + o.BaseURL }

// Send implements Target.
func (o *OpenAI) Send(ctx context.Context, turns []mutate.Turn) (Response, error) {
	msgs := make([]map[string]string, len(turns))
	for i, t := range turns {
		msgs[i] = map[string]string{"role": t.Role, "content": t.Content}
	}
	req := map[string]any{"model": o.Model, "messages": msgs, "temperature": 0}
	if o.MaxTokens > 0 {
		req["max_tokens"] = o.MaxTokens
	}
	hdr := http.Header{}
	if o.APIKey != "" {
		hdr.Set("Authorization", "Bearer "+o.APIKey)
	}
	status, body, err := post(ctx, o.Client, strings.TrimRight(o.BaseURL, "/")+"/v1/chat/completions", hdr, req)
	if err != nil {
		return Response{}, err
	}
	if status != http.StatusOK {
		var e struct {
			Error struct {
				Code    any    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		json.Unmarshal(body, &e)
		if status == http.StatusBadRequest && isFilterCode(fmt.Sprint(e.Error.Code)) {
			return Response{Blocked: true}, nil
		}
		return Response{}, httpErr(status, body)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int64 `json:"prompt_tokens"`
			CompletionTokens int64 `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return Response{}, fmt.Errorf("target: decoding chat completion: %w", err)
	}
	if len(out.Choices) == 0 {
		return Response{}, errors.New("target: chat completion has no choices")
	}
	c := out.Choices[0]
	return Response{Text: c.Message.Content, Blocked: c.FinishReason == "content_filter",
		PromptTokens: out.Usage.PromptTokens, CompletionTokens: out.Usage.CompletionTokens}, nil
}

func isFilterCode(c string) bool {
	return c == "content_filter" || c == "content_policy_violation" || strings.Contains(c, "warden")
}

// Anthropic talks to POST {BaseURL}/v1/messages.
type Anthropic struct {
	BaseURL   string
	Model     string
	APIKey    string
	MaxTokens int
	Client    *http.Client
}

// Name implements Target.
func (a *Anthropic) Name() string { return "anthropic:" + a.Model }

// Identity implements Identifier: the model at its endpoint.
func (a *Anthropic) Identity() string { return a.Name() + " at " + a.BaseURL }

// Send implements Target.
func (a *Anthropic) Send(ctx context.Context, turns []mutate.Turn) (Response, error) {
	mt := a.MaxTokens
	if mt == 0 {
		mt = 1024
	}
	msgs := make([]map[string]string, len(turns))
	for i, t := range turns {
		msgs[i] = map[string]string{"role": t.Role, "content": t.Content}
	}
	hdr := http.Header{}
	hdr.Set("anthropic-version", "2023-06-01")
	if a.APIKey != "" {
		hdr.Set("x-api-key", a.APIKey)
	}
	status, body, err := post(ctx, a.Client, strings.TrimRight(a.BaseURL, "/")+"/v1/messages", hdr,
		map[string]any{"model": a.Model, "max_tokens": mt, "messages": msgs})
	if err != nil {
		return Response{}, err
	}
	if status != http.StatusOK {
		if status == http.StatusBadRequest && bytes.Contains(body, []byte("content_filter")) {
			return Response{Blocked: true}, nil
		}
		return Response{}, httpErr(status, body)
	}
	var out struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		StopReason string `json:"stop_reason"`
		Usage      struct {
			InputTokens  int64 `json:"input_tokens"`
			OutputTokens int64 `json:"output_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return Response{}, fmt.Errorf("target: decoding message: %w", err)
	}
	var b strings.Builder
	for _, c := range out.Content {
		if c.Type == "text" {
			b.WriteString(c.Text)
		}
	}
	return Response{Text: b.String(), Blocked: out.StopReason == "refusal",
		PromptTokens: out.Usage.InputTokens, CompletionTokens: out.Usage.OutputTokens}, nil
}

// Builtin runs Warden's detectors in-process over the whole attempt: the
// "answer" is whether the attack was flagged.
type Builtin struct {
	Pipeline *detect.Pipeline
}

// Name implements Target.
func (*Builtin) Name() string { return "builtin" }

// Identity implements Identifier: the detectors and their versions (a
// retrained classifier is another target).
func (b *Builtin) Identity() string {
	var sb strings.Builder
	sb.WriteString("builtin")
	for i, d := range b.Pipeline.Info() {
		if i == 0 {
			sb.WriteString(": ")
		} else {
			sb.WriteString(", ")
		}
		sb.WriteString(d.Name + " " + d.Version)
	}
	return sb.String()
}

// Send implements Target.
func (b *Builtin) Send(ctx context.Context, turns []mutate.Turn) (Response, error) {
	var sb strings.Builder
	for i, t := range turns {
		if t.Role != "user" {
			continue
		}
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(t.Content)
	}
	v, err := b.Pipeline.Scan(ctx, sb.String())
	if err != nil {
		return Response{}, err
	}
	r := Response{Blocked: v.Flagged}
	for _, c := range v.FlaggedCategories() {
		r.Flagged = append(r.Flagged, string(c))
	}
	return r, nil
}

func post(ctx context.Context, c *http.Client, url string, hdr http.Header, v any) (int, []byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("target: %w", err)
	}
	req.Header = hdr
	req.Header.Set("Content-Type", "application/json")
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("target: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("target: reading answer: %w", err)
	}
	if resp.StatusCode == 429 || resp.StatusCode >= 500 {
		e := httpErr(resp.StatusCode, b)
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			if s, err := strconv.Atoi(ra); err == nil {
				e.RetryAfter = time.Duration(s) * time.Second
			}
		}
		return 0, nil, e
	}
	return resp.StatusCode, b, nil
}

func httpErr(status int, body []byte) *HTTPError {
	msg := string(body)
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return &HTTPError{Status: status, Msg: strings.TrimSpace(msg)}
}

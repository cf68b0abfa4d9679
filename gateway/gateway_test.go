package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-safety/warden/gateway"
	"github.com/warden-safety/warden/gateway/fakellm"
	"github.com/warden-safety/warden/gateway/provider"
	"github.com/warden-safety/warden/policy"
)

// bodyFor returns a request body for route with prompt as the last user
// text (JSON-escaped by the caller's choice of safe strings).
func bodyFor(route provider.Route, model, prompt string, stream bool) string {
	s := ""
	if stream {
		s = `,"stream":true`
	}
	switch route {
	case provider.Completions:
		return fmt.Sprintf(`{"model":%q,"prompt":%q%s}`, model, prompt, s)
	case provider.Embeddings:
		return fmt.Sprintf(`{"model":%q,"input":[%q]}`, model, prompt)
	case provider.Responses:
		return fmt.Sprintf(`{"model":%q,"instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":%q}]}]%s}`, model, prompt, s)
	case provider.Messages:
		return fmt.Sprintf(`{"model":%q,"max_tokens":64,"system":"be brief","messages":[{"role":"user","content":[{"type":"text","text":%q}]}]%s}`, model, prompt, s)
	}
	return fmt.Sprintf(`{"model":%q,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":%q}]%s}`, model, prompt, s)
}

func modelFor(route provider.Route) string {
	if route == provider.Messages {
		return "claude-test"
	}
	return "fake-test"
}

// answerText extracts the answer text of a non-streamed body.
func answerText(t *testing.T, route provider.Route, body []byte) string {
	t.Helper()
	r, err := provider.ParseResponse(route, body)
	if err != nil {
		t.Fatalf("parse answer: %v (%s)", err, body)
	}
	return r.String()
}

func TestEveryEndpointAllow(t *testing.T) {
	e := newEnv(t, fakellm.Config{WordsPerChunk: 2}, nil)
	for _, route := range provider.Routes {
		for _, stream := range []bool{false, true} {
			if stream && !route.Streams() {
				continue
			}
			t.Run(fmt.Sprintf("%s/stream=%v", route.Path(), stream), func(t *testing.T) {
				prompt := "tell me about the history of tea in ten words please"
				r := post(t, e.url, route.Path(), bodyFor(route, modelFor(route), prompt, stream))
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				if r.header.Get("x-warden-decision") != "allow" || !strings.HasPrefix(r.header.Get("x-warden-request-id"), "wrd-") {
					t.Fatalf("headers: decision %q id %q", r.header.Get("x-warden-decision"), r.header.Get("x-warden-request-id"))
				}
				if route == provider.Embeddings {
					if jsonField(t, r.body, "object") != "list" {
						t.Fatalf("embeddings body %s", r.body)
					}
					return
				}
				var got string
				if stream {
					if ct := r.header.Get("Content-Type"); ct != "text/event-stream" {
						t.Fatalf("content type %q", ct)
					}
					got = streamText(t, events(t, r.body))
				} else {
					got = answerText(t, route, r.body)
				}
				if got != fakellm.Echo(prompt) {
					t.Fatalf("answer %q", got)
				}
			})
		}
	}
	// Two records per request except embeddings (input only) and each
	// record names the policy.
	recs := e.rec.all()
	if len(recs) != 2*8+1 {
		t.Fatalf("%d audit records, want 17", len(recs))
	}
	for _, r := range recs {
		if r.PolicyDigest == "" || r.RequestID == "" || (r.InputSHA256 == "" && r.OutputSHA256 == "") || r.InputText != "" || r.OutputText != "" {
			t.Fatalf("record %+v", r)
		}
	}
}

func TestInputBlockEveryLocation(t *testing.T) {
	e := newEnv(t, fakellm.Config{}, nil)
	cases := []struct {
		route provider.Route
		body  string
		loc   string
	}{
		{provider.Chat, `{"model":"fake-x","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"q\":\"nerve agent\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}`, "messages[1].tool_calls[0].function.arguments"},
		{provider.Chat, `{"model":"fake-x","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"fetched page: make a nerve agent"}]}]}`, "messages[1].content[0].text"},
		{provider.Chat, `{"model":"fake-x","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"nerve agent"}]}]}`, "messages[0].content[1].text"},
		{provider.Chat, `{"model":"fake-x","messages":[{"role":"system","content":"nerve agent"},{"role":"user","content":"hi"}]}`, "messages[0].content"},
		{provider.Completions, `{"model":"fake-x","prompt":["ok","nerve agent"]}`, "prompt[1]"},
		{provider.Embeddings, `{"model":"fake-x","input":"nerve agent"}`, "input"},
		{provider.Responses, `{"model":"fake-x","instructions":"nerve agent","input":"hi"}`, "instructions"},
		{provider.Responses, `{"model":"fake-x","input":[{"type":"function_call_output","call_id":"c","output":"nerve agent"}]}`, "input[0].output"},
		{provider.Messages, `{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"nerve agent"}]}]}]}`, "messages[0].content[0].content[0].text"},
		{provider.Messages, `{"model":"claude-x","max_tokens":5,"system":[{"type":"text","text":"nerve agent"}],"messages":[{"role":"user","content":"hi"}]}`, "system[0].text"},
		{provider.Messages, `{"model":"claude-x","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"q":{"deep":"nerve agent"}}}]}]}`, "messages[0].content[0].input.q.deep"},
	}
	for _, c := range cases {
		t.Run(c.loc, func(t *testing.T) {
			before := e.fake.Requests()
			r := post(t, e.url, c.route.Path(), c.body)
			if r.status != 400 || r.header.Get("x-warden-decision") != "block" {
				t.Fatalf("status %d decision %q: %s", r.status, r.header.Get("x-warden-decision"), r.body)
			}
			if e.fake.Requests() != before {
				t.Fatal("a blocked request reached the upstream")
			}
			if c.route == provider.Messages {
				if jsonField(t, r.body, "type") != "error" || jsonField(t, r.body, "error", "type") != "invalid_request_error" {
					t.Fatalf("anthropic error shape: %s", r.body)
				}
			} else if jsonField(t, r.body, "error", "code") != "content_policy_violation" || jsonField(t, r.body, "error", "param") != c.loc {
				t.Fatalf("openai error shape: %s", r.body)
			}
			if !strings.Contains(string(r.body), "cbrn_weapons at "+c.loc) {
				t.Fatalf("message does not locate the finding: %s", r.body)
			}
		})
	}
}

func TestRedactInputAndRestore(t *testing.T) {
	e := newEnv(t, fakellm.Config{}, nil)
	for _, route := range []provider.Route{provider.Chat, provider.Messages} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/%v", route, stream), func(t *testing.T) {
				prompt := "my key is SECRET-123456, keep it safe"
				r := post(t, e.url, route.Path(), bodyFor(route, modelFor(route), prompt, stream))
				if r.status != 200 || r.header.Get("x-warden-decision") != "redact" {
					t.Fatalf("status %d decision %q: %s", r.status, r.header.Get("x-warden-decision"), r.body)
				}
				up := string(e.fake.Last().Body)
				if strings.Contains(up, "SECRET-123456") || !strings.Contains(up, "[API_KEY_1]") {
					t.Fatalf("upstream saw %s", up)
				}
				var got string
				if stream {
					got = streamText(t, events(t, r.body))
				} else {
					got = answerText(t, route, r.body)
				}
				if got != fakellm.Echo(prompt) {
					t.Fatalf("restored answer %q", got)
				}
			})
		}
	}
}

func TestOutputGuardNonStreamed(t *testing.T) {
	responder := func(p string) string {
		switch {
		case strings.Contains(p, "weapon"):
			return "Sure: first obtain the nerve agent precursor."
		case strings.Contains(p, "key"):
			return "The admin key is SECRET-999999."
		}
		return "A harmless answer."
	}
	e := newEnv(t, fakellm.Config{Responder: responder}, nil)
	for _, route := range []provider.Route{provider.Chat, provider.Completions, provider.Responses, provider.Messages} {
		t.Run(route.Path(), func(t *testing.T) {
			r := post(t, e.url, route.Path(), bodyFor(route, modelFor(route), "how do I build a weapon", false))
			if r.status != 400 || r.header.Get("x-warden-decision") != "block" || strings.Contains(string(r.body), "nerve") {
				t.Fatalf("block: status %d %q %s", r.status, r.header.Get("x-warden-decision"), r.body)
			}
			if route != provider.Messages && jsonField(t, r.body, "error", "code") != "content_filter" {
				t.Fatalf("code: %s", r.body)
			}
			r = post(t, e.url, route.Path(), bodyFor(route, modelFor(route), "what is the key", false))
			if r.status != 200 || r.header.Get("x-warden-decision") != "redact" {
				t.Fatalf("redact: %d %q %s", r.status, r.header.Get("x-warden-decision"), r.body)
			}
			if got := answerText(t, route, r.body); got != "The admin key is [API_KEY_1]." {
				t.Fatalf("redacted answer %q", got)
			}
			r = post(t, e.url, route.Path(), bodyFor(route, modelFor(route), "hello", false))
			if r.status != 200 || answerText(t, route, r.body) != "A harmless answer." {
				t.Fatalf("allow: %d %s", r.status, r.body)
			}
		})
	}
}

func TestBlockStyleCompletion(t *testing.T) {
	e := newEnv(t, fakellm.Config{}, nil)
	e.store.Swap(mustPolicy(t, "version: t\ndefaults:\n  refusal: \"No.\"\n  block_style: completion\n  input:\n    cbrn_weapons: block\n"))
	r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "nerve agent", false))
	if r.status != 200 || jsonField(t, r.body, "choices", "finish_reason") != "content_filter" || answerText(t, provider.Chat, r.body) != "No." {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	r = post(t, e.url, "/v1/messages", bodyFor(provider.Messages, "claude-x", "nerve agent", false))
	if r.status != 200 || jsonField(t, r.body, "stop_reason") != "refusal" {
		t.Fatalf("messages: %d %s", r.status, r.body)
	}
	r = post(t, e.url, "/v1/messages", bodyFor(provider.Messages, "claude-x", "nerve agent", true))
	evs := events(t, r.body)
	if r.status != 200 || evs[len(evs)-1].Name != "message_stop" || streamText(t, evs) != "No." {
		t.Fatalf("messages stream: %d %s", r.status, r.body)
	}
}

// longAnswer is benign text, then the hazard split over two chunks, then
// more text.
func longAnswer(string) string {
	return strings.Repeat("benign words flow here ", 30) + "then the nerve agent recipe follows " + strings.Repeat("more text ", 50)
}

func TestStreamCutMidway(t *testing.T) {
	e := newEnv(t, fakellm.Config{Responder: longAnswer, WordsPerChunk: 1}, nil)
	for _, route := range []provider.Route{provider.Chat, provider.Completions, provider.Responses, provider.Messages} {
		t.Run(route.Path(), func(t *testing.T) {
			r := post(t, e.url, route.Path(), bodyFor(route, modelFor(route), "tell me", true))
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			if strings.Contains(string(r.body), "nerve") || strings.Contains(string(r.body), "recipe") {
				t.Fatalf("flagged text reached the client:\n%s", r.body)
			}
			evs := events(t, r.body)
			text := streamText(t, evs)
			if !strings.HasPrefix(text, "benign words flow here benign") || !strings.HasSuffix(text, "This request was blocked by the safety policy.") {
				t.Fatalf("text %q", text)
			}
			last := evs[len(evs)-1]
			switch route {
			case provider.Chat, provider.Completions:
				if last.Data != "[DONE]" || !strings.Contains(evs[len(evs)-2].Data, `"finish_reason":"content_filter"`) {
					t.Fatalf("openai ending: %q %q", evs[len(evs)-2].Data, last.Data)
				}
			case provider.Messages:
				names := []string{}
				for _, ev := range evs[len(evs)-6:] {
					names = append(names, ev.Name)
				}
				want := "content_block_stop content_block_start content_block_delta content_block_stop message_delta message_stop"
				if strings.Join(names, " ") != want || !strings.Contains(evs[len(evs)-2].Data, `"stop_reason":"refusal"`) {
					t.Fatalf("anthropic ending: %v", names)
				}
			case provider.Responses:
				if last.Name != "response.incomplete" || !strings.Contains(last.Data, "content_filter") {
					t.Fatalf("responses ending: %s", last.Data)
				}
			}
		})
	}
	var blocked int
	for _, r := range e.rec.all() {
		if r.Stage == "output" && r.Action == "block" {
			blocked++
		}
	}
	if blocked != 4 {
		t.Fatalf("%d output block records, want 4", blocked)
	}
}

func TestStreamRedactsHeldText(t *testing.T) {
	e := newEnv(t, fakellm.Config{Responder: func(string) string { return "your key SECRET-424242 is here and more words follow" }}, nil)
	for _, route := range []provider.Route{provider.Chat, provider.Messages} {
		r := post(t, e.url, route.Path(), bodyFor(route, modelFor(route), "key?", true))
		text := streamText(t, events(t, r.body))
		if strings.Contains(string(r.body), "424242") || text != "your key [API_KEY_1] is here and more words follow" {
			t.Fatalf("%s: %q", route, text)
		}
	}
}

func TestStreamToolCallArgumentsScanned(t *testing.T) {
	tools := func(p string) []provider.ToolCall {
		return []provider.ToolCall{{ID: "call_1", Name: "search", Arguments: `{"query":"how to make a nerve agent at home"}`}}
	}
	e := newEnv(t, fakellm.Config{Responder: func(string) string { return "" }, Tools: tools}, nil)
	for _, route := range []provider.Route{provider.Chat, provider.Responses, provider.Messages} {
		r := post(t, e.url, route.Path(), bodyFor(route, modelFor(route), "search", true))
		if strings.Contains(string(r.body), "nerve") || !strings.Contains(string(r.body), "blocked by the safety policy") {
			t.Fatalf("%s stream: %s", route, r.body)
		}
		r = post(t, e.url, route.Path(), bodyFor(route, modelFor(route), "search", false))
		if r.status != 400 || strings.Contains(string(r.body), "nerve") {
			t.Fatalf("%s: %d %s", route, r.status, r.body)
		}
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	e := newEnv(t, fakellm.Config{Responder: func(string) string { return strings.Repeat("word ", 2000) }, ChunkDelay: 5 * time.Millisecond}, func(c *gateway.Config) {
		e := c
		_ = e
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", e.url+"/v1/chat/completions", strings.NewReader(bodyFor(provider.Chat, "fake-x", "go", true)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	if !checkFor(t, 5*time.Second, func() bool { return e.fake.Cancelled() > 0 }) {
		t.Fatal("the upstream did not see the cancellation")
	}
}

func TestUpstreamErrorsPassThrough(t *testing.T) {
	fault := func(p string) fakellm.Fault {
		switch p {
		case "429":
			return fakellm.Fault{Status: 429, RetryAfter: "7", Body: `{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit"}}`}
		case "500":
			return fakellm.Fault{Status: 500}
		case "hang":
			return fakellm.Fault{Hang: true}
		case "abort":
			return fakellm.Fault{AbortAfter: 4}
		}
		return fakellm.Fault{}
	}
	e := newEnv(t, fakellm.Config{Fault: fault}, func(c *gateway.Config) {
		for i := range c.Upstreams {
			c.Upstreams[i].Timeout = time.Second
		}
	})
	r := post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "429", false))
	if r.status != 429 || r.header.Get("Retry-After") != "7" || jsonField(t, r.body, "error", "message") != "slow down" {
		t.Fatalf("429: %d %v %s", r.status, r.header, r.body)
	}
	r = post(t, e.url, "/v1/messages", bodyFor(provider.Messages, "claude-x", "500", true))
	if r.status != 500 || jsonField(t, r.body, "error", "type") != "api_error" {
		t.Fatalf("500: %d %s", r.status, r.body)
	}
	before := e.fake.Cancelled()
	r = post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "fake-x", "hang", false))
	if r.status != 504 || jsonField(t, r.body, "error", "code") != "upstream_timeout" {
		t.Fatalf("timeout: %d %s", r.status, r.body)
	}
	if !checkFor(t, 3*time.Second, func() bool { return e.fake.Cancelled() > before }) {
		t.Fatal("upstream request not cancelled after the timeout")
	}
	// A mid-stream abort reaches the client as a failed stream.
	req, _ := http.NewRequest("POST", e.url+"/v1/chat/completions", strings.NewReader(bodyFor(provider.Chat, "fake-x", "abort", true)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || strings.Contains(string(b), "[DONE]") {
		t.Fatalf("aborted stream looked complete: err=%v body=%s", err, b)
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, fakellm.Config{}, func(c *gateway.Config) { c.MaxBodyBytes = 1024 })
	r := post(t, e.url, "/v1/chat/completions", `{"model":"fake-x","messages":[{"role":"user","content":"`+strings.Repeat("a", 2000)+`"}]}`)
	if r.status != 413 {
		t.Fatalf("large: %d %s", r.status, r.body)
	}
	r = post(t, e.url, "/v1/chat/completions", `{"model":"fake-x","messages":[{"role":"user",]}`)
	if r.status != 400 || !strings.Contains(string(r.body), "byte offset 45") {
		t.Fatalf("malformed: %d %s", r.status, r.body)
	}
	r = post(t, e.url, "/v1/messages", `{"model":"claude-x","max_tokens":3,"messages":[{"role":"user","content":7}]}`)
	if r.status != 400 || jsonField(t, r.body, "type") != "error" || !strings.Contains(string(r.body), "messages[0].content must be") {
		t.Fatalf("type: %d %s", r.status, r.body)
	}
	r = post(t, e.url, "/v1/chat/completions", bodyFor(provider.Chat, "gpt-unknown", "hi", false))
	if r.status != 404 || jsonField(t, r.body, "error", "code") != "model_not_found" {
		t.Fatalf("unknown model: %d %s", r.status, r.body)
	}
	r = post(t, e.url, "/v1/messages", bodyFor(provider.Messages, "fake-x", "hi", false))
	if r.status != 400 || !strings.Contains(string(r.body), "use /v1/chat/completions") {
		t.Fatalf("wrong format: %d %s", r.status, r.body)
	}
}

func TestHotReloadUnderLoad(t *testing.T) {
	e := newEnv(t, fakellm.Config{WordsPerChunk: 3, ChunkDelay: time.Millisecond}, nil)
	strict := mustPolicy(t, "version: strict\ndefaults:\n  hold_back: 50\n  input:\n    \"*\": flag\n    cbrn_weapons: block\n")
	loose := policy.Default()
	var failed atomic.Int64
	var done atomic.Int64
	var swaps atomic.Int64
	stop := make(chan struct{})
	swapped := make(chan struct{})
	go func() { // swap the policy every millisecond while requests run
		defer close(swapped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if i%2 == 0 {
				e.store.Swap(strict)
			} else {
				e.store.Swap(loose)
			}
			swaps.Add(1)
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 12; i++ {
				route := provider.Routes[(w+i)%len(provider.Routes)]
				stream := i%2 == 0 && route.Streams()
				req, _ := http.NewRequest("POST", e.url+route.Path(), strings.NewReader(bodyFor(route, modelFor(route), "a calm question about tea", stream)))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || (stream && !strings.Contains(string(b), "tea")) {
					failed.Add(1)
				}
				done.Add(1)
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	<-swapped
	if failed.Load() != 0 || done.Load() != 96 || swaps.Load() < 2 {
		t.Fatalf("%d of %d requests failed during %d reloads", failed.Load(), done.Load(), swaps.Load())
	}
	digests := map[string]bool{}
	for _, r := range e.rec.all() {
		digests[r.PolicyDigest] = true
	}
	if len(digests) != 2 {
		t.Fatalf("records name %d policies, want 2", len(digests))
	}
}

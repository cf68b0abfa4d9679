package provider_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/warden-safety/warden/gateway/provider"
	"github.com/warden-safety/warden/gateway/sse"
)

func TestParseRequestLocations(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"text","text":"U"},{"type":"image_url","image_url":{"url":"x"}}]},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"1","content":"R"}],` +
		`"tools":[{"type":"function","function":{"name":"f","description":"D"}}]}`
	r, err := provider.ParseRequest(provider.Chat, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range r.Parts {
		got = append(got, p.Path+"="+p.Text)
	}
	want := []string{"messages[0].content=S", "messages[1].content[0].text=U", `messages[2].tool_calls[0].function.arguments={"a":1}`,
		"messages[3].content=R", "tools[0].function.description=D"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
	if r.LastUser() != "R" {
		t.Fatalf("last user %q", r.LastUser())
	}
	r.Replace(1, "[X]")
	b, err := r.Body()
	if err != nil || !strings.Contains(string(b), `"text":"[X]"`) || !strings.Contains(string(b), `"url":"x"`) {
		t.Fatalf("body %s %v", b, err)
	}
}

func TestParseRequestErrors(t *testing.T) {
	for body, want := range map[string]string{
		``:                              "empty body",
		`{"model":"m"`:                  "unexpected end",
		`[1]`:                           "must be a JSON object",
		`{"model":"m","messages":[]} x`: "after top-level value",
		`{"messages":[]}`:               "model must be",
		`{"model":"m","messages":[{"content":5}]}`:                  "messages[0].content must be a string or an array",
		`{"model":"m","stream":"yes","messages":[{"content":"a"}]}`: "stream must be a boolean",
	} {
		_, err := provider.ParseRequest(provider.Chat, []byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

var routes = []provider.Route{provider.Chat, provider.Completions, provider.Responses, provider.Embeddings, provider.Messages}

func FuzzParseRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`))
	f.Add(uint8(2), []byte(`{"model":"m","instructions":"i","input":[{"type":"function_call_output","output":"o"}]}`))
	f.Add(uint8(4), []byte(`{"model":"m","max_tokens":1,"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"text","text":"r"}]},{"type":"tool_use","input":{"a":["b"]}}]}]}`))
	f.Fuzz(func(t *testing.T, ri uint8, body []byte) {
		route := routes[int(ri)%len(routes)]
		r, err := provider.ParseRequest(route, body)
		if err != nil {
			var pe *provider.Error
			if !asError(err, &pe) || pe.Status != 400 || pe.Msg == "" {
				t.Fatalf("error %v is not a 400 *provider.Error", err)
			}
			return
		}
		if len(r.Parts) == 0 {
			return
		}
		for i, p := range r.Parts {
			if p.Path == "" || p.Text == "" {
				t.Fatalf("part %d: %+v", i, p)
			}
			r.Replace(i, "REPLACED")
		}
		b, err := r.Body()
		if err != nil {
			t.Fatal(err)
		}
		again, err := provider.ParseRequest(route, b)
		if err != nil {
			t.Fatalf("re-encoded body does not parse: %v\n%s", err, b)
		}
		if len(again.Parts) != len(r.Parts) {
			t.Fatalf("parts %d after rewrite, want %d", len(again.Parts), len(r.Parts))
		}
		for i, p := range again.Parts {
			if p.Text != "REPLACED" || p.Path != r.Parts[i].Path {
				t.Fatalf("part %d after rewrite: %+v", i, p)
			}
		}
	})
}

func asError(err error, target **provider.Error) bool {
	pe, ok := err.(*provider.Error)
	if ok {
		*target = pe
	}
	return ok
}

func FuzzParseResponse(f *testing.F) {
	for _, r := range routes {
		f.Add(uint8(r), provider.Completion{ID: "x", Model: "m", Text: "hello", Tools: []provider.ToolCall{{ID: "t", Name: "n", Arguments: `{"q":"v"}`}}}.Body(r))
	}
	f.Fuzz(func(t *testing.T, ri uint8, body []byte) {
		route := routes[int(ri)%len(routes)]
		r, err := provider.ParseResponse(route, body)
		if err != nil {
			return
		}
		for i := range r.Parts {
			r.Replace(i, "R")
		}
		b, err := r.Body()
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON %s", b)
		}
	})
}

// FuzzInspect feeds a stream split in two chunks through the SSE parser
// and the inspector: the deltas must not depend on the split, and a cut at
// the end must be well-formed.
func FuzzInspect(f *testing.F) {
	for _, r := range []provider.Route{provider.Chat, provider.Completions, provider.Responses, provider.Messages} {
		enc := &provider.Encoder{Route: r, ID: "id", Model: "m"}
		var b []byte
		b = enc.Text(b, "hello ")
		b = enc.Text(b, "world")
		if r != provider.Completions {
			b = enc.ToolStart(b, "c1", "f")
			b = enc.ToolArgs(b, `{"a":`)
			b = enc.ToolArgs(b, `1}`)
		}
		b = enc.Finish(b, provider.FinishStop, provider.Usage{Prompt: 1, Completion: 2, OK: true})
		f.Add(uint8(r), b, len(b)/2)
	}
	f.Fuzz(func(t *testing.T, ri uint8, stream []byte, split int) {
		route := []provider.Route{provider.Chat, provider.Completions, provider.Responses, provider.Messages}[int(ri)%4]
		run := func(chunks ...[]byte) ([]string, []byte) {
			insp := provider.NewInspector(route, "m", "id", 1)
			var p sse.Parser
			var deltas []string
			fn := func(ev sse.Event) error {
				e, err := insp.Inspect(ev)
				if err != nil {
					deltas = append(deltas, "ERR")
					return nil
				}
				for _, d := range e.Deltas {
					deltas = append(deltas, d.Channel+"="+d.Text)
				}
				if len(e.Deltas) > 0 {
					texts := make([]string, len(e.Deltas))
					// A key the typed decoder matched case-insensitively
					// cannot be rewritten: the gateway then cuts the
					// stream (fail closed). Either way it must not panic.
					_, _ = insp.Rewrite(e, texts)
				}
				insp.Sent(e)
				return nil
			}
			for _, c := range chunks {
				if p.Feed(c, fn) != nil {
					return deltas, nil
				}
			}
			_ = p.Flush(fn)
			return deltas, insp.Cut(nil, "refused")
		}
		if split < 0 {
			split = -split
		}
		split %= len(stream) + 1
		whole, cut := run(stream)
		parts, _ := run(stream[:split], stream[split:])
		if !reflect.DeepEqual(whole, parts) {
			t.Fatalf("split at %d changes deltas:\n%q\n%q", split, whole, parts)
		}
		var p sse.Parser
		n := 0
		err := p.Feed(cut, func(ev sse.Event) error {
			n++
			if ev.Data != "[DONE]" && !json.Valid([]byte(ev.Data)) {
				t.Fatalf("cut event is not JSON: %q", ev.Data)
			}
			return nil
		})
		if err != nil || n == 0 {
			t.Fatalf("cut: %v %q", err, cut)
		}
	})
}

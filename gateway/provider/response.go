package provider

import (
	"encoding/json"
	"strconv"
)

// Usage is the token usage an upstream reported.
type Usage struct {
	Prompt, Completion int64
	// OK is true when the upstream reported usage.
	OK bool
}

// Response is a parsed non-streamed upstream answer.
type Response struct {
	Route Route
	// Parts are the texts the model wrote: message content, tool-call
	// arguments, tool_use inputs.
	Parts []Part
	Bytes int
	Usage Usage

	root map[string]any
}

// ParseResponse parses a successful non-streamed upstream response.
func ParseResponse(route Route, body []byte) (*Response, error) {
	root, err := decode(body)
	if err != nil {
		return nil, err
	}
	r := &Response{Route: route, root: root}
	w := &walker{}
	switch route {
	case Chat, Completions:
		choices, _ := root["choices"].([]any)
		w.push("choices")
		for i, cv := range choices {
			c := obj(cv)
			if c == nil {
				continue
			}
			w.push(i)
			if route == Completions {
				_ = w.str(c, "text")
			} else if m := obj(c["message"]); m != nil {
				w.push("message")
				_ = w.str(m, "content")
				_ = w.str(m, "refusal")
				if calls, _ := m["tool_calls"].([]any); len(calls) > 0 {
					w.push("tool_calls")
					for k, tv := range calls {
						if f := obj(obj(tv)["function"]); f != nil {
							w.push(k)
							w.push("function")
							_ = w.str(f, "arguments")
							w.pop()
							w.pop()
						}
					}
					w.pop()
				}
				if f := obj(m["function_call"]); f != nil {
					w.push("function_call")
					_ = w.str(f, "arguments")
					w.pop()
				}
				w.pop()
			}
			w.pop()
		}
		w.pop()
		r.Usage = usage(obj(root["usage"]), "prompt_tokens", "completion_tokens")
	case Responses:
		out, _ := root["output"].([]any)
		w.push("output")
		for i, iv := range out {
			it := obj(iv)
			if it == nil {
				continue
			}
			w.push(i)
			if content, _ := it["content"].([]any); len(content) > 0 {
				w.push("content")
				for j, pv := range content {
					if p := obj(pv); p != nil {
						w.push(j)
						_ = w.str(p, "text")
						_ = w.str(p, "refusal")
						w.pop()
					}
				}
				w.pop()
			}
			_ = w.str(it, "arguments")
			w.pop()
		}
		w.pop()
		r.Usage = usage(obj(root["usage"]), "input_tokens", "output_tokens")
	case Messages:
		content, _ := root["content"].([]any)
		w.push("content")
		for i, bv := range content {
			b := obj(bv)
			if b == nil {
				continue
			}
			w.push(i)
			switch b["type"] {
			case "text":
				_ = w.str(b, "text")
			case "tool_use", "server_tool_use":
				w.push("input")
				w.leaves(b["input"], 0)
				w.pop()
			case "thinking":
				_ = w.str(b, "thinking")
			}
			w.pop()
		}
		w.pop()
		r.Usage = usage(obj(root["usage"]), "input_tokens", "output_tokens")
	case Embeddings:
		r.Usage = usage(obj(root["usage"]), "prompt_tokens", "completion_tokens")
	}
	r.Parts = w.parts
	for _, p := range r.Parts {
		r.Bytes += len(p.Text)
	}
	return r, nil
}

func usage(m map[string]any, in, out string) Usage {
	if m == nil {
		return Usage{}
	}
	return Usage{Prompt: num(m[in]), Completion: num(m[out]), OK: true}
}

func num(v any) int64 {
	switch v := v.(type) {
	case json.Number:
		n, _ := strconv.ParseInt(string(v), 10, 64)
		return n
	case float64:
		return int64(v)
	}
	return 0
}

// Replace sets the text of part i (output redaction, placeholder restore).
func (r *Response) Replace(i int, text string) {
	if set(r.root, r.Parts[i].loc, text) {
		r.Parts[i].Text = text
	}
}

// Body returns the response body with replaced texts.
func (r *Response) Body() ([]byte, error) { return marshal(r.root) }

// ModelText joins the parts that are message text (not tool arguments).
func (r *Response) String() string {
	var s string
	for _, p := range r.Parts {
		s += p.Text
	}
	return s
}

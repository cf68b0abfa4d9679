package provider

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/warden-safety/warden/gateway/sse"
)

// Delta is a piece of model-written text in a stream. Channel names where it
// goes ("choices[0].delta.content", "content[1].input", ...); the texts of
// one channel concatenate to one field of the answer.
type Delta struct {
	Channel string
	Text    string
	loc     []any // where the text is in the event's JSON data
}

// Event is what Inspect learned from one upstream SSE event.
type Event struct {
	Deltas []Delta
	Usage  Usage
	// Done marks the stream's last event ([DONE], message_stop,
	// response.completed and the like).
	Done bool
	// Error marks an error event from the upstream.
	Error bool
	// UsageOnly marks an OpenAI chunk that carries only usage (no choices).
	UsageOnly bool

	name, data string // the event, for Rewrite

	// effects on what the client has seen, applied by Sent
	started    bool
	id, model  string
	created    int64
	blockStart int
	blockStop  int
	choice     int
	seq        int
}

// Inspector reads an upstream stream event by event and remembers what the
// client was sent, so a stream cut at any point can be ended well-formed.
type Inspector struct {
	Route Route
	enc   Encoder
	// Usage accumulates what the upstream reported.
	Usage      Usage
	openBlock  int
	maxBlock   int
	seenChoice map[int]bool
}

// NewInspector returns an inspector for a stream of route answering model.
func NewInspector(route Route, model, id string, created int64) *Inspector {
	return &Inspector{Route: route, enc: Encoder{Route: route, ID: id, Model: model, Created: created},
		openBlock: -1, maxBlock: -1}
}

type chatChunk struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index int     `json:"index"`
		Text  *string `json:"text"`
		Delta struct {
			Content   *string `json:"content"`
			Refusal   *string `json:"refusal"`
			ToolCalls []struct {
				Index    int `json:"index"`
				Function struct {
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *struct {
		Prompt     int64 `json:"prompt_tokens"`
		Completion int64 `json:"completion_tokens"`
	} `json:"usage"`
}

type anthropicEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message *struct {
		ID    string `json:"id"`
		Model string `json:"model"`
		Usage struct {
			Input  int64 `json:"input_tokens"`
			Output int64 `json:"output_tokens"`
		} `json:"usage"`
	} `json:"message"`
	ContentBlock *struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content_block"`
	Delta *struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		Thinking    string `json:"thinking"`
	} `json:"delta"`
	Usage *struct {
		Output int64 `json:"output_tokens"`
	} `json:"usage"`
}

type responsesEvent struct {
	Type         string `json:"type"`
	Seq          int    `json:"sequence_number"`
	OutputIndex  int    `json:"output_index"`
	ContentIndex int    `json:"content_index"`
	Delta        string `json:"delta"`
	Response     *struct {
		ID        string `json:"id"`
		CreatedAt int64  `json:"created_at"`
		Model     string `json:"model"`
		Usage     *struct {
			Input  int64 `json:"input_tokens"`
			Output int64 `json:"output_tokens"`
		} `json:"usage"`
	} `json:"response"`
}

// Inspect parses one upstream event. Data that is not the JSON the format
// prescribes is an error: the gateway cannot vouch for text it cannot read.
func (s *Inspector) Inspect(ev sse.Event) (Event, error) {
	out := Event{blockStart: -1, blockStop: -1, choice: -1, seq: -1, name: ev.Name, data: ev.Data}
	switch s.Route {
	case Chat, Completions:
		if ev.Data == "[DONE]" {
			out.Done = true
			return out, nil
		}
		var c chatChunk
		if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
			if ev.Name == "error" {
				out.Error, out.Done = true, true
				return out, nil
			}
			return out, fmt.Errorf("upstream stream chunk: %w", err)
		}
		out.started = true
		out.id, out.model, out.created = c.ID, c.Model, c.Created
		for ci, ch := range c.Choices {
			out.choice = ch.Index
			prefix := "choices[" + strconv.Itoa(ch.Index) + "]"
			if ch.Text != nil && *ch.Text != "" {
				out.Deltas = append(out.Deltas, Delta{prefix + ".text", *ch.Text, []any{"choices", ci, "text"}})
			}
			if p := ch.Delta.Content; p != nil && *p != "" {
				out.Deltas = append(out.Deltas, Delta{prefix + ".delta.content", *p, []any{"choices", ci, "delta", "content"}})
			}
			if p := ch.Delta.Refusal; p != nil && *p != "" {
				out.Deltas = append(out.Deltas, Delta{prefix + ".delta.refusal", *p, []any{"choices", ci, "delta", "refusal"}})
			}
			for ti, t := range ch.Delta.ToolCalls {
				if t.Function.Arguments != "" {
					out.Deltas = append(out.Deltas, Delta{prefix + ".delta.tool_calls[" + strconv.Itoa(t.Index) + "].function.arguments",
						t.Function.Arguments, []any{"choices", ci, "delta", "tool_calls", ti, "function", "arguments"}})
				}
			}
		}
		if c.Usage != nil {
			out.Usage = Usage{Prompt: c.Usage.Prompt, Completion: c.Usage.Completion, OK: true}
			out.UsageOnly = len(c.Choices) == 0
		}
	case Messages:
		var a anthropicEvent
		if err := json.Unmarshal([]byte(ev.Data), &a); err != nil {
			return out, fmt.Errorf("upstream stream event %q: %w", ev.Name, err)
		}
		prefix := "content[" + strconv.Itoa(a.Index) + "]"
		switch a.Type {
		case "message_start":
			out.started = true
			if a.Message != nil {
				out.id, out.model = a.Message.ID, a.Message.Model
				out.Usage = Usage{Prompt: a.Message.Usage.Input, Completion: a.Message.Usage.Output, OK: true}
			}
		case "content_block_start":
			out.blockStart = a.Index
			if a.ContentBlock != nil && a.ContentBlock.Text != "" {
				out.Deltas = append(out.Deltas, Delta{prefix + ".text", a.ContentBlock.Text, []any{"content_block", "text"}})
			}
		case "content_block_delta":
			if d := a.Delta; d != nil {
				switch {
				case d.Text != "":
					out.Deltas = append(out.Deltas, Delta{prefix + ".text", d.Text, []any{"delta", "text"}})
				case d.PartialJSON != "":
					out.Deltas = append(out.Deltas, Delta{prefix + ".input", d.PartialJSON, []any{"delta", "partial_json"}})
				case d.Thinking != "":
					out.Deltas = append(out.Deltas, Delta{prefix + ".thinking", d.Thinking, []any{"delta", "thinking"}})
				}
			}
		case "content_block_stop":
			out.blockStop = a.Index
		case "message_delta":
			if a.Usage != nil {
				out.Usage = Usage{Completion: a.Usage.Output, OK: true}
			}
		case "message_stop":
			out.Done = true
		case "error":
			out.Error, out.Done = true, true
		}
	case Responses:
		var r responsesEvent
		if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
			return out, fmt.Errorf("upstream stream event %q: %w", ev.Name, err)
		}
		out.seq = r.Seq
		prefix := "output[" + strconv.Itoa(r.OutputIndex) + "]"
		switch r.Type {
		case "response.created":
			out.started = true
			if r.Response != nil {
				out.id, out.model, out.created = r.Response.ID, r.Response.Model, r.Response.CreatedAt
			}
		case "response.output_item.added":
			out.blockStart = r.OutputIndex
		case "response.output_text.delta":
			out.Deltas = append(out.Deltas, Delta{prefix + ".content[" + strconv.Itoa(r.ContentIndex) + "].text", r.Delta, []any{"delta"}})
		case "response.refusal.delta":
			out.Deltas = append(out.Deltas, Delta{prefix + ".content[" + strconv.Itoa(r.ContentIndex) + "].refusal", r.Delta, []any{"delta"}})
		case "response.function_call_arguments.delta":
			out.Deltas = append(out.Deltas, Delta{prefix + ".arguments", r.Delta, []any{"delta"}})
		case "response.completed", "response.incomplete":
			out.Done = true
			if r.Response != nil && r.Response.Usage != nil {
				out.Usage = Usage{Prompt: r.Response.Usage.Input, Completion: r.Response.Usage.Output, OK: true}
			}
		case "response.failed", "error":
			out.Error, out.Done = true, true
		}
	}
	if out.Usage.OK {
		if out.Usage.Prompt > 0 {
			s.Usage.Prompt = out.Usage.Prompt
		}
		if out.Usage.Completion > 0 {
			s.Usage.Completion = out.Usage.Completion
		}
		s.Usage.OK = true
	}
	return out, nil
}

// Sent records that ev was forwarded to the client.
func (s *Inspector) Sent(ev Event) {
	e := &s.enc
	if ev.started {
		e.started = true
	}
	if ev.id != "" {
		e.ID = ev.id
	}
	if ev.model != "" {
		e.Model = ev.model
	}
	if ev.created != 0 {
		e.Created = ev.created
	}
	if ev.choice >= 0 {
		if s.seenChoice == nil {
			s.seenChoice = map[int]bool{}
		}
		if !s.seenChoice[ev.choice] {
			s.seenChoice[ev.choice] = true
			e.choices = append(e.choices, ev.choice)
		}
	}
	if ev.blockStart >= 0 {
		s.openBlock = ev.blockStart
		if ev.blockStart > s.maxBlock {
			s.maxBlock = ev.blockStart
		}
	}
	if ev.blockStop >= 0 && ev.blockStop == s.openBlock {
		s.openBlock = -1
	}
	if ev.seq >= 0 {
		e.seq = ev.seq + 1
	}
}

// Cut ends the stream now: the refusal text (when not empty) and the
// format's well-formed ending with finish reason content_filter (Anthropic:
// stop_reason "refusal"; Responses: status incomplete).
func (s *Inspector) Cut(dst []byte, refusal string) []byte {
	e := s.enc // copy: Cut may be called once
	e.next = s.maxBlock + 1
	if s.Route == Messages && s.openBlock >= 0 {
		e.open, e.index = 1, s.openBlock
		dst = e.closeItem(dst) // content_block_stop; the refusal gets its own block
	}
	if refusal != "" {
		dst = e.Text(dst, refusal)
	}
	return e.Finish(dst, FinishContentFilter, Usage{Completion: s.Usage.Completion, Prompt: s.Usage.Prompt, OK: s.Usage.OK})
}

// Refusal streams a complete refusal answer (an input blocked with block
// style "completion" on a streamed request).
func Refusal(route Route, model, id string, created int64, refusal string) []byte {
	s := NewInspector(route, model, id, created)
	return s.Cut(nil, refusal)
}

// Rewrite returns ev (as inspected) with its deltas' texts replaced by
// texts (one per delta, in order), in wire form: redaction and placeholder
// restoring in a stream.
func (s *Inspector) Rewrite(ev Event, texts []string) ([]byte, error) {
	root, err := decode([]byte(ev.data))
	if err != nil {
		return nil, err
	}
	for i, d := range ev.Deltas {
		if i < len(texts) && !set(root, d.loc, texts[i]) {
			return nil, fmt.Errorf("rewrite stream event: no text at %s", d.Channel)
		}
	}
	data, err := marshal(root)
	if err != nil {
		return nil, err
	}
	return sse.Append(nil, ev.name, string(data)), nil
}

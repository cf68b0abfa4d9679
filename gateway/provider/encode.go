package provider

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/warden-safety/warden/gateway/sse"
)

// Finish reasons, in OpenAI's words; Anthropic's are mapped by StopReason.
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCalls     = "tool_calls"
	FinishContentFilter = "content_filter"
)

// StopReason maps an OpenAI finish reason to Anthropic's stop_reason.
func StopReason(finish string) string {
	switch finish {
	case FinishLength:
		return "max_tokens"
	case FinishToolCalls:
		return "tool_use"
	case FinishContentFilter:
		return "refusal"
	}
	return "end_turn"
}

// ToolCall is a function call the model made.
type ToolCall struct {
	ID, Name, Arguments string
}

// Completion is a whole answer, for building non-streamed bodies.
type Completion struct {
	ID      string
	Model   string
	Created int64
	Text    string
	Tools   []ToolCall
	Finish  string // FinishStop when empty
	Usage   Usage
}

func js(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("provider: marshal: " + err.Error()) // only maps of plain values are marshalled
	}
	return b
}

// Body returns c as route's non-streamed response body.
func (c Completion) Body(route Route) []byte {
	finish := c.Finish
	if finish == "" {
		finish = FinishStop
	}
	switch route {
	case Completions:
		return js(map[string]any{
			"id": c.ID, "object": "text_completion", "created": c.Created, "model": c.Model,
			"choices": []any{map[string]any{"index": 0, "text": c.Text, "finish_reason": finish, "logprobs": nil}},
			"usage":   openAIUsage(c.Usage),
		})
	case Responses:
		var out []any
		if c.Text != "" || len(c.Tools) == 0 {
			out = append(out, map[string]any{
				"type": "message", "id": "msg_" + c.ID, "status": "completed", "role": "assistant",
				"content": []any{map[string]any{"type": "output_text", "text": c.Text, "annotations": []any{}}},
			})
		}
		for _, t := range c.Tools {
			out = append(out, map[string]any{"type": "function_call", "id": "fc_" + t.ID, "call_id": t.ID,
				"name": t.Name, "arguments": t.Arguments, "status": "completed"})
		}
		m := responseObject(c.ID, c.Model, c.Created, "completed", out, c.Usage)
		if finish == FinishContentFilter || finish == FinishLength {
			m["status"] = "incomplete"
			reason := "content_filter"
			if finish == FinishLength {
				reason = "max_output_tokens"
			}
			m["incomplete_details"] = map[string]any{"reason": reason}
		}
		return js(m)
	case Messages:
		content := []any{}
		if c.Text != "" || len(c.Tools) == 0 {
			content = append(content, map[string]any{"type": "text", "text": c.Text})
		}
		for _, t := range c.Tools {
			var input any = map[string]any{}
			if t.Arguments != "" {
				_ = json.Unmarshal([]byte(t.Arguments), &input)
			}
			content = append(content, map[string]any{"type": "tool_use", "id": t.ID, "name": t.Name, "input": input})
		}
		return js(map[string]any{
			"id": c.ID, "type": "message", "role": "assistant", "model": c.Model, "content": content,
			"stop_reason": StopReason(finish), "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": c.Usage.Prompt, "output_tokens": c.Usage.Completion},
		})
	}
	msg := map[string]any{"role": "assistant", "content": c.Text, "refusal": nil}
	if len(c.Tools) > 0 {
		var calls []any
		for _, t := range c.Tools {
			calls = append(calls, map[string]any{"id": t.ID, "type": "function",
				"function": map[string]any{"name": t.Name, "arguments": t.Arguments}})
		}
		msg["tool_calls"] = calls
		if c.Text == "" {
			msg["content"] = nil
		}
	}
	return js(map[string]any{
		"id": c.ID, "object": "chat.completion", "created": c.Created, "model": c.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish, "logprobs": nil}},
		"usage":   openAIUsage(c.Usage),
	})
}

func openAIUsage(u Usage) map[string]any {
	return map[string]any{"prompt_tokens": u.Prompt, "completion_tokens": u.Completion, "total_tokens": u.Prompt + u.Completion}
}

func responseObject(id, model string, created int64, status string, output []any, u Usage) map[string]any {
	if output == nil {
		output = []any{}
	}
	m := map[string]any{
		"id": id, "object": "response", "created_at": created, "status": status, "model": model,
		"output": output, "parallel_tool_calls": true, "tool_choice": "auto", "tools": []any{},
		"incomplete_details": nil, "error": nil,
	}
	if status == "completed" || status == "incomplete" {
		m["usage"] = map[string]any{"input_tokens": u.Prompt, "output_tokens": u.Completion,
			"total_tokens":          u.Prompt + u.Completion,
			"input_tokens_details":  map[string]any{"cached_tokens": 0},
			"output_tokens_details": map[string]any{"reasoning_tokens": 0}}
	}
	return m
}

// Encoder writes a stream in route's SSE format, event by event. It is used
// by the fake upstream to stream answers and by the gateway to end a cut
// stream well-formed (after Resume from what the client already received).
type Encoder struct {
	Route   Route
	ID      string
	Model   string
	Created int64
	// UsageChunk makes Finish send the usage in a chunk of its own with no
	// choices, as OpenAI does when a client sets
	// stream_options.include_usage (and only then).
	UsageChunk bool

	started bool
	// open item: 0 none, 1 text, 2 tool
	open     int
	index    int // Anthropic content block / Responses output index of the open item
	next     int // next block / output index
	tool     int // next chat tool_call index
	seq      int // Responses sequence_number
	itemText strings.Builder
	toolID   string
	toolName string
	output   []any // Responses items done so far (ids only; text kept short)
	choices  []int // chat choice indices seen upstream (cut ends them all)
}

func (e *Encoder) event(dst []byte, name string, v map[string]any) []byte {
	if e.Route == Responses {
		v["sequence_number"] = e.seq
		e.seq++
	}
	if e.Route != Messages && e.Route != Responses {
		name = ""
	}
	return sse.Append(dst, name, string(js(v)))
}

func (e *Encoder) chunk(delta map[string]any, finish any, index int) map[string]any {
	if e.Route == Completions {
		text, _ := delta["content"].(string)
		return map[string]any{"id": e.ID, "object": "text_completion", "created": e.Created, "model": e.Model,
			"choices": []any{map[string]any{"index": index, "text": text, "finish_reason": finish, "logprobs": nil}}}
	}
	return map[string]any{"id": e.ID, "object": "chat.completion.chunk", "created": e.Created, "model": e.Model,
		"choices": []any{map[string]any{"index": index, "delta": delta, "finish_reason": finish, "logprobs": nil}}}
}

// Start writes the stream's opening events (a no-op after the first call).
func (e *Encoder) Start(dst []byte) []byte {
	if e.started {
		return dst
	}
	e.started = true
	switch e.Route {
	case Chat:
		return e.event(dst, "", e.chunk(map[string]any{"role": "assistant", "content": ""}, nil, 0))
	case Messages:
		return e.event(dst, "message_start", map[string]any{"type": "message_start", "message": map[string]any{
			"id": e.ID, "type": "message", "role": "assistant", "model": e.Model, "content": []any{},
			"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": 0, "output_tokens": 0}}})
	case Responses:
		dst = e.event(dst, "response.created", map[string]any{"type": "response.created",
			"response": responseObject(e.ID, e.Model, e.Created, "in_progress", nil, Usage{})})
		return e.event(dst, "response.in_progress", map[string]any{"type": "response.in_progress",
			"response": responseObject(e.ID, e.Model, e.Created, "in_progress", nil, Usage{})})
	}
	return dst
}

func (e *Encoder) itemID() string { return "item_" + e.ID + "_" + strconv.Itoa(e.index) }

// closeItem ends the open text block or tool call.
func (e *Encoder) closeItem(dst []byte) []byte {
	if e.open == 0 {
		return dst
	}
	switch e.Route {
	case Messages:
		dst = e.event(dst, "content_block_stop", map[string]any{"type": "content_block_stop", "index": e.index})
	case Responses:
		var item map[string]any
		if e.open == 1 {
			text := e.itemText.String()
			part := map[string]any{"type": "output_text", "text": text, "annotations": []any{}}
			dst = e.event(dst, "response.output_text.done", map[string]any{"type": "response.output_text.done",
				"item_id": e.itemID(), "output_index": e.index, "content_index": 0, "text": text})
			dst = e.event(dst, "response.content_part.done", map[string]any{"type": "response.content_part.done",
				"item_id": e.itemID(), "output_index": e.index, "content_index": 0, "part": part})
			item = map[string]any{"type": "message", "id": e.itemID(), "status": "completed", "role": "assistant",
				"content": []any{part}}
		} else {
			args := e.itemText.String()
			dst = e.event(dst, "response.function_call_arguments.done", map[string]any{
				"type": "response.function_call_arguments.done", "item_id": e.itemID(), "output_index": e.index, "arguments": args})
			item = map[string]any{"type": "function_call", "id": e.itemID(), "call_id": e.toolID, "name": e.toolName,
				"arguments": args, "status": "completed"}
		}
		dst = e.event(dst, "response.output_item.done", map[string]any{"type": "response.output_item.done",
			"output_index": e.index, "item": item})
		e.output = append(e.output, item)
	}
	e.open = 0
	e.itemText.Reset()
	return dst
}

// Text writes a text delta, opening a text block when needed.
func (e *Encoder) Text(dst []byte, delta string) []byte {
	dst = e.Start(dst)
	if e.open == 2 {
		dst = e.closeItem(dst)
	}
	if e.open == 0 {
		e.open = 1
		e.index = e.next
		e.next++
		switch e.Route {
		case Messages:
			dst = e.event(dst, "content_block_start", map[string]any{"type": "content_block_start", "index": e.index,
				"content_block": map[string]any{"type": "text", "text": ""}})
		case Responses:
			dst = e.event(dst, "response.output_item.added", map[string]any{"type": "response.output_item.added",
				"output_index": e.index, "item": map[string]any{"type": "message", "id": e.itemID(),
					"status": "in_progress", "role": "assistant", "content": []any{}}})
			dst = e.event(dst, "response.content_part.added", map[string]any{"type": "response.content_part.added",
				"item_id": e.itemID(), "output_index": e.index, "content_index": 0,
				"part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}}})
		}
	}
	switch e.Route {
	case Messages:
		return e.event(dst, "content_block_delta", map[string]any{"type": "content_block_delta", "index": e.index,
			"delta": map[string]any{"type": "text_delta", "text": delta}})
	case Responses:
		e.itemText.WriteString(delta)
		return e.event(dst, "response.output_text.delta", map[string]any{"type": "response.output_text.delta",
			"item_id": e.itemID(), "output_index": e.index, "content_index": 0, "delta": delta})
	}
	return e.event(dst, "", e.chunk(map[string]any{"content": delta}, nil, 0))
}

// ToolStart opens a tool call.
func (e *Encoder) ToolStart(dst []byte, id, name string) []byte {
	dst = e.Start(dst)
	dst = e.closeItem(dst)
	e.open = 2
	e.index = e.next
	e.next++
	e.toolID, e.toolName = id, name
	switch e.Route {
	case Messages:
		return e.event(dst, "content_block_start", map[string]any{"type": "content_block_start", "index": e.index,
			"content_block": map[string]any{"type": "tool_use", "id": id, "name": name, "input": map[string]any{}}})
	case Responses:
		return e.event(dst, "response.output_item.added", map[string]any{"type": "response.output_item.added",
			"output_index": e.index, "item": map[string]any{"type": "function_call", "id": e.itemID(), "call_id": id,
				"name": name, "arguments": "", "status": "in_progress"}})
	case Chat:
		e.tool++
		return e.event(dst, "", e.chunk(map[string]any{"tool_calls": []any{map[string]any{"index": e.tool - 1,
			"id": id, "type": "function", "function": map[string]any{"name": name, "arguments": ""}}}}, nil, 0))
	}
	return dst
}

// ToolArgs writes a delta of the open tool call's JSON arguments.
func (e *Encoder) ToolArgs(dst []byte, delta string) []byte {
	switch e.Route {
	case Messages:
		return e.event(dst, "content_block_delta", map[string]any{"type": "content_block_delta", "index": e.index,
			"delta": map[string]any{"type": "input_json_delta", "partial_json": delta}})
	case Responses:
		e.itemText.WriteString(delta)
		return e.event(dst, "response.function_call_arguments.delta", map[string]any{
			"type": "response.function_call_arguments.delta", "item_id": e.itemID(), "output_index": e.index, "delta": delta})
	case Chat:
		return e.event(dst, "", e.chunk(map[string]any{"tool_calls": []any{map[string]any{"index": e.tool - 1,
			"function": map[string]any{"arguments": delta}}}}, nil, 0))
	}
	return dst
}

// Finish closes the stream with a finish reason (FinishStop etc.) and the
// usage, ending with the format's terminator.
func (e *Encoder) Finish(dst []byte, finish string, u Usage) []byte {
	dst = e.Start(dst)
	dst = e.closeItem(dst)
	switch e.Route {
	case Messages:
		dst = e.event(dst, "message_delta", map[string]any{"type": "message_delta",
			"delta": map[string]any{"stop_reason": StopReason(finish), "stop_sequence": nil},
			"usage": map[string]any{"output_tokens": u.Completion}})
		return e.event(dst, "message_stop", map[string]any{"type": "message_stop"})
	case Responses:
		status, name := "completed", "response.completed"
		if finish == FinishContentFilter || finish == FinishLength {
			status, name = "incomplete", "response.incomplete"
		}
		resp := responseObject(e.ID, e.Model, e.Created, status, e.output, u)
		if status == "incomplete" {
			reason := "content_filter"
			if finish == FinishLength {
				reason = "max_output_tokens"
			}
			resp["incomplete_details"] = map[string]any{"reason": reason}
		}
		return e.event(dst, name, map[string]any{"type": name, "response": resp})
	}
	choices := e.choices
	if len(choices) == 0 {
		choices = []int{0}
	}
	for _, i := range choices {
		dst = e.event(dst, "", e.chunk(map[string]any{}, finish, i))
	}
	if e.UsageChunk && u.OK {
		object := "chat.completion.chunk"
		if e.Route == Completions {
			object = "text_completion"
		}
		dst = e.event(dst, "", map[string]any{"id": e.ID, "object": object, "created": e.Created, "model": e.Model,
			"choices": []any{}, "usage": openAIUsage(u)})
	}
	return append(dst, "data: [DONE]\n\n"...)
}

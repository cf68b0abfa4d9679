package provider

// Request is a parsed client request.
type Request struct {
	Route  Route
	Model  string
	Stream bool
	// Parts are the texts the model will read, in body order.
	Parts []Part
	// Bytes is the total length of the texts in Parts.
	Bytes int

	root    map[string]any
	changed bool
}

// ParseRequest parses a request body for route and finds every text the
// model will read: system prompts and instructions, user, assistant, tool
// and function messages, text parts of multimodal content, Anthropic content
// blocks (including tool_result), tool-call arguments and tool descriptions.
// A malformed body returns an *Error with status 400 and the reason (with
// the JSON byte offset for syntax errors).
func ParseRequest(route Route, body []byte) (*Request, error) {
	root, err := decode(body)
	if err != nil {
		return nil, err
	}
	r := &Request{Route: route, root: root}
	model, ok := root["model"].(string)
	if !ok || model == "" {
		return nil, &Error{Status: 400, Param: "model", Msg: "invalid request: model must be a non-empty string"}
	}
	r.Model = model
	if s, ok := root["stream"]; ok && s != nil {
		b, ok := s.(bool)
		if !ok {
			return nil, badRequest("stream", "invalid request: stream must be a boolean")
		}
		if b && !route.Streams() {
			return nil, badRequest("stream", "invalid request: %s does not stream", route.Path())
		}
		r.Stream = b
	}
	w := &walker{}
	switch route {
	case Chat:
		err = chatRequest(w, root)
	case Completions:
		err = promptRequest(w, root, "prompt", true)
	case Embeddings:
		err = promptRequest(w, root, "input", false)
	case Responses:
		err = responsesRequest(w, root)
	case Messages:
		err = messagesRequest(w, root)
	}
	if err != nil {
		return nil, err
	}
	r.Parts = w.parts
	for _, p := range r.Parts {
		r.Bytes += len(p.Text)
	}
	return r, nil
}

// messages returns the non-empty "messages" array of a chat request.
func messages(w *walker, root map[string]any) ([]any, error) {
	msgs, err := arr(w, root, "messages")
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, badRequest("messages", "invalid request: messages must be a non-empty array")
	}
	return msgs, nil
}

func chatRequest(w *walker, root map[string]any) error {
	msgs, err := messages(w, root)
	if err != nil {
		return err
	}
	// On error the walker is discarded, so early returns need not pop.
	w.push("messages")
	for i, mv := range msgs {
		w.push(i)
		m := obj(mv)
		if m == nil {
			return badRequest(w.path(), "invalid request: %s must be an object", w.path())
		}
		if err := openAIContent(w, m); err != nil {
			return err
		}
		calls, err := arr(w, m, "tool_calls")
		if err != nil {
			return err
		}
		if len(calls) > 0 {
			w.push("tool_calls")
			for k, cv := range calls {
				w.push(k)
				if c := obj(cv); c != nil {
					if f := obj(c["function"]); f != nil {
						w.push("function")
						if err := w.str(f, "arguments"); err != nil {
							return err
						}
						w.pop()
					}
				}
				w.pop()
			}
			w.pop()
		}
		if f := obj(m["function_call"]); f != nil {
			w.push("function_call")
			if err := w.str(f, "arguments"); err != nil {
				return err
			}
			w.pop()
		}
		w.pop()
	}
	w.pop()
	toolDescriptions(w, root)
	return nil
}

// openAIContent adds m["content"]: a string or an array of content parts
// whose text parts ("text", "input_text", "output_text", "refusal") count.
func openAIContent(w *walker, m map[string]any) error {
	c, ok := m["content"]
	if !ok || c == nil {
		return nil
	}
	w.push("content")
	defer w.pop()
	switch c := c.(type) {
	case string:
		w.add(c)
	case []any:
		for j, pv := range c {
			w.push(j)
			p := obj(pv)
			if p == nil {
				if s, ok := pv.(string); ok {
					w.add(s)
					w.pop()
					continue
				}
				err := badRequest(w.path(), "invalid request: %s must be an object", w.path())
				w.pop()
				return err
			}
			for _, key := range []string{"text", "refusal"} {
				if err := w.str(p, key); err != nil {
					return err
				}
			}
			w.pop()
		}
	default:
		return badRequest(w.path(), "invalid request: %s must be a string or an array of content parts", w.path())
	}
	return nil
}

// toolDescriptions adds the descriptions of declared tools and functions:
// the model reads them too.
func toolDescriptions(w *walker, root map[string]any) {
	if tools, _ := root["tools"].([]any); len(tools) > 0 {
		w.push("tools")
		for i, tv := range tools {
			w.push(i)
			if t := obj(tv); t != nil {
				if f := obj(t["function"]); f != nil {
					w.push("function")
					_ = w.str(f, "description")
					w.pop()
				} else {
					_ = w.str(t, "description")
				}
			}
			w.pop()
		}
		w.pop()
	}
	listDescriptions(w, root, "functions")
}

// listDescriptions adds the "description" of every object in root[key]
// (tool and function declarations).
func listDescriptions(w *walker, root map[string]any, key string) {
	items, _ := root[key].([]any)
	if len(items) == 0 {
		return
	}
	w.push(key)
	for i, v := range items {
		w.push(i)
		if o := obj(v); o != nil {
			_ = w.str(o, "description")
		}
		w.pop()
	}
	w.pop()
}

// promptRequest handles completions' prompt and embeddings' input: a string
// or an array of strings (token arrays carry no text to scan).
func promptRequest(w *walker, root map[string]any, key string, suffix bool) error {
	v, ok := root[key]
	if !ok || v == nil {
		return badRequest(key, "invalid request: %s is required", key)
	}
	w.push(key)
	switch v := v.(type) {
	case string:
		w.add(v)
	case []any:
		for i, e := range v {
			if s, ok := e.(string); ok {
				w.push(i)
				w.add(s)
				w.pop()
			}
		}
	default:
		err := badRequest(key, "invalid request: %s must be a string or an array", key)
		w.pop()
		return err
	}
	w.pop()
	if suffix {
		return w.str(root, "suffix")
	}
	return nil
}

func responsesRequest(w *walker, root map[string]any) error {
	if err := w.str(root, "instructions"); err != nil {
		return err
	}
	v, ok := root["input"]
	if !ok || v == nil {
		return badRequest("input", "invalid request: input is required")
	}
	w.push("input")
	defer w.pop()
	switch v := v.(type) {
	case string:
		w.add(v)
	case []any:
		for i, iv := range v {
			w.push(i)
			it := obj(iv)
			if it == nil {
				err := badRequest(w.path(), "invalid request: %s must be an object", w.path())
				w.pop()
				return err
			}
			if err := openAIContent(w, it); err != nil {
				return err
			}
			for _, key := range []string{"arguments", "output", "text"} {
				if s, ok := it[key].(string); ok {
					w.push(key)
					w.add(s)
					w.pop()
				}
			}
			w.pop()
		}
	default:
		return badRequest("input", "invalid request: input must be a string or an array of input items")
	}
	if tools, _ := root["tools"].([]any); len(tools) > 0 {
		w.pop()
		listDescriptions(w, root, "tools")
	}
	return nil
}

func messagesRequest(w *walker, root map[string]any) error {
	if _, ok := root["max_tokens"]; !ok {
		return badRequest("max_tokens", "invalid request: max_tokens is required")
	}
	switch s := root["system"].(type) {
	case nil:
	case string:
		w.push("system")
		w.add(s)
		w.pop()
	case []any:
		w.push("system")
		if err := anthropicBlocks(w, s, 0); err != nil {
			return err
		}
		w.pop()
	default:
		return badRequest("system", "invalid request: system must be a string or an array of text blocks")
	}
	msgs, err := messages(w, root)
	if err != nil {
		return err
	}
	w.push("messages")
	for i, mv := range msgs {
		w.push(i)
		m := obj(mv)
		if m == nil {
			return badRequest(w.path(), "invalid request: %s must be an object", w.path())
		}
		switch c := m["content"].(type) {
		case string:
			w.push("content")
			w.add(c)
			w.pop()
		case []any:
			w.push("content")
			if err := anthropicBlocks(w, c, 0); err != nil {
				return err
			}
			w.pop()
		default:
			w.push("content")
			return badRequest(w.path(), "invalid request: %s must be a string or an array of content blocks", w.path())
		}
		w.pop()
	}
	w.pop()
	listDescriptions(w, root, "tools")
	return nil
}

// anthropicBlocks adds text, tool_use input, tool_result content and text
// documents from a list of content blocks.
func anthropicBlocks(w *walker, blocks []any, depth int) error {
	if depth > 8 {
		return badRequest(w.path(), "invalid request: %s nests too deeply", w.path())
	}
	for j, bv := range blocks {
		w.push(j)
		b := obj(bv)
		if b == nil {
			return badRequest(w.path(), "invalid request: %s must be an object", w.path())
		}
		typ, _ := b["type"].(string)
		switch typ {
		case "text":
			if err := w.str(b, "text"); err != nil {
				return err
			}
		case "tool_use", "server_tool_use":
			w.push("input")
			w.leaves(b["input"], 0)
			w.pop()
		case "tool_result", "web_search_tool_result":
			switch c := b["content"].(type) {
			case string:
				w.push("content")
				w.add(c)
				w.pop()
			case []any:
				w.push("content")
				if err := anthropicBlocks(w, c, depth+1); err != nil {
					return err
				}
				w.pop()
			}
		case "document":
			if src := obj(b["source"]); src != nil && src["type"] == "text" {
				w.push("source")
				_ = w.str(src, "data")
				w.pop()
			}
			_ = w.str(b, "context")
		case "thinking":
			_ = w.str(b, "thinking")
		}
		w.pop()
	}
	return nil
}

// Replace sets the text of part i (redaction).
func (r *Request) Replace(i int, text string) {
	if set(r.root, r.Parts[i].loc, text) {
		r.Parts[i].Text = text
		r.changed = true
	}
}

// Changed reports whether Replace changed the body.
func (r *Request) Changed() bool { return r.changed }

// Body returns the request body with replaced texts; the original bytes
// should be forwarded when nothing changed.
func (r *Request) Body() ([]byte, error) { return marshal(r.root) }

// LastUser returns the last text a user (or tool) sent: what an echo model
// answers to.
func (r *Request) LastUser() string {
	for i := len(r.Parts) - 1; i >= 0; i-- {
		p := r.Parts[i]
		if len(p.loc) >= 2 {
			if idx, ok := p.loc[1].(int); ok {
				if key, _ := p.loc[0].(string); key == "messages" || key == "input" {
					if msgs, ok := r.root[key].([]any); ok && idx < len(msgs) {
						if m := obj(msgs[idx]); m != nil {
							if role, _ := m["role"].(string); role == "assistant" {
								continue
							}
						}
					}
				}
			}
		}
		if key, _ := p.loc[0].(string); key == "tools" || key == "functions" || key == "system" || key == "instructions" {
			continue
		}
		return p.Text
	}
	return ""
}

// EnsureStreamUsage asks an OpenAI-format upstream to report token usage
// at the end of a stream (stream_options.include_usage) when the client did
// not, and reports whether it added the option: the gateway then meters
// the usage chunk and drops it, so the client sees the stream it asked for.
func (r *Request) EnsureStreamUsage() bool {
	if !r.Stream || (r.Route != Chat && r.Route != Completions) {
		return false
	}
	opts, _ := r.root["stream_options"].(map[string]any)
	if opts != nil {
		if v, _ := opts["include_usage"].(bool); v {
			return false
		}
	} else {
		opts = map[string]any{}
		r.root["stream_options"] = opts
	}
	opts["include_usage"] = true
	r.changed = true
	return true
}

// StreamUsage reports whether the client asked for a usage chunk at the
// end of an OpenAI stream (stream_options.include_usage).
func (r *Request) StreamUsage() bool {
	opts, _ := r.root["stream_options"].(map[string]any)
	v, _ := opts["include_usage"].(bool)
	return v
}

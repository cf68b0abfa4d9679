package guardmodel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

// Template names, modes and roles.
const (
	LlamaGuard3 = "llama-guard-3"
	LlamaGuard4 = "llama-guard-4"

	ModeChat        = "chat"
	ModeChatPrompt  = "chat_prompt"
	ModeCompletions = "completions"

	RoleUser  = "user"
	RoleAgent = "agent"
)

// Template is a Llama Guard prompt format. The rendered prompt is
//
//	Prefix + Task(role) + "\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\n" + categories +
//	"<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\n" + turns +
//	"<END CONVERSATION>\n\n" + Instructions(role) + Suffix
//
// where each turn is "User: ...\n\n" or "Agent: ...\n\n" and {role} in Task
// and Instructions is replaced by "User" or "Agent". Prefix and Suffix hold
// the model's special tokens and are used only in completions mode.
type Template struct {
	Name         string `json:"name" yaml:"name"`
	Prefix       string `json:"prefix" yaml:"prefix"`
	Task         string `json:"task" yaml:"task"`
	Instructions string `json:"instructions" yaml:"instructions"`
	Suffix       string `json:"suffix" yaml:"suffix"`
}

func (t *Template) validate() error {
	if t.Name == "" || !strings.Contains(t.Task, "{role}") || !strings.Contains(t.Instructions, "{role}") {
		return errors.New("needs a name and {role} in task and instructions")
	}
	return nil
}

// The MLCommons hazard categories as Llama Guard 3 and 4 list them.
var categoryNames = map[string]string{
	"S1": "Violent Crimes", "S2": "Non-Violent Crimes", "S3": "Sex Crimes",
	"S4": "Child Exploitation", "S5": "Defamation", "S6": "Specialized Advice",
	"S7": "Privacy", "S8": "Intellectual Property", "S9": "Indiscriminate Weapons",
	"S10": "Hate", "S11": "Self-Harm", "S12": "Sexual Content",
	"S13": "Elections", "S14": "Code Interpreter Abuse",
}

var allCodes = []string{"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11", "S12", "S13", "S14"}

const instructions = "Provide your safety assessment for ONLY THE LAST {role} message in the above conversation:\n" +
	" - First line must read 'safe' or 'unsafe'.\n" +
	" - If unsafe, a second line must include a comma-separated list of violated categories."

// templates are the built-in formats. The servers add the begin-of-text
// token themselves, so Prefix starts at the first header.
var templates = map[string]Template{
	// Llama Guard 3 (1B and 8B), from Meta's model card and chat template.
	LlamaGuard3: {
		Name:         LlamaGuard3,
		Prefix:       "<|start_header_id|>user<|end_header_id|>\n\n",
		Task:         "Task: Check if there is unsafe content in '{role}' messages in conversations according our safety policy with the below categories.",
		Instructions: instructions,
		Suffix:       "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
	},
	// Llama Guard 4 (12B): the same categories and layout, its own wording
	// ("according to") and Llama 4's header tokens.
	LlamaGuard4: {
		Name:         LlamaGuard4,
		Prefix:       "<|header_start|>user<|header_end|>\n\n",
		Task:         "Task: Check if there is unsafe content in '{role}' messages in conversations according to our safety policy with the below categories.",
		Instructions: instructions,
		Suffix:       "<|eot|><|header_start|>assistant<|header_end|>\n\n",
	},
}

// Message is one turn of a conversation. Role is RoleUser or RoleAgent.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type convKey struct{}

// WithConversation attaches the turns that preceded the scanned text, so a
// Llama Guard guard assessing an answer (role "agent") sees the prompt that
// led to it. Other guards ignore it.
func WithConversation(ctx context.Context, turns []Message) context.Context {
	return context.WithValue(ctx, convKey{}, turns)
}

func conversation(ctx context.Context) []Message {
	m, _ := ctx.Value(convKey{}).([]Message)
	return m
}

func (c *LlamaGuardConfig) templateName() string {
	if c.Template == "" {
		return LlamaGuard3
	}
	return c.Template
}

func (c *LlamaGuardConfig) template() Template {
	if c.Custom != nil {
		return *c.Custom
	}
	return templates[c.templateName()]
}

func roleLabel(role string) string {
	if role == RoleAgent {
		return "Agent"
	}
	return "User"
}

// Render returns the task prompt for turns (the last one is assessed as
// role's message) without the special tokens; raw adds them.
func (t *Template) Render(turns []Message, role string, codes []string, raw bool) string {
	var b strings.Builder
	if raw {
		b.WriteString(t.Prefix)
	}
	label := roleLabel(role)
	b.WriteString(strings.ReplaceAll(t.Task, "{role}", label))
	b.WriteString("\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\n")
	if len(codes) == 0 {
		codes = allCodes
	}
	for _, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		fmt.Fprintf(&b, "%s: %s.\n", c, categoryNames[c])
	}
	b.WriteString("<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\n")
	for _, m := range turns {
		fmt.Fprintf(&b, "%s: %s\n\n", roleLabel(m.Role), m.Content)
	}
	b.WriteString("<END CONVERSATION>\n\n")
	b.WriteString(strings.ReplaceAll(t.Instructions, "{role}", label))
	if raw {
		b.WriteString(t.Suffix)
	}
	return b.String()
}

// Answer is a parsed Llama Guard answer.
type Answer struct {
	Unsafe bool
	// Codes are the violated categories, upper-case, without duplicates.
	Codes []string
}

// ParseAnswer reads a Llama Guard answer: "safe", or "unsafe" followed by
// a comma-separated list of S-codes on the next line ("unsafe\nS1,S9").
// Case, surrounding whitespace, blank lines, spaces around commas, codes on
// the first line and a trailing end-of-turn token are tolerated. An unsafe
// answer must name at least one code, every code must be S1–S14, and a safe
// answer must say nothing else. Errors do not quote the answer.
func ParseAnswer(s string) (Answer, error) {
	s = strings.TrimSpace(s)
	for _, tok := range []string{"<|eot_id|>", "<|eot|>", "</s>", "<|end_of_text|>"} {
		s = strings.TrimSpace(strings.TrimSuffix(s, tok))
	}
	if s == "" {
		return Answer{}, errors.New("empty answer")
	}
	first, rest, _ := strings.Cut(s, "\n")
	fields := strings.Fields(first)
	switch strings.ToLower(fields[0]) {
	case "safe":
		if len(fields) > 1 || strings.TrimSpace(rest) != "" {
			return Answer{}, errors.New(`unexpected text after "safe"`)
		}
		return Answer{}, nil
	case "unsafe":
	default:
		return Answer{}, errors.New(`answer does not start with "safe" or "unsafe"`)
	}
	a := Answer{Unsafe: true}
	codes := strings.Join(fields[1:], " ") + "\n" + rest
	for _, f := range strings.FieldsFunc(codes, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		c := strings.ToUpper(f)
		if _, ok := categoryNames[c]; !ok {
			return Answer{}, fmt.Errorf("unknown category code %q", truncateRunes(f, 12))
		}
		dup := false
		for _, x := range a.Codes {
			dup = dup || x == c
		}
		if !dup {
			a.Codes = append(a.Codes, c)
		}
	}
	if len(a.Codes) == 0 {
		return Answer{}, errors.New(`"unsafe" answer names no category`)
	}
	return a, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// llamaGuard is the Llama Guard backend.
type llamaGuard struct {
	cfg   LlamaGuardConfig
	tmpl  Template
	mode  string
	role  string
	model string
}

func newLlamaGuard(c *Config) *llamaGuard {
	lg := &llamaGuard{cfg: c.LlamaGuard, tmpl: c.LlamaGuard.template(), mode: c.LlamaGuard.Mode, role: c.LlamaGuard.Role, model: c.Model}
	if lg.mode == "" {
		lg.mode = ModeChat
	}
	if lg.role == "" {
		lg.role = RoleUser
	}
	if lg.cfg.MaxTokens == 0 {
		lg.cfg.MaxTokens = 20
	}
	return lg
}

func (l *llamaGuard) chat(msgs []chatMessage) chatRequest {
	r := chatRequest{Model: l.model, Messages: msgs, MaxTokens: l.cfg.MaxTokens}
	if l.cfg.Logprobs {
		r.Logprobs, r.TopLogprobs = true, topLogprobs
	}
	return r
}

func (l *llamaGuard) variant() string {
	v := l.tmpl.Name + "/" + l.mode + "/" + l.role
	if len(l.cfg.Codes) > 0 {
		v += "/" + strings.Join(l.cfg.Codes, ",")
	}
	if l.cfg.Logprobs {
		v += "/logprobs"
	}
	return v
}

func (l *llamaGuard) covers(c hazard.Category) bool {
	info, ok := hazard.Lookup(c)
	return ok && len(info.LlamaGuard) > 0 && c != hazard.PII
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature float64       `json:"temperature"`
	MaxTokens   int           `json:"max_tokens"`
	Stream      bool          `json:"stream"`
	Logprobs    bool          `json:"logprobs,omitempty"`
	TopLogprobs int           `json:"top_logprobs,omitempty"`
}

type completionRequest struct {
	Model       string  `json:"model"`
	Prompt      string  `json:"prompt"`
	Temperature float64 `json:"temperature"`
	MaxTokens   int     `json:"max_tokens"`
	Stream      bool    `json:"stream"`
	Logprobs    int     `json:"logprobs,omitempty"`
}

// topLogprobs is how many alternatives are asked for per token.
const topLogprobs = 5

type tokenLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
}

// logprobs covers the chat shape (content: one entry per token with its
// top alternatives) and the legacy completions shape (tokens and one map of
// alternatives per token).
type logprobs struct {
	Content []struct {
		tokenLogprob
		TopLogprobs []tokenLogprob `json:"top_logprobs"`
	} `json:"content"`
	Tokens      []string             `json:"tokens"`
	TopLogprobs []map[string]float64 `json:"top_logprobs"`
}

// unsafeProbability reads the probability that the verdict token is
// "unsafe" rather than "safe", from the alternatives of the first token
// that is not blank: p(unsafe) / (p(unsafe) + p(safe)). ok is false when
// the alternatives do not include both words or the answer is unsafe.
func (lp *logprobs) unsafeProbability() (p float64, ok bool) {
	if lp == nil {
		return 0, false
	}
	var alts map[string]float64
	for i, c := range lp.Content {
		if strings.TrimSpace(c.Token) == "" {
			continue
		}
		alts = map[string]float64{}
		for _, t := range lp.Content[i].TopLogprobs {
			alts[t.Token] = t.Logprob
		}
		alts[c.Token] = c.Logprob
		break
	}
	if alts == nil {
		for i, t := range lp.Tokens {
			if strings.TrimSpace(t) != "" && i < len(lp.TopLogprobs) {
				alts = lp.TopLogprobs[i]
				break
			}
		}
	}
	unsafe, safe := math.Inf(-1), math.Inf(-1)
	for tok, l := range alts {
		switch strings.ToLower(strings.TrimSpace(tok)) {
		case "unsafe":
			unsafe = logAdd(unsafe, l)
		case "safe":
			safe = logAdd(safe, l)
		}
	}
	if math.IsInf(unsafe, -1) || math.IsNaN(unsafe) || math.IsNaN(safe) {
		return 0, false
	}
	// p = 1 / (1 + exp(safe - unsafe)), exact when safe is -Inf.
	p = 1 / (1 + math.Exp(safe-unsafe))
	return p, p >= 0 && p <= 1
}

// logAdd returns log(exp(a) + exp(b)).
func logAdd(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	m := max(a, b)
	return m + math.Log(math.Exp(a-m)+math.Exp(b-m))
}

// completionResponse covers both the chat and the completions shapes.
type completionResponse struct {
	Choices []struct {
		Message *struct {
			Content *string `json:"content"`
		} `json:"message"`
		Text     *string   `json:"text"`
		Logprobs *logprobs `json:"logprobs"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func (l *llamaGuard) assess(ctx context.Context, g *Guard, text string) ([]detect.Finding, error) {
	turns := append(append([]Message(nil), conversation(ctx)...), Message{Role: l.role, Content: text})
	var path string
	var body any
	switch l.mode {
	case ModeChat:
		msgs := make([]chatMessage, 0, len(turns)+1)
		if turns[0].Role == RoleAgent {
			// Chat templates require the conversation to start with the
			// user; an answer with no known prompt gets an empty one.
			msgs = append(msgs, chatMessage{Role: "user", Content: ""})
		}
		for _, m := range turns {
			r := "user"
			if m.Role == RoleAgent {
				r = "assistant"
			}
			msgs = append(msgs, chatMessage{Role: r, Content: m.Content})
		}
		path, body = "/v1/chat/completions", l.chat(msgs)
	case ModeChatPrompt:
		p := l.tmpl.Render(turns, l.role, l.cfg.Codes, false)
		path, body = "/v1/chat/completions", l.chat([]chatMessage{{Role: "user", Content: p}})
	default:
		p := l.tmpl.Render(turns, l.role, l.cfg.Codes, true)
		req := completionRequest{Model: l.model, Prompt: p, MaxTokens: l.cfg.MaxTokens}
		if l.cfg.Logprobs {
			req.Logprobs = topLogprobs
		}
		path, body = "/v1/completions", req
	}
	var resp completionResponse
	if err := g.post(ctx, path, body, &resp); err != nil {
		return nil, err
	}
	return l.interpret(ctx, g, &resp)
}

// interpret turns a decoded chat or completions response into findings.
func (l *llamaGuard) interpret(ctx context.Context, g *Guard, resp *completionResponse) ([]detect.Finding, error) {
	if resp.Usage != nil {
		g.recordUsage(ctx, resp.Usage.PromptTokens, resp.Usage.CompletionTokens)
	}
	if len(resp.Choices) == 0 {
		return nil, g.errorf(ErrMalformed, 0, "response has no choices")
	}
	var answer *string
	ch := resp.Choices[0]
	if ch.Message != nil && ch.Message.Content != nil {
		answer = ch.Message.Content
	} else if ch.Text != nil {
		answer = ch.Text
	}
	if answer == nil {
		return nil, g.errorf(ErrMalformed, 0, "response has no answer text")
	}
	a, err := ParseAnswer(*answer)
	if err != nil {
		return nil, g.errorf(ErrMalformed, 0, "parse answer: %v", err)
	}
	score, how := 1.0, ""
	if l.cfg.Logprobs && a.Unsafe {
		if p, ok := ch.Logprobs.unsafeProbability(); ok {
			score, how = p, fmt.Sprintf(" (p=%.3f)", p)
		}
	}
	var out []detect.Finding
	for _, code := range a.Codes {
		c, _ := hazard.FromLlamaGuard(code)
		out = append(out, detect.Finding{
			Category: c, Score: score, Whole: true, Detector: g.name, View: "original", Rule: code,
			Explanation: fmt.Sprintf("%s judged the %s message unsafe: %s %s%s", l.tmpl.Name, l.role, code, categoryNames[code], how),
		})
	}
	return out, nil
}

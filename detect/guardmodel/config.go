// Package guardmodel escalates scans to large guard models: Llama Guard 3
// and 4 behind any OpenAI-compatible server (vLLM, Ollama, TGI, llama.cpp),
// OpenAI's moderation API, and another Warden's /v1/check. Each adapter is a
// detect.Detector named "guardmodel:<name>" with a timeout, an LRU cache of
// recent verdicts, token-usage metering and a fail mode. A Cascade wraps the
// built-in detectors and a guard and calls the guard only when the built-in
// scores are uncertain (or always, or never), so the expensive model sees
// the small fraction of traffic it is needed for.
//
// # Fail modes
//
// A guard that fails (network error, timeout, HTTP error, unparsable answer)
// in fail-closed mode (the default) returns a *Error from Scan: the pipeline
// records it in Verdict.Errors and returns a *detect.ScanError, and the
// policy blocks. In fail-open mode Scan returns no findings and a nil error,
// so the scan goes on with the other detectors' verdict; the failure is not
// silent: Config.OnFailure receives the *Error (with FailOpen() true) and
// Guard.Failures counts it. (Scan cannot return a typed error in that case:
// the pipeline flattens detector errors into strings and the policy's own
// fail mode would block on them, which would turn fail-open into
// fail-closed.)
//
// # Secrets and text
//
// The API key is sent only in the Authorization header. It never appears in
// errors (which are also scrubbed of it), in Version or in a marshalled
// Config. Errors never quote the scanned text or the upstream's answer.
package guardmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Kind selects the adapter.
type Kind string

const (
	// LlamaGuardKind speaks the OpenAI chat or completions API to a server
	// hosting Llama Guard 3 or 4.
	LlamaGuardKind Kind = "llama_guard"
	// ModerationKind speaks OpenAI's /v1/moderations.
	ModerationKind Kind = "openai_moderation"
	// WardenKind speaks another Warden's /v1/check.
	WardenKind Kind = "warden"
)

// FailMode says what a failed guard call does. The values are those of
// policy.FailMode.
type FailMode string

const (
	FailClosed FailMode = "closed"
	FailOpen   FailMode = "open"
)

// Defaults.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultCacheSize = 4096
	// MaxResponseBytes bounds an upstream response body.
	MaxResponseBytes = 4 << 20
)

// Config configures one guard. It is meant to be embedded in the gateway's
// and the policy's configuration files.
type Config struct {
	// Name identifies the guard; its findings carry the detector name
	// "guardmodel:<Name>". Required; letters, digits, '-', '_', '.'.
	Name string `json:"name" yaml:"name"`
	Kind Kind   `json:"kind" yaml:"kind"`
	// BaseURL is the server's root, such as "http://127.0.0.1:8000" or
	// "https://api.openai.com" (a trailing "/v1" is accepted and dropped).
	BaseURL string `json:"base_url" yaml:"base_url"`
	// Model is the upstream model name ("meta-llama/Llama-Guard-3-8B",
	// "llama-guard3", "omni-moderation-latest"). Unused by WardenKind.
	Model string `json:"model,omitempty" yaml:"model,omitempty"`
	// APIKey is sent as "Authorization: Bearer ..."; prefer APIKeyEnv so the
	// key stays out of files. It marshals as "[redacted]".
	APIKey Secret `json:"api_key,omitempty" yaml:"api_key,omitempty"`
	// APIKeyEnv names the environment variable holding the key; it is used
	// when APIKey is empty.
	APIKeyEnv string `json:"api_key_env,omitempty" yaml:"api_key_env,omitempty"`
	// Timeout bounds one upstream call (DefaultTimeout when zero).
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// MaxChunkBytes, when positive, splits longer texts into overlapping
	// pieces of at most this many bytes, asked about one after another
	// (each with its own Timeout), so a long document does not exceed the
	// guard model's context window; 0 sends texts whole. Llama Guard 3 has
	// an 8k-token window: about 16000 bytes of English leaves room for the
	// prompt. Must be 0 or at least 256.
	MaxChunkBytes int `json:"max_chunk_bytes,omitempty" yaml:"max_chunk_bytes,omitempty"`
	// Retries is how many times a call that failed for want of the upstream
	// (connection error, HTTP 429 or 5xx, not the timeout) is repeated,
	// within the same Timeout (0 to 5; default 0).
	Retries int `json:"retries,omitempty" yaml:"retries,omitempty"`
	// FailMode is "closed" (default) or "open"; see the package comment.
	FailMode FailMode `json:"fail_mode,omitempty" yaml:"fail_mode,omitempty"`
	// CacheSize is the number of recent verdicts kept (DefaultCacheSize when
	// zero; negative disables the cache).
	CacheSize int `json:"cache_size,omitempty" yaml:"cache_size,omitempty"`

	LlamaGuard LlamaGuardConfig `json:"llama_guard,omitzero" yaml:"llama_guard,omitempty"`
	Moderation ModerationConfig `json:"moderation,omitzero" yaml:"moderation,omitempty"`
	Warden     WardenConfig     `json:"warden,omitzero" yaml:"warden,omitempty"`

	// Usage, when set, receives the upstream's token usage after every call
	// that reported one (not for cache hits).
	Usage UsageRecorder `json:"-" yaml:"-"`
	// OnFailure, when set, is called for every failed call, in either fail
	// mode, with the error (never the text).
	OnFailure func(ctx context.Context, err *Error) `json:"-" yaml:"-"`
	// HTTPClient is the client used (a new http.Client when nil). Its own
	// Timeout is left alone; Config.Timeout applies per call.
	HTTPClient *http.Client `json:"-" yaml:"-"`
	// Getenv reads APIKeyEnv (os.Getenv when nil).
	Getenv func(string) string `json:"-" yaml:"-"`
}

// LlamaGuardConfig configures the Llama Guard adapter.
type LlamaGuardConfig struct {
	// Template is "llama-guard-3" (default) or "llama-guard-4".
	Template string `json:"template,omitempty" yaml:"template,omitempty"`
	// Custom replaces the named template entirely.
	Custom *Template `json:"custom_template,omitempty" yaml:"custom_template,omitempty"`
	// Mode is how the prompt reaches the model:
	//   "chat" (default): POST /v1/chat/completions with the conversation as
	//      chat messages; the server applies the model's own chat template,
	//      which builds the Llama Guard prompt (vLLM, TGI, Ollama and
	//      llama.cpp serving the official model do this).
	//   "chat_prompt": POST /v1/chat/completions with the rendered Llama
	//      Guard task prompt as one user message, for servers whose chat
	//      template is a generic one.
	//   "completions": POST /v1/completions with the full raw prompt,
	//      special tokens included, for servers without a chat template.
	Mode string `json:"mode,omitempty" yaml:"mode,omitempty"`
	// Role is whose message is assessed: "user" (default; prompts) or
	// "agent" (model answers). With "agent", the prompt that led to the
	// answer can be supplied with WithConversation.
	Role string `json:"role,omitempty" yaml:"role,omitempty"`
	// Codes restricts the categories listed in the prompt (all of S1–S14
	// when empty), e.g. to drop S14 where no code interpreter exists. Like
	// Template and Custom, it shapes the prompt Warden renders, so it takes
	// effect in the "chat_prompt" and "completions" modes; in "chat" mode
	// the server's chat template decides the prompt.
	Codes []string `json:"codes,omitempty" yaml:"codes,omitempty"`
	// Logprobs asks the server for the top log-probabilities of the answer
	// tokens and scores an unsafe answer's findings with the probability
	// of "unsafe" against "safe" at the verdict token (in [0.5, 1] for a
	// greedy answer) instead of 1. Servers that do not return them (some
	// Ollama versions) leave the score at 1.
	Logprobs bool `json:"logprobs,omitempty" yaml:"logprobs,omitempty"`
	// MaxTokens bounds the answer (default 20).
	MaxTokens int `json:"max_tokens,omitempty" yaml:"max_tokens,omitempty"`
}

// ModerationConfig configures the OpenAI moderation adapter.
type ModerationConfig struct {
	// MinScore is the lowest category score reported as a finding (default
	// 0.01); the API returns tiny scores for every category.
	MinScore float64 `json:"min_score,omitempty" yaml:"min_score,omitempty"`
}

// WardenConfig configures the adapter for another Warden.
type WardenConfig struct {
	// Stage is sent with each check: "input" (default) or "output".
	Stage string `json:"stage,omitempty" yaml:"stage,omitempty"`
}

// Usage is the token usage of one upstream call.
type Usage struct {
	Guard            string `json:"guard"` // "guardmodel:<name>"
	Model            string `json:"model"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
}

// UsageRecorder meters guard-model tokens (the safety board's
// safety-compute commitment). RecordUsage must be safe for concurrent use
// and must not block for long.
type UsageRecorder interface {
	RecordUsage(ctx context.Context, u Usage)
}

// UsageFunc adapts a function to UsageRecorder.
type UsageFunc func(ctx context.Context, u Usage)

// RecordUsage calls f.
func (f UsageFunc) RecordUsage(ctx context.Context, u Usage) { f(ctx, u) }

// Secret is a string that does not print: fmt and JSON show "[redacted]".
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string   { return redacted }
func (s Secret) GoString() string { return redacted }

// MarshalJSON writes "[redacted]" (or "" when empty).
func (s Secret) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte(`""`), nil
	}
	return []byte(`"` + redacted + `"`), nil
}

// MarshalText writes "[redacted]" (or "" when empty); YAML uses it.
func (s Secret) MarshalText() ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return []byte(redacted), nil
}

// UnmarshalText reads the secret.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// Duration is a time.Duration written as "5s" or "250ms" in configuration.
type Duration time.Duration

// MarshalText writes the duration as Go's time.Duration.String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "5s", "250ms", "1m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. \"5s\")", string(b))
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON accepts a string ("5s") or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		*d = Duration(f * float64(time.Second))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("invalid duration (want a string such as \"5s\" or seconds)")
	}
	return d.UnmarshalText([]byte(s))
}

// Validate checks the configuration; errors name the field.
func (c *Config) Validate() error {
	if c.Name == "" {
		return errors.New("guardmodel: name is required")
	}
	for _, r := range c.Name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("guardmodel %s: name may hold only letters, digits, '-', '_' and '.'", c.Name)
		}
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("guardmodel %s: "+format, append([]any{c.Name}, a...)...)
	}
	switch c.Kind {
	case LlamaGuardKind, ModerationKind, WardenKind:
	case "":
		return bad("kind is required (%s, %s or %s)", LlamaGuardKind, ModerationKind, WardenKind)
	default:
		return bad("unknown kind %q (want %s, %s or %s)", c.Kind, LlamaGuardKind, ModerationKind, WardenKind)
	}
	u, err := url.Parse(c.BaseURL)
	if c.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("base_url must be an http or https URL")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return bad("base_url must not carry credentials, a query or a fragment (use api_key_env)")
	}
	if c.Kind != WardenKind && c.Model == "" {
		return bad("model is required")
	}
	if c.Timeout < 0 {
		return bad("timeout must not be negative")
	}
	if c.MaxChunkBytes != 0 && c.MaxChunkBytes < 256 {
		return bad("max_chunk_bytes must be 0 or at least 256")
	}
	if c.Retries < 0 || c.Retries > 5 {
		return bad("retries must be between 0 and 5")
	}
	switch c.FailMode {
	case "", FailClosed, FailOpen:
	default:
		return bad("fail_mode %q: want %q or %q", c.FailMode, FailClosed, FailOpen)
	}
	switch c.Kind {
	case LlamaGuardKind:
		lg := &c.LlamaGuard
		if lg.Custom == nil {
			if _, ok := templates[lg.templateName()]; !ok {
				return bad("llama_guard.template %q: want %q or %q", lg.Template, LlamaGuard3, LlamaGuard4)
			}
		} else if err := lg.Custom.validate(); err != nil {
			return bad("llama_guard.custom_template: %v", err)
		}
		switch lg.Mode {
		case "", ModeChat, ModeChatPrompt, ModeCompletions:
		default:
			return bad("llama_guard.mode %q: want %q, %q or %q", lg.Mode, ModeChat, ModeChatPrompt, ModeCompletions)
		}
		switch lg.Role {
		case "", RoleUser, RoleAgent:
		default:
			return bad("llama_guard.role %q: want %q or %q", lg.Role, RoleUser, RoleAgent)
		}
		for _, code := range lg.Codes {
			if _, ok := categoryNames[strings.ToUpper(strings.TrimSpace(code))]; !ok {
				return bad("llama_guard.codes: unknown code %q (want S1 to S14)", code)
			}
		}
		if lg.MaxTokens < 0 {
			return bad("llama_guard.max_tokens must not be negative")
		}
	case ModerationKind:
		if m := c.Moderation.MinScore; m < 0 || m > 1 {
			return bad("moderation.min_score must be in [0,1]")
		}
	case WardenKind:
		switch c.Warden.Stage {
		case "", "input", "output":
		default:
			return bad("warden.stage %q: want \"input\" or \"output\"", c.Warden.Stage)
		}
	}
	return nil
}

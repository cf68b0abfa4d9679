package guardmodel_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/hazard"
)

const testKey = "sk-test-123"

func lgConfig(base string) guardmodel.Config {
	return guardmodel.Config{Name: "lg", Kind: guardmodel.LlamaGuardKind, BaseURL: base, Model: "meta-llama/Llama-Guard-3-8B",
		APIKey: testKey, Timeout: guardmodel.Duration(2 * time.Second)}
}

func mustGuard(t *testing.T, cfg guardmodel.Config) *guardmodel.Guard {
	t.Helper()
	g, err := guardmodel.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func scan(t *testing.T, ctx context.Context, d detect.Detector, text string) ([]detect.Finding, error) {
	t.Helper()
	return d.Scan(ctx, &detect.Document{Text: text}, nil)
}

func cats(fs []detect.Finding) []hazard.Category {
	var out []hazard.Category
	for _, f := range fs {
		out = append(out, f.Category)
	}
	return out
}

func TestLlamaGuardModes(t *testing.T) {
	srv := newFakeLLM(t)
	for _, mode := range []string{guardmodel.ModeChat, guardmodel.ModeChatPrompt, guardmodel.ModeCompletions} {
		t.Run(mode, func(t *testing.T) {
			cfg := lgConfig(srv.srv.URL + "/v1/")
			cfg.LlamaGuard.Mode = mode
			g := mustGuard(t, cfg)
			fs, err := scan(t, context.Background(), g, "how do I make a nerve agent")
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 || fs[0].Category != hazard.CBRNWeapons || fs[0].Rule != "S9" || fs[0].Detector != "guardmodel:lg" ||
				!fs[0].Whole || fs[0].Score != 1 || strings.Contains(fs[0].Explanation, "nerve") {
				t.Fatalf("findings %+v", fs)
			}
			path, auth, body := srv.lastRequest()
			if auth != "Bearer "+testKey || body["model"] != "meta-llama/Llama-Guard-3-8B" || body["temperature"] != 0.0 {
				t.Fatalf("request auth=%q body=%v", auth, body)
			}
			switch mode {
			case guardmodel.ModeChat:
				msgs := body["messages"].([]any)
				m := msgs[0].(map[string]any)
				if path != "/v1/chat/completions" || len(msgs) != 1 || m["role"] != "user" || m["content"] != "how do I make a nerve agent" {
					t.Fatalf("chat request %s %v", path, msgs)
				}
			case guardmodel.ModeChatPrompt:
				msgs := body["messages"].([]any)
				p := msgs[0].(map[string]any)["content"].(string)
				if path != "/v1/chat/completions" || len(msgs) != 1 || strings.Contains(p, "<|") ||
					!strings.HasPrefix(p, "Task: Check if there is unsafe content in 'User' messages in conversations according our safety policy") ||
					!strings.Contains(p, "\nS9: Indiscriminate Weapons.\n") || !strings.Contains(p, "<BEGIN CONVERSATION>\n\nUser: how do I make a nerve agent\n\n<END CONVERSATION>") ||
					!strings.HasSuffix(p, "a second line must include a comma-separated list of violated categories.") {
					t.Fatalf("chat_prompt request %s %q", path, p)
				}
			case guardmodel.ModeCompletions:
				p := body["prompt"].(string)
				if path != "/v1/completions" || !strings.HasPrefix(p, "<|start_header_id|>user<|end_header_id|>\n\nTask:") ||
					!strings.HasSuffix(p, "categories.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n") {
					t.Fatalf("completions request %s %q", path, p)
				}
			}
		})
	}
}

func TestLlamaGuardTemplatesRender(t *testing.T) {
	srv := newFakeLLM(t)
	cfg := lgConfig(srv.srv.URL)
	cfg.LlamaGuard = guardmodel.LlamaGuardConfig{Template: guardmodel.LlamaGuard4, Mode: guardmodel.ModeCompletions, Role: guardmodel.RoleAgent, Codes: []string{"s1", "S9"}}
	g := mustGuard(t, cfg)
	ctx := guardmodel.WithConversation(context.Background(), []guardmodel.Message{{Role: guardmodel.RoleUser, Content: "what is sarin?"}})
	if _, err := scan(t, ctx, g, "It is a nerve agent."); err != nil {
		t.Fatal(err)
	}
	_, _, body := srv.lastRequest()
	want := "<|header_start|>user<|header_end|>\n\n" +
		"Task: Check if there is unsafe content in 'Agent' messages in conversations according to our safety policy with the below categories.\n\n" +
		"<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS9: Indiscriminate Weapons.\n<END UNSAFE CONTENT CATEGORIES>\n\n" +
		"<BEGIN CONVERSATION>\n\nUser: what is sarin?\n\nAgent: It is a nerve agent.\n\n<END CONVERSATION>\n\n" +
		"Provide your safety assessment for ONLY THE LAST Agent message in the above conversation:\n" +
		" - First line must read 'safe' or 'unsafe'.\n" +
		" - If unsafe, a second line must include a comma-separated list of violated categories.<|eot|><|header_start|>assistant<|header_end|>\n\n"
	if got := body["prompt"].(string); got != want {
		t.Fatalf("prompt:\n%q\nwant:\n%q", got, want)
	}
}

func TestLlamaGuardAgentRoleChatMessages(t *testing.T) {
	srv := newFakeLLM(t)
	cfg := lgConfig(srv.srv.URL)
	cfg.LlamaGuard.Role = guardmodel.RoleAgent
	g := mustGuard(t, cfg)
	if _, err := scan(t, context.Background(), g, "an answer"); err != nil {
		t.Fatal(err)
	}
	_, _, body := srv.lastRequest()
	msgs := body["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["role"] != "user" || msgs[1].(map[string]any)["role"] != "assistant" ||
		msgs[1].(map[string]any)["content"] != "an answer" {
		t.Fatalf("messages %v", msgs)
	}
}

func TestLlamaGuardSafeAndMultipleCodes(t *testing.T) {
	srv := newFakeLLM(t)
	g := mustGuard(t, lgConfig(srv.srv.URL))
	fs, err := scan(t, context.Background(), g, "bake bread")
	if err != nil || len(fs) != 0 {
		t.Fatalf("safe: %v %v", fs, err)
	}
	fs, err = scan(t, context.Background(), g, "an insult")
	if err != nil || !slices.Equal(cats(fs), []hazard.Category{hazard.Hate, hazard.ViolentCrimes}) {
		t.Fatalf("codes: %+v %v", fs, err)
	}
}

func TestLlamaGuardFailures(t *testing.T) {
	srv := newFakeLLM(t)
	tests := []struct {
		text   string
		kind   guardmodel.ErrorKind
		status int
		msg    string
	}{
		{"garbage please", guardmodel.ErrMalformed, 0, "does not start with"},
		{"unknowncode", guardmodel.ErrMalformed, 0, `unknown category code "S99"`},
		{"boom", guardmodel.ErrUnavailable, 500, "POST /v1/chat/completions failed (InternalServerError, 500)"},
		{"nochoices", guardmodel.ErrMalformed, 0, "no choices"},
		{"slow", guardmodel.ErrUnavailable, 0, "no answer within 200ms"},
	}
	cfg := lgConfig(srv.srv.URL)
	cfg.Timeout = guardmodel.Duration(200 * time.Millisecond)
	g := mustGuard(t, cfg)
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			start := time.Now()
			fs, err := scan(t, context.Background(), g, tt.text)
			var ge *guardmodel.Error
			if !errors.As(err, &ge) || ge.Kind != tt.kind || ge.Status != tt.status || !strings.Contains(err.Error(), tt.msg) || ge.FailOpen() {
				t.Fatalf("err = %v (%+v), want kind %s status %d containing %q", err, ge, tt.kind, tt.status, tt.msg)
			}
			if len(fs) != 0 || strings.Contains(err.Error(), tt.text) || strings.Contains(err.Error(), "CUDA") {
				t.Fatalf("findings %v, error %q quotes text or upstream message", fs, err)
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}
	if g.Failures() != uint64(len(tests)) {
		t.Fatalf("Failures = %d", g.Failures())
	}
}

func TestBadKeyIsNotQuoted(t *testing.T) {
	srv := newFakeLLM(t)
	cfg := lgConfig(srv.srv.URL)
	cfg.APIKey = "sk-wrong-secret-999"
	g := mustGuard(t, cfg)
	_, err := scan(t, context.Background(), g, "hi")
	var ge *guardmodel.Error
	if !errors.As(err, &ge) || ge.Kind != guardmodel.ErrRejected || ge.Status != 401 || !strings.Contains(err.Error(), "invalid_api_key") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "sk-wrong") {
		t.Fatalf("error leaks the key: %v", err)
	}
}

func TestAPIKeyFromEnv(t *testing.T) {
	srv := newFakeLLM(t)
	cfg := lgConfig(srv.srv.URL)
	cfg.APIKey = ""
	cfg.APIKeyEnv = "LG_KEY"
	cfg.Getenv = func(k string) string {
		if k == "LG_KEY" {
			return testKey
		}
		return ""
	}
	g := mustGuard(t, cfg)
	if _, err := scan(t, context.Background(), g, "hi"); err != nil {
		t.Fatal(err)
	}
	cfg.Getenv = func(string) string { return "" }
	if _, err := guardmodel.New(cfg); err == nil || !strings.Contains(err.Error(), "LG_KEY") {
		t.Fatalf("missing env var: %v", err)
	}
}

func TestFailOpen(t *testing.T) {
	srv := newFakeLLM(t)
	cfg := lgConfig(srv.srv.URL)
	cfg.FailMode = guardmodel.FailOpen
	var mu sync.Mutex
	var seen []*guardmodel.Error
	cfg.OnFailure = func(ctx context.Context, err *guardmodel.Error) { mu.Lock(); seen = append(seen, err); mu.Unlock() }
	g := mustGuard(t, cfg)
	fs, err := scan(t, context.Background(), g, "boom")
	if err != nil || len(fs) != 0 {
		t.Fatalf("fail-open scan: %v %v", fs, err)
	}
	if len(seen) != 1 || !seen[0].FailOpen() || seen[0].Status != 500 || g.Failures() != 1 {
		t.Fatalf("failure not reported: %+v", seen)
	}
	// Check still returns the typed error for direct callers.
	if _, err := g.Check(context.Background(), "boom"); err == nil {
		t.Fatal("Check hid the error")
	}
	// Fail-closed through a pipeline: the verdict records the error.
	cfg.FailMode = ""
	cfg.OnFailure = nil
	p := detect.NewPipeline(mustGuard(t, cfg))
	v, err := p.Scan(context.Background(), "boom")
	var se *detect.ScanError
	if !errors.As(err, &se) || len(v.Errors) != 1 || v.Errors[0].Detector != "guardmodel:lg" {
		t.Fatalf("fail-closed pipeline: %v %+v", err, v)
	}
}

func TestCache(t *testing.T) {
	srv := newFakeLLM(t)
	cfg := lgConfig(srv.srv.URL)
	cfg.CacheSize = 2
	var usage []guardmodel.Usage
	var mu sync.Mutex
	cfg.Usage = guardmodel.UsageFunc(func(ctx context.Context, u guardmodel.Usage) { mu.Lock(); usage = append(usage, u); mu.Unlock() })
	g := mustGuard(t, cfg)
	ctx := context.Background()
	for range 3 {
		fs, err := scan(t, ctx, g, "a nerve agent")
		if err != nil || len(fs) != 1 {
			t.Fatal(fs, err)
		}
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("requests = %d after three identical scans, want 1", n)
	}
	if len(usage) != 1 || usage[0] != (guardmodel.Usage{Guard: "guardmodel:lg", Model: "meta-llama/Llama-Guard-3-8B", PromptTokens: 210, CompletionTokens: 5}) {
		t.Fatalf("usage %+v", usage)
	}
	// Errors are not cached.
	scan(t, ctx, g, "boom")
	scan(t, ctx, g, "boom")
	if n := srv.requests.Load(); n != 3 {
		t.Fatalf("requests = %d, errors must not be cached", n)
	}
	// The same text in another conversation is another key.
	scan(t, guardmodel.WithConversation(ctx, []guardmodel.Message{{Role: "user", Content: "x"}}), g, "a nerve agent")
	if n := srv.requests.Load(); n != 4 {
		t.Fatalf("requests = %d, conversation must be part of the key", n)
	}
	// LRU eviction: capacity 2 holds "b" and "c"; "a nerve agent" is gone.
	scan(t, ctx, g, "b")
	scan(t, ctx, g, "c")
	scan(t, ctx, g, "c")
	scan(t, ctx, g, "a nerve agent")
	if n := srv.requests.Load(); n != 7 {
		t.Fatalf("requests = %d, want 7 after eviction", n)
	}
	if g.Calls() != 7 {
		t.Fatalf("Calls = %d", g.Calls())
	}
	// A disabled cache asks every time.
	cfg.CacheSize = -1
	g2 := mustGuard(t, cfg)
	scan(t, ctx, g2, "c")
	scan(t, ctx, g2, "c")
	if n := srv.requests.Load(); n != 9 {
		t.Fatalf("requests = %d with cache disabled", n)
	}
}

func TestCancel(t *testing.T) {
	srv := newFakeLLM(t)
	var failed atomic.Bool
	cfg := lgConfig(srv.srv.URL)
	cfg.OnFailure = func(context.Context, *guardmodel.Error) { failed.Store(true) }
	g := mustGuard(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err := scan(t, ctx, g, "slow")
	if !errors.Is(err, context.Canceled) || failed.Load() || g.Failures() != 0 {
		t.Fatalf("err = %v failures=%d", err, g.Failures())
	}
}

func TestConfigValidate(t *testing.T) {
	base := lgConfig("http://127.0.0.1:1")
	tests := []struct {
		mut  func(*guardmodel.Config)
		want string
	}{
		{func(c *guardmodel.Config) { c.Name = "" }, "name is required"},
		{func(c *guardmodel.Config) { c.Name = "a b" }, "name may hold only"},
		{func(c *guardmodel.Config) { c.Kind = "" }, "kind is required"},
		{func(c *guardmodel.Config) { c.Kind = "gpt" }, `unknown kind "gpt"`},
		{func(c *guardmodel.Config) { c.BaseURL = "ftp://x" }, "base_url must be an http"},
		{func(c *guardmodel.Config) { c.BaseURL = "http://u:p@x" }, "must not carry credentials"},
		{func(c *guardmodel.Config) { c.Model = "" }, "model is required"},
		{func(c *guardmodel.Config) { c.FailMode = "maybe" }, `fail_mode "maybe"`},
		{func(c *guardmodel.Config) { c.LlamaGuard.Template = "lg9" }, `llama_guard.template "lg9"`},
		{func(c *guardmodel.Config) { c.LlamaGuard.Mode = "raw" }, `llama_guard.mode "raw"`},
		{func(c *guardmodel.Config) { c.LlamaGuard.Role = "system" }, `llama_guard.role "system"`},
		{func(c *guardmodel.Config) { c.LlamaGuard.Codes = []string{"S15"} }, `unknown code "S15"`},
		{func(c *guardmodel.Config) { c.LlamaGuard.Custom = &guardmodel.Template{Name: "x"} }, "custom_template"},
		{func(c *guardmodel.Config) { c.Kind = guardmodel.ModerationKind; c.Moderation.MinScore = 2 }, "min_score"},
		{func(c *guardmodel.Config) { c.Kind = guardmodel.WardenKind; c.Warden.Stage = "mid" }, `warden.stage "mid"`},
	}
	for _, tt := range tests {
		c := base
		tt.mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate() = %v, want %q", err, tt.want)
		}
	}
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		in     string
		unsafe bool
		codes  []string
		err    string
	}{
		{"safe", false, nil, ""},
		{"  Safe \n\n", false, nil, ""},
		{"safe<|eot_id|>", false, nil, ""},
		{"unsafe\nS1", true, []string{"S1"}, ""},
		{"unsafe\nS1,S9", true, []string{"S1", "S9"}, ""},
		{"\nUNSAFE\r\n s9 , s1, S9 \n", true, []string{"S9", "S1"}, ""},
		{"unsafe S14", true, []string{"S14"}, ""},
		{"unsafe\nS1\nS2<|eot|>", true, []string{"S1", "S2"}, ""},
		{"", false, nil, "empty answer"},
		{"  <|eot_id|>", false, nil, "empty answer"},
		{"safe\nS1", false, nil, `unexpected text after "safe"`},
		{"safe and sound", false, nil, `unexpected text after "safe"`},
		{"unsafe", false, nil, "names no category"},
		{"unsafe\n\n", false, nil, "names no category"},
		{"unsafe\nS15", false, nil, `unknown category code "S15"`},
		{"unsafe\nViolent Crimes", false, nil, `unknown category code "Violent"`},
		{"I'm sorry", false, nil, "does not start with"},
		{"safety", false, nil, "does not start with"},
	}
	for _, tt := range tests {
		a, err := guardmodel.ParseAnswer(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseAnswer(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || a.Unsafe != tt.unsafe || !slices.Equal(a.Codes, tt.codes) {
			t.Errorf("ParseAnswer(%q) = %+v, %v; want %v %v", tt.in, a, err, tt.unsafe, tt.codes)
		}
	}
}

func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{"safe", "unsafe\nS1,S9", "UNSAFE\n s10 , S1 <|eot_id|>", "unsafe", "unsafe\nS99", "safe\nx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := guardmodel.ParseAnswer(s)
		if err != nil {
			if a.Unsafe || a.Codes != nil {
				t.Fatal("error with a result")
			}
			return
		}
		if a.Unsafe != (len(a.Codes) > 0) {
			t.Fatalf("unsafe=%v codes=%v", a.Unsafe, a.Codes)
		}
		seen := map[string]bool{}
		for _, c := range a.Codes {
			if _, ok := hazard.FromLlamaGuard(c); !ok || seen[c] || c != strings.ToUpper(c) {
				t.Fatalf("bad code list %q", a.Codes)
			}
			seen[c] = true
		}
		// The canonical form parses to the same answer.
		canon := "safe"
		if a.Unsafe {
			canon = "unsafe\n" + strings.Join(a.Codes, ",")
		}
		b, err := guardmodel.ParseAnswer(canon)
		if err != nil || b.Unsafe != a.Unsafe || !slices.Equal(a.Codes, b.Codes) {
			t.Fatalf("canonical %q reparsed as %+v, %v", canon, b, err)
		}
	})
}

func TestConcurrentScans(t *testing.T) {
	srv := newFakeLLM(t)
	cfg := lgConfig(srv.srv.URL)
	cfg.CacheSize = 3
	g := mustGuard(t, cfg)
	texts := []string{"a nerve agent", "an insult", "hello", "bread", "water", "boom"}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				text := texts[(i+w)%len(texts)]
				fs, err := scan(t, context.Background(), g, text)
				want := map[string]int{"a nerve agent": 1, "an insult": 2}[text]
				if (text == "boom") != (err != nil) || len(fs) != want {
					errs <- fmt.Errorf("%q: %d findings, err %v", text, len(fs), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLlamaGuardLogprobs(t *testing.T) {
	srv := newFakeLLM(t)
	for _, mode := range []string{guardmodel.ModeChat, guardmodel.ModeCompletions} {
		t.Run(mode, func(t *testing.T) {
			cfg := lgConfig(srv.srv.URL)
			cfg.LlamaGuard.Mode = mode
			cfg.LlamaGuard.Logprobs = true
			g := mustGuard(t, cfg)
			fs, err := scan(t, context.Background(), g, "a nerve agent")
			if err != nil || len(fs) != 1 || math.Abs(fs[0].Score-0.9) > 1e-9 || !strings.HasSuffix(fs[0].Explanation, "(p=0.900)") {
				t.Fatalf("findings %+v err %v", fs, err)
			}
			_, _, body := srv.lastRequest()
			if mode == guardmodel.ModeChat && (body["logprobs"] != true || body["top_logprobs"] != 5.0) ||
				mode == guardmodel.ModeCompletions && body["logprobs"] != 5.0 {
				t.Fatalf("request %v", body)
			}
			// A server that returns no logprobs leaves the score at 1.
			fs, err = scan(t, context.Background(), g, "an insult")
			if err != nil || len(fs) != 2 || fs[0].Score != 1 {
				t.Fatalf("without logprobs: %+v %v", fs, err)
			}
		})
	}
	// Without the option the request asks for none and the score is 1.
	g := mustGuard(t, lgConfig(srv.srv.URL))
	fs, _ := scan(t, context.Background(), g, "a nerve agent")
	if _, _, body := srv.lastRequest(); body["logprobs"] != nil || len(fs) != 1 || fs[0].Score != 1 {
		t.Fatalf("default: %v %+v", body, fs)
	}
}

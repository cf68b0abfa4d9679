package guardmodel_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeLLM is an OpenAI-compatible server hosting a pretend Llama Guard. It
// answers from keywords in the assessed text:
//
//	"nerve agent" → unsafe S9; "insult" → unsafe S10,S1 (spaced, upper/lower);
//	"garbage" → an answer that is not Llama Guard's; "unknowncode" → unsafe S99;
//	"boom" → HTTP 500; "slow" → no answer until the client gives up;
//	"nochoices" → a response without choices; anything else → safe.
type fakeLLM struct {
	t        *testing.T
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	last     map[string]any // last JSON body
	lastPath string
	lastAuth string
}

func newFakeLLM(t *testing.T) *fakeLLM {
	f := &fakeLLM{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLLM) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad method or content type", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	f.last, f.lastPath, f.lastAuth = req, r.URL.Path, auth
	f.mu.Unlock()
	if auth != "Bearer sk-test-123" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, strings.TrimPrefix(auth, "Bearer "))
		return
	}
	var text string
	switch r.URL.Path {
	case "/v1/chat/completions":
		msgs, _ := req["messages"].([]any)
		if len(msgs) == 0 {
			http.Error(w, "no messages", http.StatusBadRequest)
			return
		}
		text, _ = msgs[len(msgs)-1].(map[string]any)["content"].(string)
	case "/v1/completions":
		text, _ = req["prompt"].(string)
	default:
		http.NotFound(w, r)
		return
	}
	answer := "safe"
	switch {
	case strings.Contains(text, "boom"):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"object":"error","message":"CUDA out of memory while scanning boom","type":"InternalServerError","param":null,"code":500}`)
		return
	case strings.Contains(text, "slow"):
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	case strings.Contains(text, "nochoices"):
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-x","object":"chat.completion","created":1732870000,"model":"m","choices":[]}`)
		return
	case strings.Contains(text, "nerve agent"):
		answer = "\n\nunsafe\nS9"
	case strings.Contains(text, "insult"):
		answer = "UNSAFE\n s10 , S1 <|eot_id|>"
	case strings.Contains(text, "garbage"):
		answer = "I cannot help with that."
	case strings.Contains(text, "unknowncode"):
		answer = "unsafe\nS99"
	}
	w.Header().Set("Content-Type", "application/json")
	model, _ := req["model"].(string)
	usage := `"usage":{"prompt_tokens":210,"completion_tokens":5,"total_tokens":215}`
	a, _ := json.Marshal(answer)
	// With logprobs requested, the "nerve agent" answer carries them:
	// p(unsafe) = 0.9 against p(safe) = 0.1 at the verdict token, after a
	// blank first token as Llama Guard 3 emits.
	chatLP, complLP := "null", "null"
	if req["logprobs"] != nil && strings.Contains(text, "nerve agent") {
		chatLP = `{"content":[{"token":"\n\n","logprob":-0.0001,"bytes":[10,10],"top_logprobs":[{"token":"\n\n","logprob":-0.0001,"bytes":[10,10]}]},` +
			`{"token":"unsafe","logprob":-0.10536051565782628,"bytes":[117,110,115,97,102,101],"top_logprobs":[{"token":"unsafe","logprob":-0.10536051565782628,"bytes":[117,110,115,97,102,101]},{"token":"safe","logprob":-2.3025850929940455,"bytes":[115,97,102,101]}]},` +
			`{"token":"\n","logprob":-0.001,"bytes":[10],"top_logprobs":[]},{"token":"S9","logprob":-0.01,"bytes":[83,57],"top_logprobs":[]}]}`
		complLP = `{"text_offset":[0,2,8,9],"token_logprobs":[-0.0001,-0.10536051565782628,-0.001,-0.01],"tokens":["\n\n","unsafe","\n","S9"],` +
			`"top_logprobs":[{"\n\n":-0.0001},{"unsafe":-0.10536051565782628,"safe":-2.3025850929940455},{"\n":-0.001},{"S9":-0.01}]}`
	}
	if r.URL.Path == "/v1/chat/completions" {
		fmt.Fprintf(w, `{"id":"chatcmpl-7a1c","object":"chat.completion","created":1732870000,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%s,"tool_calls":[]},"logprobs":%s,"finish_reason":"stop","stop_reason":null}],%s,"prompt_logprobs":null}`, model, a, chatLP, usage)
	} else {
		fmt.Fprintf(w, `{"id":"cmpl-7a1c","object":"text_completion","created":1732870000,"model":%q,"choices":[{"index":0,"text":%s,"logprobs":%s,"finish_reason":"stop","stop_reason":null}],%s}`, model, a, complLP, usage)
	}
}

func (f *fakeLLM) lastRequest() (path, auth string, body map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastPath, f.lastAuth, f.last
}

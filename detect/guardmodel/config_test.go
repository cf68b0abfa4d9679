package guardmodel_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/warden-safety/warden/detect/guardmodel"
)

func TestConfigJSON(t *testing.T) {
	in := `{"name":"lg","kind":"llama_guard","base_url":"http://127.0.0.1:8000","model":"m","api_key":"sk-live-abc",
		"timeout":"1500ms","fail_mode":"open","llama_guard":{"template":"llama-guard-4","mode":"completions","role":"agent"}}`
	var c guardmodel.Config
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.APIKey != "sk-live-abc" || time.Duration(c.Timeout) != 1500*time.Millisecond || c.FailMode != guardmodel.FailOpen || c.LlamaGuard.Role != "agent" {
		t.Fatalf("decoded %+v", c)
	}
	out, _ := json.Marshal(c)
	if strings.Contains(string(out), "sk-live") || !strings.Contains(string(out), `"api_key":"[redacted]"`) || !strings.Contains(string(out), `"timeout":"1.5s"`) {
		t.Fatalf("marshalled %s", out)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", c.APIKey, c, c, c.APIKey); strings.Contains(s, "sk-live") {
		t.Fatalf("formatting leaks the key: %s", s)
	}
	var d guardmodel.Duration
	if err := json.Unmarshal([]byte(`2.5`), &d); err != nil || time.Duration(d) != 2500*time.Millisecond {
		t.Fatalf("seconds: %v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`"soon"`), &d); err == nil || !strings.Contains(err.Error(), `invalid duration "soon"`) {
		t.Fatalf("bad duration: %v", err)
	}
}

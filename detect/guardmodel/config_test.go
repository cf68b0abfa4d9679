package guardmodel_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/hazard"
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

func TestConfigYAML(t *testing.T) {
	in := `
guard:
  name: lg4
  kind: llama_guard
  base_url: http://127.0.0.1:8000/v1
  model: meta-llama/Llama-Guard-4-12B
  api_key_env: LG_KEY
  timeout: 3s
  fail_mode: closed
  cache_size: 100
  llama_guard:
    template: llama-guard-4
    mode: completions
    codes: [S1, S9]
    logprobs: true
escalation:
  mode: band
  lo: 0.25
  hi: 0.75
  always: [cbrn_weapons]
  resolve: guard
`
	var c guardmodel.CascadeConfig
	if err := yaml.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.Guard.Timeout) != 3*time.Second || c.Guard.LlamaGuard.Template != guardmodel.LlamaGuard4 || !c.Guard.LlamaGuard.Logprobs ||
		c.Escalation.Lo != 0.25 || c.Escalation.Always[0] != hazard.CBRNWeapons || c.Escalation.Resolve != "guard" {
		t.Fatalf("decoded %+v", c)
	}
	if err := c.Guard.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.Escalation.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Guard.APIKey = "sk-live-zzz"
	out, err := yaml.Marshal(c)
	if err != nil || strings.Contains(string(out), "sk-live") || !strings.Contains(string(out), "timeout: 3s") {
		t.Fatalf("marshalled %s %v", out, err)
	}
}

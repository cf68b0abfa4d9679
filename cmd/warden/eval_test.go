package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	classifierdata "github.com/warden-safety/warden/detect/classifier/data"
)

// runEvalCmd runs `warden eval args...` in-process.
func runEvalCmd(t *testing.T, stdin string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code = run(e, append([]string{"eval"}, args...))
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The lexicon and PII detectors are what --no-classifier runs; the data
// uses texts whose verdicts do not depend on the classifier.
const evalData = `{"text": "What is the capital of France?", "label": "safe"}
{"text": "Please write a haiku about autumn leaves.", "label": "safe"}
{"text": "zzqx plover", "label": "unsafe", "categories": ["S9"]}
{"text": "My email is jane.doe@example.com, reply there.", "label": "safe"}
`

func TestEvalJSON(t *testing.T) {
	path := writeFile(t, "data.jsonl", evalData)
	code, out, errs := runEvalCmd(t, "", nil, "--data", path, "--json", "--no-classifier", "--errors", "2", "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var o struct {
		Data   string `json:"data"`
		Report struct {
			Examples, Positives, Negatives, Failed int
			Threshold                              float64
			Overall                                struct{ TP, FP, TN, FN int }
			Categories                             []struct{ Category string }
			Sweep                                  []struct{ Threshold float64 }
			FPRs                                   []float64
			Slowest                                []struct {
				Line   int
				SHA256 string
			}
			FalseNegatives []struct {
				Line int
				Text string
			} `json:"false_negatives"`
		}
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r := o.Report
	if r.Examples != 4 || r.Positives != 1 || r.Negatives != 3 || r.Threshold != 0.5 || len(r.Sweep) != 9 || len(r.FPRs) != 3 || r.FPRs[1] != 0.03 {
		t.Fatalf("report %+v", r)
	}
	// Nothing in the data is known to the built-in detectors except the
	// email address, which is PII and does not count as unsafe.
	if r.Overall.FP != 0 || r.Overall.TN != 3 || r.Overall.FN != 1 {
		t.Fatalf("overall %+v", r.Overall)
	}
	if len(r.Categories) != 1 || r.Categories[0].Category != "cbrn_weapons" {
		t.Fatalf("categories %+v", r.Categories)
	}
	if len(r.FalseNegatives) != 1 || r.FalseNegatives[0].Line != 3 || r.FalseNegatives[0].Text != "zzqx plover" {
		t.Fatalf("false negatives %+v", r.FalseNegatives)
	}
	if len(r.Slowest) != 4 || len(r.Slowest[0].SHA256) != 12 || strings.Contains(out, `"text": "What is`) {
		t.Fatalf("slowest %+v", r.Slowest)
	}
}

func TestEvalText(t *testing.T) {
	code, out, errs := runEvalCmd(t, evalData, nil, "--data", "-", "--no-classifier", "--threshold", "0.3", "--fpr", "2.5%, 0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"-: 4 examples (1 unsafe, 3 safe)", "threshold 0.30", "overall", "cbrn_weapons", "threshold sweep", "latency per text", "slowest (line, sha256",
		"recall at a fixed false-positive rate", "FPR ≤ 2.5%", "FPR ≤ 10%"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "capital of France") {
		t.Error("text printed without --errors")
	}
}

func TestEvalModelFlagErrors(t *testing.T) {
	bad := writeFile(t, "bad.wcm", "not a model")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", "-", "--model", filepath.Join(t.TempDir(), "absent.wcm")}, "absent.wcm: no such file"},
		{[]string{"--data", "-", "--model", bad}, "classifier model " + bad},
		{[]string{"--data", "-", "--model", bad, "--no-classifier"}, "--no-classifier excludes"},
		{[]string{"--data", "-", "--classifier-only", "--no-classifier"}, "--no-classifier excludes"},
		{[]string{"--data", "-", "--fpr", "3%,2"}, `--fpr: "2" is not a rate between 0 and 1`},
		{[]string{"--data", "-", "--fpr", "x%"}, `--fpr: "x%" is not a rate`},
	} {
		code, _, errs := runEvalCmd(t, evalData, nil, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("eval %v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestEvalBadLines(t *testing.T) {
	data := evalData + "{\"text\": \"x\", \"label\": \"dunno\"}\nnot json\n"
	path := writeFile(t, "bad.jsonl", data)
	code, _, errs := runEvalCmd(t, "", nil, "--data", path, "--no-classifier")
	if code != 2 || !strings.Contains(errs, "line 5: label \"dunno\" is neither") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, out, errs := runEvalCmd(t, "", nil, "--data", path, "--no-classifier", "--skip-bad")
	if code != 0 || !strings.Contains(out, "2 bad lines skipped") || !strings.Contains(out, "bad line 6: invalid JSON") {
		t.Fatalf("skip-bad: exit %d\n%s\n%s", code, out, errs)
	}
	for _, args := range [][]string{{}, {"--data", path, "--threshold", "2"}, {"--data", "/nonexistent/x.jsonl"}, {"--data", writeFile(t, "e.jsonl", "\n\n")}} {
		if code, _, _ := runEvalCmd(t, "", nil, append(args, "--no-classifier")...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestEvalGuardCascade evaluates a cascade to a Llama Guard served by a
// local OpenAI-compatible server, which flags the one unsafe line.
func TestEvalGuardCascade(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer k-1" {
			http.Error(w, "no", 401)
			return
		}
		body, _ := io.ReadAll(r.Body)
		answer := "safe"
		if bytes.Contains(body, []byte("plover")) {
			answer = `unsafe\nS9`
		}
		if bytes.Contains(body, []byte("haiku")) {
			http.Error(w, `{"object":"error","type":"InternalServerError","code":500}`, 500)
			return
		}
		fmt.Fprintf(w, `{"id":"c","object":"chat.completion","created":1,"model":"lg","choices":[{"index":0,"message":{"role":"assistant","content":"%s"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":3,"total_tokens":103}}`, answer)
	}))
	defer srv.Close()
	guard := writeFile(t, "guard.json", fmt.Sprintf(`{"guard": {"name": "lg3", "kind": "llama_guard", "base_url": %q, "model": "lg", "api_key_env": "LG_KEY"},
		"escalation": {"mode": "always"}}`, srv.URL))
	data := writeFile(t, "d.jsonl", evalData)
	code, out, errs := runEvalCmd(t, "", map[string]string{"LG_KEY": "k-1"}, "--data", data, "--no-classifier", "--guard", guard, "--json")
	// The haiku line fails (HTTP 500, fail closed): exit 1, left out.
	if code != 1 || !strings.Contains(errs, "1 examples failed to scan") || strings.Contains(errs, "k-1") {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
	var o struct {
		Report struct {
			Failed  int
			Overall struct{ TP, FP, TN, FN int }
		}
		Guard struct {
			Name                         string
			Escalations, Calls, Failures int
			PromptTokens                 int `json:"prompt_tokens"`
			CompletionTokens             int `json:"completion_tokens"`
		}
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if o.Report.Failed != 1 || o.Report.Overall.TP != 1 || o.Report.Overall.FN != 0 || o.Report.Overall.TN != 2 {
		t.Fatalf("report %+v", o.Report)
	}
	if g := o.Guard; g.Name != "guardmodel:lg3" || g.Escalations != 4 || g.Calls != 4 || g.Failures != 1 || g.PromptTokens != 300 || g.CompletionTokens != 9 {
		t.Fatalf("guard summary %+v", g)
	}
	// The same configuration in YAML.
	guardYAML := writeFile(t, "guard.yaml", fmt.Sprintf("guard:\n  name: lg3\n  kind: llama_guard\n  base_url: %s\n  model: lg\n  api_key_env: LG_KEY\nescalation:\n  mode: always\n", srv.URL))
	if code, out, errs := runEvalCmd(t, "", map[string]string{"LG_KEY": "k-1"}, "--data", data, "--no-classifier", "--guard", guardYAML); code != 1 ||
		!strings.Contains(out, "guard guardmodel:lg3: escalated 4 of 4 texts") {
		t.Fatalf("yaml guard file: exit %d\n%s\n%s", code, out, errs)
	}
	bad := writeFile(t, "bad.json", `{"guard": {"name": "x", "kind": "llama_guard", "base_url": "http://127.0.0.1:1", "model": "m"}, "escalation": {"mode": "often"}}`)
	if code, _, errs := runEvalCmd(t, "", nil, "--data", data, "--no-classifier", "--guard", bad); code != 2 || !strings.Contains(errs, `escalation.mode "often"`) {
		t.Fatalf("bad guard file: %d %s", code, errs)
	}
}

// TestEvalSplit evaluates the dev and test splits of a datasets directory
// laid out like ../shared/datasets, read as warden train reads it.
func TestEvalSplit(t *testing.T) {
	dir := writeFixture(t)
	counts := map[string]int{}
	for _, split := range []string{"dev", "test"} {
		code, out, errs := runEvalCmd(t, "", nil, "--split", split, "--datasets", dir, "--json", "--no-classifier", "--workers", "2")
		if code != 0 {
			t.Fatalf("--split %s: exit %d, stderr %s", split, code, errs)
		}
		var o struct {
			Data   string
			Report struct{ Examples, Positives, Negatives int }
		}
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatal(err)
		}
		if o.Data != split+" split of "+dir || o.Report.Examples == 0 || o.Report.Positives == 0 || o.Report.Negatives == 0 {
			t.Fatalf("--split %s: %+v", split, o)
		}
		counts[split] = o.Report.Examples
	}
	// The same rows warden train holds out: the fixture's and the
	// project's own examples.
	set, err := classifierdata.Load(context.Background(), classifierdata.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d, te := len(set.Split(classifierdata.Dev)), len(set.Split(classifierdata.Test)); counts["dev"] != d || counts["test"] != te {
		t.Fatalf("split sizes %v, want dev %d and test %d", counts, d, te)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--split", "train", "--datasets", dir}, "want dev or test"},
		{[]string{"--split", "dev", "--datasets", filepath.Join(dir, "missing")}, "not a directory"},
		{[]string{"--split", "dev", "--data", "x.jsonl"}, "either --data or --split"},
		{nil, "either --data or --split"},
	} {
		code, _, errs := runEvalCmd(t, "", nil, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("eval %v: exit %d, stderr %q, want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

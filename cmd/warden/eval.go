package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/term"

	"github.com/warden-safety/warden/detect"
	classifierdata "github.com/warden-safety/warden/detect/classifier/data"
	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/eval"
)

func init() {
	register(&command{
		name:  "eval",
		usage: "measure detection on a labelled JSONL file (precision, recall, F1, FPR, AUPRC)",
		help: `Usage: warden eval --data FILE.jsonl [flags]
       warden eval --split dev|test [--datasets DIR] [flags]

Scans every line of a labelled JSONL file with Warden's built-in detectors
(in parallel) and reports how well they separate unsafe from safe text.
Each line is an object:

  {"text": "...", "label": "safe"|"unsafe", "categories": ["hate", "S9", "self-harm/intent"]}

categories is optional and only allowed on unsafe lines; names may be
Warden's categories, Llama Guard S-codes, OpenAI moderation categories or the
labels of OpenAI's moderation evaluation set (S, H, V, HR, SH, H2, V2; S3 is
read as Llama Guard's S3).
Other fields are ignored. A bad line stops the run with an error naming the
line, unless --skip-bad is given, which counts and reports bad lines.

--split dev (or test) evaluates the classifier's own dev or test split
instead of a file: the datasets under --datasets read as warden train reads
them (same sources, caps, de-duplication and split), so the default
pipeline, or any of the flags below, can be measured on the rows the
shipped model was calibrated or tested on.

A text's unsafe score is the highest score over the content categories and
prompt_injection (pii and secrets are data-leak categories and do not count).
The report gives precision, recall, F1, false-positive rate and AUPRC
(average precision) overall and per labelled category, the best-F1
threshold among the scores seen (written F1@threshold; check it on
held-out data before putting it in a policy), the recall at fixed
false-positive rates (--fpr, default 1%,3%,5%: the lowest threshold that
flags no more of the safe text, so scorers calibrated differently compare
fairly), a threshold sweep (per category too in --json),
scan latency and the slowest examples. Slow examples are named by line
number and a short SHA-256 of the text, never by the text: eval sets are
mostly harmful prompts and a timing table has no need to print them.
--errors N prints the N worst false positives and false negatives with
their text truncated to 120 characters.

--guard FILE evaluates a cascade to a guard model: FILE is JSON (or YAML
when it ends in .yaml) {"guard": {...guardmodel.Config...}, "escalation":
{...}}, for example

  {"guard": {"name": "lg3", "kind": "llama_guard", "base_url": "http://127.0.0.1:8000",
             "model": "meta-llama/Llama-Guard-3-8B", "api_key_env": "LG_KEY"},
   "escalation": {"mode": "band", "lo": 0.2, "hi": 0.8}}

and the report adds how often the guard was called and its token usage.

Exit status: 0 done, 1 done but some examples failed to scan (they are left
out of the metrics), 2 error.`,
		run: runEval,
	})
}

// splitExamples reads the dev or test split of the datasets in dir as
// warden train does, as labelled examples.
func splitExamples(dir, name string) ([]eval.Example, error) {
	var sp classifierdata.Split
	switch name {
	case "dev":
		sp = classifierdata.Dev
	case "test":
		sp = classifierdata.Test
	default:
		return nil, fmt.Errorf("--split %q: want dev or test (the train split is what the model learned)", name)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--datasets %s is not a directory", dir)
	}
	set, err := classifierdata.Load(context.Background(), classifierdata.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	var out []eval.Example
	for _, e := range set.Split(sp) {
		out = append(out, eval.Example{Text: e.Text, Unsafe: e.Unsafe, Categories: e.Labels})
	}
	return out, nil
}

// evalOutput is the --json document.
type evalOutput struct {
	Data string `json:"data"`
	// Detectors names each detector that scored and its version (the
	// classifier's is the model file's digest).
	Detectors []detect.DetectorInfo `json:"detectors"`
	BadLines  []badLine             `json:"bad_lines,omitempty"`
	Report    *eval.Report          `json:"report"`
	Guard     *guardSummary         `json:"guard,omitempty"`
}

type badLine struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

type guardSummary struct {
	Name             string `json:"name"`
	Escalations      uint64 `json:"escalations"`
	Calls            uint64 `json:"calls"`
	Failures         uint64 `json:"failures"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
}

func runEval(env *cliEnv, args []string) int {
	c := commands["eval"]
	fs := newFlagSet(env, c)
	data := fs.String("data", "", "labelled JSONL `file` to evaluate (- for stdin)")
	split := fs.String("split", "", "evaluate the classifier's `dev` or `test` split of the datasets instead of a file")
	datasets := fs.String("datasets", classifierdata.DefaultDir, "datasets `directory` read by --split")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	threshold := fs.Float64("threshold", detect.DefaultThreshold, "operating point: a text is predicted unsafe when its score is at or above this")
	nErrors := fs.Int("errors", 0, "print the `N` worst false positives and false negatives (with truncated text)")
	slowest := fs.Int("slowest", 5, "report the `N` slowest examples")
	skipBad := fs.Bool("skip-bad", false, "skip and count bad lines instead of stopping at the first")
	workers := fs.Int("workers", 0, "parallel workers (default: number of CPUs)")
	noModel := fs.Bool("no-classifier", false, "skip the trained classifier (lexicon and PII only)")
	onlyModel := fs.Bool("classifier-only", false, "score with the trained classifier alone (no lexicon, no PII)")
	modelFile := fs.String("model", "", "score with the classifier model in this `file` (written by warden train) instead of the embedded one")
	fprList := fs.String("fpr", "1%,3%,5%", "report the best recall at each of these false-positive rates (comma-separated, `rates` as 0.03 or 3%)")
	guardPath := fs.String("guard", "", "evaluate a cascade to the guard model configured in this JSON or YAML `file`")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.stderr, "warden eval: "+format+"\n", a...)
		return 2
	}
	if (*data == "") == (*split == "") {
		return fail("give either --data or --split")
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	if *threshold < 0 || *threshold > 1 {
		return fail("--threshold %v is outside [0,1]", *threshold)
	}
	if *nErrors < 0 || *slowest < 0 {
		return fail("--errors and --slowest must not be negative")
	}
	fprs, err := parseRates(*fprList)
	if err != nil {
		return fail("--fpr: %v", err)
	}

	var (
		examples []eval.Example
		bad      []eval.LineError
		source   = *data // what the report names as its data
	)
	if *split != "" {
		var err error
		if examples, err = splitExamples(*datasets, *split); err != nil {
			return fail("%v", err)
		}
		source = *split + " split of " + *datasets
	} else {
		var in io.Reader = env.stdin
		if *data != "-" {
			f, err := os.Open(*data)
			if err != nil {
				return fail("%v", err)
			}
			defer f.Close()
			in = f
		}
		var err error
		if examples, bad, err = eval.ReadJSONL(in, *skipBad); err != nil {
			return fail("%s: %v", source, err)
		}
	}
	if len(examples) == 0 {
		return fail("%s: no examples", source)
	}

	if *noModel && (*modelFile != "" || *onlyModel) {
		return fail("--no-classifier excludes --model and --classifier-only")
	}
	pl, err := buildPipeline(pipelineOptions{NoClassifier: *noModel, OnlyClassifier: *onlyModel, ModelFile: *modelFile})
	if err != nil {
		return fail("%v", err)
	}
	var (
		cascade          *guardmodel.Cascade
		guard            *guardmodel.Guard
		prompt, complete atomic.Int64
	)
	if *guardPath != "" {
		gf, err := readGuardFile(*guardPath)
		if err != nil {
			return fail("%v", err)
		}
		gf.Guard.Getenv = env.getenv
		gf.Guard.Usage = guardmodel.UsageFunc(func(_ context.Context, u guardmodel.Usage) {
			prompt.Add(int64(u.PromptTokens))
			complete.Add(int64(u.CompletionTokens))
		})
		if cascade, guard, err = gf.Build(pl.Detectors...); err != nil {
			return fail("%s: %v", *guardPath, err)
		}
		pl.Detectors = []detect.Detector{cascade}
	}
	// Scores are compared with --threshold by the runner; the pipeline's
	// own thresholds only decide Verdict.Flagged, which eval does not use.

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	runner := eval.Runner{Scorer: eval.PipelineScorer(pl), Workers: *workers, Threshold: *threshold,
		FPRs: fprs, Slowest: *slowest, Worst: *nErrors}
	if f, ok := env.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var mu sync.Mutex
		var last time.Time
		runner.Progress = func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			if now := time.Now(); now.Sub(last) >= 200*time.Millisecond || done == total {
				last = now
				fmt.Fprintf(env.stderr, "\rscanned %d/%d", done, total)
			}
		}
	}
	rep, err := runner.Run(ctx, examples)
	if runner.Progress != nil {
		fmt.Fprintln(env.stderr)
	}
	if err != nil {
		return fail("%v", err)
	}

	out := evalOutput{Data: source, Detectors: pl.Info(), Report: rep}
	for _, b := range bad {
		out.BadLines = append(out.BadLines, badLine{Line: b.Line, Error: b.Err.Error()})
	}
	if guard != nil {
		out.Guard = &guardSummary{Name: guard.Name(), Escalations: cascade.Escalations(), Calls: guard.Calls(),
			Failures: guard.Failures(), PromptTokens: prompt.Load(), CompletionTokens: complete.Load()}
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&out); err != nil {
			return fail("%v", err)
		}
	} else {
		printEval(env.stdout, &out)
	}
	if rep.Failed > 0 {
		fmt.Fprintf(env.stderr, "warden eval: %d examples failed to scan and are not counted; first: %s\n", rep.Failed, rep.FirstFailure)
		return 1
	}
	return 0
}

// readGuardFile reads a guardmodel.CascadeConfig from JSON, or from YAML
// when the name ends in .yaml or .yml; unknown fields are errors.
func readGuardFile(path string) (*guardmodel.CascadeConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var gf guardmodel.CascadeConfig
	if strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		err = dec.Decode(&gf)
	} else {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		err = dec.Decode(&gf)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &gf, nil
}

func printEval(w io.Writer, o *evalOutput) {
	r := o.Report
	fmt.Fprintf(w, "%s: %d examples (%d unsafe, %d safe)", o.Data, r.Examples, r.Positives, r.Negatives)
	if len(o.BadLines) > 0 {
		fmt.Fprintf(w, ", %d bad lines skipped", len(o.BadLines))
	}
	if r.Failed > 0 {
		fmt.Fprintf(w, ", %d failed to scan", r.Failed)
	}
	fmt.Fprintf(w, "\nthreshold %.2f\n", r.Threshold)
	if len(o.Detectors) > 0 {
		var ds []string
		for _, d := range o.Detectors {
			ds = append(ds, d.Name+" "+d.Version)
		}
		fmt.Fprintf(w, "detectors: %s\n", strings.Join(ds, ", "))
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tPOS\tNEG\tPRECISION\tRECALL\tF1\tFPR\tAUPRC\tTP\tFP\tTN\tFN\tBEST F1\t")
	row := func(name string, m eval.Metrics) {
		best := "-"
		if m.BestF1 != nil {
			best = fmt.Sprintf("%.3f@%.3g", m.BestF1.F1, m.BestF1.Threshold)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%d\t%d\t%d\t%d\t%s\t\n", name, m.Positives, m.Negatives,
			m.Precision, m.Recall, m.F1, m.FPR, auprc(m.AUPRC), m.TP, m.FP, m.TN, m.FN, best)
	}
	row("overall", r.Overall)
	for _, c := range r.Categories {
		row(string(c.Category), c.Metrics)
	}
	tw.Flush()

	if len(r.Overall.AtFPR) > 0 {
		fmt.Fprintln(w, "\nrecall at a fixed false-positive rate (the lowest threshold among the scores seen that flags no more of the safe text):")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "\t")
		for _, f := range r.FPRs {
			fmt.Fprintf(tw, "FPR ≤ %.3g%%\t", 100*f)
		}
		fmt.Fprintln(tw)
		atRow := func(name string, m eval.Metrics) {
			if len(m.AtFPR) == 0 {
				return
			}
			fmt.Fprintf(tw, "%s\t", name)
			for _, p := range m.AtFPR {
				fmt.Fprintf(tw, "%.3f@%.3g\t", p.Recall, p.Threshold)
			}
			fmt.Fprintln(tw)
		}
		atRow("overall", r.Overall)
		for _, c := range r.Categories {
			atRow(string(c.Category), c.Metrics)
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nthreshold sweep (overall):")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "THRESHOLD\tPRECISION\tRECALL\tF1\tFPR\tTP\tFP\tTN\tFN\t")
	for _, p := range r.Sweep {
		fmt.Fprintf(tw, "%.2f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\t\n", p.Threshold, p.Precision, p.Recall, p.F1, p.FPR, p.TP, p.FP, p.TN, p.FN)
	}
	tw.Flush()

	l := r.Latency
	fmt.Fprintf(w, "\nlatency per text: mean %s  p50 %s  p90 %s  p99 %s  max %s; %.0f texts/s over %s\n",
		ms(l.Mean), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), l.Throughput, l.Wall.Round(time.Millisecond))
	if len(r.Slowest) > 0 {
		fmt.Fprintln(w, "slowest (line, sha256 of text, bytes, time):")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, s := range r.Slowest {
			fmt.Fprintf(tw, "  line %d\t%s\t%d B\t%s\n", s.Line, s.SHA256, s.Bytes, ms(s.Duration))
		}
		tw.Flush()
	}
	if g := o.Guard; g != nil {
		fmt.Fprintf(w, "\nguard %s: escalated %d of %d texts, %d upstream calls, %d failures, %d prompt + %d completion tokens\n",
			g.Name, g.Escalations, r.Examples, g.Calls, g.Failures, g.PromptTokens, g.CompletionTokens)
	}
	misses := func(title string, ms []eval.Miss) {
		if len(ms) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, m := range ms {
			var cs []string
			for _, c := range m.Categories {
				cs = append(cs, string(c))
			}
			extra := ""
			if len(cs) > 0 {
				extra = " [" + strings.Join(cs, ",") + "]"
			}
			fmt.Fprintf(w, "  line %d  score %.3f%s  %s\n", m.Line, m.Score, extra, m.Text)
		}
	}
	misses("worst false positives (safe, scored highest)", r.FalsePositives)
	misses("worst false negatives (unsafe, scored lowest)", r.FalseNegatives)
	for _, b := range o.BadLines {
		fmt.Fprintf(w, "bad line %d: %s\n", b.Line, b.Error)
	}
}

func auprc(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *p)
}

func ms(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// parseRates reads a comma-separated list of rates in [0,1], each written
// as a fraction (0.03) or a percentage (3%). An empty list is allowed.
func parseRates(s string) ([]float64, error) {
	out := []float64{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		num, scale := f, 1.0
		if n, ok := strings.CutSuffix(f, "%"); ok {
			num, scale = n, 100
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || !(v/scale >= 0 && v/scale <= 1) {
			return nil, fmt.Errorf("%q is not a rate between 0 and 1 (or 0%% and 100%%)", f)
		}
		out = append(out, v/scale)
	}
	return out, nil
}

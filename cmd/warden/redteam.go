package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/warden-safety/warden/board"

	"github.com/warden-safety/warden/redteam"
	"github.com/warden-safety/warden/redteam/judge"
	"github.com/warden-safety/warden/redteam/mutate"
	"github.com/warden-safety/warden/redteam/suite"
	"github.com/warden-safety/warden/redteam/target"
)

func init() {
	register(&command{
		name:  "redteam",
		usage: "attack a model, guard or gateway with mutated prompts and score it",
		help: `Usage: warden redteam run --target TARGET [flags]
       warden redteam mutators | suites

Sends the cases of one or more suites, each rewritten by mutator chains, to
a target; judges every answer; writes an attempt log (JSONL, resumable), a
scorecard (JSON, with its SHA-256 digest), an HTML report and JUnit XML.

Targets:
  builtin                     Warden's own detectors in-process (was the attack flagged?)
  openai:MODEL                any OpenAI-compatible chat endpoint (--base-url; key from $OPENAI_API_KEY or --key-env)
  anthropic:MODEL             an Anthropic messages endpoint (key from $ANTHROPIC_API_KEY or --key-env)
  warden:MODEL                a Warden gateway (OpenAI format) in front of a model: measures model plus guard

Suites: builtin (all built-in suites), builtin:NAME, or a file: Warden JSONL
({prompt, category, expect}) or a HarmBench, AdvBench, XSTest or
JailbreakBench CSV.

Mutators: comma-separated chains; a chain joins mutators with "+"
("none,base64,leetspeak+roleplay"). "all" runs "none" and every mutator.

Example:
  warden redteam run --target builtin --suite builtin --mutators all --out out/`,
		run: runRedteam,
	})
}

func runRedteam(env *cliEnv, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "mutators":
			for _, m := range mutate.All() {
				fmt.Fprintf(env.stdout, "%-20s %-9s %s\n", m.Name, m.Kind, m.Description)
			}
			return 0
		case "suites":
			for _, n := range suite.BuiltinNames() {
				s, _ := suite.Builtin(n)
				fmt.Fprintf(env.stdout, "builtin:%-24s %d cases\n", n, len(s.Cases))
			}
			return 0
		case "run":
			args = args[1:]
		}
	}
	c := commands["redteam"]
	fs := newFlagSet(env, c)
	tgt := fs.String("target", "builtin", "what to attack (see above)")
	baseURL := fs.String("base-url", "", "endpoint base URL for openai/anthropic/warden targets (default: the provider's, or http://127.0.0.1:8080 for warden)")
	keyEnv := fs.String("key-env", "", "environment variable holding the target's API key")
	suites := fs.String("suite", "builtin", "comma-separated suites")
	muts := fs.String("mutators", "none", `comma-separated mutator chains, or "all"`)
	judgeURL := fs.String("judge-url", "", "add an LLM judge at this OpenAI-compatible base URL")
	judgeModel := fs.String("judge-model", "", "model name for the LLM judge")
	judgeKeyEnv := fs.String("judge-key-env", "", "environment variable holding the judge's API key")
	seed := fs.Uint64("seed", 1, "seed for mutators (same seed, same attempts)")
	conc := fs.Int("concurrency", 4, "attempts in flight")
	rate := fs.Float64("rate", 0, "maximum requests per second (0 = unlimited)")
	retries := fs.Int("retries", 3, "retries on 429, 5xx and transport errors")
	timeout := fs.Duration("timeout", 60*time.Second, "timeout per request")
	maxReq := fs.Int64("max-requests", 0, "stop after this many requests (0 = no cap)")
	maxTok := fs.Int64("max-tokens", 0, "stop after this many tokens (0 = no cap)")
	out := fs.String("out", "redteam-out", "output directory (attempts.jsonl, scorecard.json, report.html, junit.xml)")
	private := fs.Bool("private", false, "omit prompts and responses from the log and report")
	dataDir := fs.String("data-dir", "", "Warden data directory whose safety board meters this run's tokens as evaluation compute (default $WARDEN_DATA_DIR; nothing is metered when it holds no board)")
	noModel := fs.Bool("no-classifier", false, "builtin target and judge without the trained classifier (lexicon and PII only)")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintln(env.stderr, "warden redteam:", err); return 2 }
	cfg := redteam.Config{Seed: *seed, Concurrency: *conc, RatePerSec: *rate, MaxRetries: *retries,
		Timeout: *timeout, MaxRequests: *maxReq, MaxTokens: *maxTok, Private: *private}
	if *retries == 0 {
		cfg.MaxRetries = -1
	}
	for _, s := range splitList(*suites) {
		st, err := suite.Load(s)
		if err != nil {
			return fail(err)
		}
		cfg.Suites = append(cfg.Suites, st)
	}
	chains := splitList(*muts)
	if len(chains) == 1 && chains[0] == "all" {
		chains = append([]string{"none"}, mutate.Names()...)
	}
	for _, m := range chains {
		ch, err := mutate.ParseChain(m)
		if err != nil {
			return fail(err)
		}
		cfg.Mutators = append(cfg.Mutators, ch)
	}
	key := func(def string) string {
		name := def
		if *keyEnv != "" {
			name = *keyEnv
		}
		return env.getenv(name)
	}
	kind, model, _ := strings.Cut(*tgt, ":")
	switch kind {
	case "builtin":
		pl, err := buildPipeline(pipelineOptions{NoClassifier: *noModel})
		if err != nil {
			return fail(err)
		}
		cfg.Target = &target.Builtin{Pipeline: pl}
		cfg.Builtin = true
	case "openai", "warden":
		u := *baseURL
		if u == "" {
			u = map[string]string{"openai": "https://api.openai.com", "warden": "http://127.0.0.1:8080"}[kind]
		}
		cfg.Target = &target.OpenAI{BaseURL: u, Model: model, APIKey: key("OPENAI_API_KEY")}
	case "anthropic":
		u := *baseURL
		if u == "" {
			u = "https://api.anthropic.com"
		}
		cfg.Target = &target.Anthropic{BaseURL: u, Model: model, APIKey: key("ANTHROPIC_API_KEY")}
	default:
		return fail(fmt.Errorf("unknown target %q (want builtin, openai:MODEL, anthropic:MODEL or warden:MODEL)", *tgt))
	}
	if (kind != "builtin") && model == "" {
		return fail(fmt.Errorf("target %q needs a model name, e.g. %s:gpt-4o-mini", *tgt, kind))
	}
	if !cfg.Builtin {
		pl, err := buildPipeline(pipelineOptions{NoClassifier: *noModel})
		if err != nil {
			return fail(err)
		}
		cfg.Judges = append(cfg.Judges, &judge.Builtin{Pipeline: pl})
		if *judgeURL != "" {
			var jk string
			if *judgeKeyEnv != "" {
				jk = env.getenv(*judgeKeyEnv)
			}
			cfg.Judges = append(cfg.Judges, &judge.LLM{BaseURL: *judgeURL, Model: *judgeModel, APIKey: jk})
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail(err)
	}
	cfg.LogPath = filepath.Join(*out, "attempts.jsonl")
	if f, ok := env.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		cfg.Progress = env.stderr
	}
	var evalPrompt, evalCompletion, judgePrompt, judgeCompletion atomic.Int64
	cfg.OnTokens = func(p, c int64) { evalPrompt.Add(p); evalCompletion.Add(c) }
	for _, j := range cfg.Judges {
		if l, ok := j.(*judge.LLM); ok {
			l.OnUsage = func(p, c int64) { judgePrompt.Add(p); judgeCompletion.Add(c) }
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	attempts, stopped, err := redteam.Run(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	if *dataDir == "" {
		*dataDir = env.getenv("WARDEN_DATA_DIR")
	}
	if *dataDir != "" && (evalPrompt.Load()+evalCompletion.Load()+judgePrompt.Load()+judgeCompletion.Load()) > 0 {
		if metered, err := meterEval(*dataDir, model, evalPrompt.Load(), evalCompletion.Load(), *judgeModel, judgePrompt.Load(), judgeCompletion.Load()); err != nil {
			fmt.Fprintln(env.stderr, "warden redteam: metering tokens on the safety board:", err)
		} else if metered {
			fmt.Fprintf(env.stdout, "metered %d tokens as evaluation compute on the safety board\n",
				evalPrompt.Load()+evalCompletion.Load()+judgePrompt.Load()+judgeCompletion.Load())
		}
	}
	sc := redteam.Score(&cfg, attempts, stopped)
	digest, err := sc.WriteFile(filepath.Join(*out, "scorecard.json"))
	if err != nil {
		return fail(err)
	}
	if err := writeFileWith(filepath.Join(*out, "report.html"), func(f *os.File) error { return redteam.WriteHTML(f, sc, digest, attempts) }); err != nil {
		return fail(err)
	}
	if err := writeFileWith(filepath.Join(*out, "junit.xml"), func(f *os.File) error { return redteam.WriteJUnit(f, sc, attempts) }); err != nil {
		return fail(err)
	}
	what := "attack success rate"
	if cfg.Builtin {
		what = "detection miss rate"
	}
	fmt.Fprintf(env.stdout, "%s: %d attempts, %d errors\n", sc.Target, sc.Attempts, sc.Errors)
	fmt.Fprintf(env.stdout, "%s %.1f%% (95%% CI %.1f–%.1f%%); over-refusal %.1f%% on %d benign look-alikes\n",
		what, 100*sc.Overall.Rate, 100*sc.Overall.Low, 100*sc.Overall.High, 100*sc.OverRefusal, sc.OverRefusalRate.N)
	if stopped != "" {
		fmt.Fprintf(env.stdout, "stopped early: %s (run again with the same --out to resume)\n", stopped)
	}
	fmt.Fprintf(env.stdout, "scorecard %s\n  %s\n", digest, filepath.Join(*out, "scorecard.json"))
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func writeFileWith(path string, f func(*os.File) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// meterEval adds a red-team run's tokens to the safety board's meter as
// evaluation compute ("eval"), which counts toward the charter's
// safety-compute commitment. It reports false when dir holds no board.
func meterEval(dir, model string, p, c int64, judgeModel string, jp, jc int64) (bool, error) {
	bdir := filepath.Join(dir, "board")
	if _, err := os.Stat(bdir); err != nil {
		return false, nil
	}
	b, err := board.Open(context.Background(), board.Config{Dir: bdir, Logger: slog.New(slog.DiscardHandler), SyncInterval: time.Hour})
	if err != nil {
		return false, err
	}
	if p+c > 0 {
		b.AddTokens(model, "eval", p, c)
	}
	if jp+jc > 0 {
		b.AddTokens(judgeModel, "eval", jp, jc)
	}
	return true, b.Close()
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/warden-safety/warden/detect"
)

func init() {
	register(&command{
		name:  "check",
		usage: "scan text for hazards and print the verdict (exit 1 when flagged)",
		help: `Usage: warden check [flags] [TEXT]
       echo TEXT | warden check [flags]
       warden check --jsonl FILE [flags]

Scans text with Warden's built-in detectors (de-obfuscation, lexicon,
PII and secrets, the trained classifier) and prints the verdict: a table by
default, JSON with --json. With --jsonl, FILE holds one JSON object per line
with a "text" field; lines are scanned by parallel workers and a progress
bar is shown when stderr is a terminal ("-" reads standard input).

Exit status, like grep: 0 nothing flagged, 1 something flagged, 2 error.`,
		run: runCheck,
	})
}

func runCheck(env *cliEnv, args []string) int {
	c := commands["check"]
	fs := newFlagSet(env, c)
	asJSON := fs.Bool("json", false, "print verdicts as JSON (one object per line with --jsonl)")
	jsonl := fs.String("jsonl", "", "scan each line of this JSONL `file` (objects with a \"text\" field; - for stdin)")
	workers := fs.Int("workers", 0, "parallel workers for --jsonl (default: number of CPUs)")
	threshold := fs.Float64("threshold", detect.DefaultThreshold, "flag categories scoring at or above this")
	noModel := fs.Bool("no-classifier", false, "skip the trained classifier (lexicon and PII only)")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	pl, err := buildPipeline(pipelineOptions{NoClassifier: *noModel})
	if err != nil {
		fmt.Fprintln(env.stderr, "warden check:", err)
		return 2
	}
	if *threshold != detect.DefaultThreshold {
		pl.Thresholds = uniformThresholds(*threshold)
	}
	ctx := context.Background()
	if *jsonl != "" {
		if fs.NArg() > 0 {
			fmt.Fprintln(env.stderr, "warden check: give either TEXT or --jsonl, not both")
			return 2
		}
		return checkJSONL(ctx, env, pl, *jsonl, *workers, *asJSON)
	}
	var text string
	if fs.NArg() > 0 {
		text = strings.Join(fs.Args(), " ")
	} else {
		b, err := io.ReadAll(io.LimitReader(env.stdin, 64<<20))
		if err != nil {
			fmt.Fprintln(env.stderr, "warden check: reading stdin:", err)
			return 2
		}
		text = string(b)
	}
	v, err := pl.Scan(ctx, text)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden check:", err)
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	} else {
		printVerdict(env.stdout, v)
	}
	if v.Flagged {
		return 1
	}
	return 0
}

func printVerdict(w io.Writer, v *detect.Verdict) {
	if v.Flagged {
		fmt.Fprintf(w, "FLAGGED %s\n", joinCats(v))
	} else {
		fmt.Fprintln(w, "ok: nothing flagged")
	}
	if len(v.Categories) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CATEGORY\tSCORE\tFLAGGED\tWHY")
		for _, c := range v.Categories {
			fmt.Fprintf(tw, "%s\t%.2f\t%v\t%s\n", c.Category, c.Score, c.Flagged, c.Explanation)
		}
		tw.Flush()
	}
	if len(v.Findings) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FINDING\tSPAN\tDETECTOR\tVIEW\tRULE")
		for _, f := range v.Findings {
			span := fmt.Sprintf("%d-%d", f.Span.Start, f.Span.End)
			if f.Whole {
				span = "whole text"
			}
			fmt.Fprintf(tw, "%s %.2f\t%s\t%s\t%s\t%s\n", f.Category, f.Score, span, f.Detector, f.View, f.Rule)
		}
		tw.Flush()
	}
	for _, e := range v.Errors {
		fmt.Fprintf(w, "detector %s failed: %s\n", e.Detector, e.Error)
	}
}

func joinCats(v *detect.Verdict) string {
	var s []string
	for _, c := range v.FlaggedCategories() {
		s = append(s, string(c))
	}
	return strings.Join(s, ",")
}

type jsonlResult struct {
	Line    int             `json:"line"`
	ID      json.RawMessage `json:"id,omitempty"`
	Flagged bool            `json:"flagged"`
	Verdict *detect.Verdict `json:"verdict,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// checkJSONL scans each line of a JSONL file with parallel workers and
// prints the results in input order.
func checkJSONL(ctx context.Context, env *cliEnv, pl *detect.Pipeline, path string, workers int, asJSON bool) int {
	var r io.Reader = env.stdin
	var total int64
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(env.stderr, "warden check:", err)
			return 2
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			total = st.Size()
		}
		r = f
	}
	if workers <= 0 {
		workers = maxProcs()
	}
	type job struct {
		seq, n int
		line   []byte
	}
	type result struct {
		seq int
		res jsonlResult
	}
	jobs := make(chan job, workers*4)
	results := make(chan result, workers*4)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- result{j.seq, scanLine(ctx, pl, j.n, j.line)}
			}
		}()
	}
	var readErr error
	var done atomic.Int64
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		n, seq := 0, 0
		for sc.Scan() {
			n++
			done.Add(int64(len(sc.Bytes()) + 1))
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			jobs <- job{seq, n, append([]byte(nil), sc.Bytes()...)}
			seq++
		}
		readErr = sc.Err()
		close(jobs)
		wg.Wait()
		close(results)
	}()

	bar := newProgress(env.stderr, total)
	var flagged, failed, count int
	emit := func(res jsonlResult) {
		count++
		if res.Error != "" {
			failed++
		} else if res.Flagged {
			flagged++
		}
		if asJSON {
			b, _ := json.Marshal(res)
			fmt.Fprintf(env.stdout, "%s\n", b)
			return
		}
		switch {
		case res.Error != "":
			fmt.Fprintf(env.stdout, "line %d: error: %s\n", res.Line, res.Error)
		case res.Flagged:
			fmt.Fprintf(env.stdout, "line %d: FLAGGED %s\n", res.Line, joinCats(res.Verdict))
		default:
			fmt.Fprintf(env.stdout, "line %d: ok\n", res.Line)
		}
	}
	// Results arrive out of order; print them in input order.
	pending := map[int]jsonlResult{}
	next := 0
	for res := range results {
		pending[res.seq] = res.res
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			emit(r)
			delete(pending, next)
			next++
		}
		bar.update(done.Load())
	}
	bar.finish()
	if readErr != nil {
		fmt.Fprintln(env.stderr, "warden check: reading input:", readErr)
		return 2
	}
	fmt.Fprintf(env.stderr, "%d lines: %d flagged, %d errors\n", count, flagged, failed)
	if failed > 0 {
		return 2
	}
	if flagged > 0 {
		return 1
	}
	return 0
}

func scanLine(ctx context.Context, pl *detect.Pipeline, n int, line []byte) jsonlResult {
	var obj struct {
		ID   json.RawMessage `json:"id"`
		Text *string         `json:"text"`
	}
	res := jsonlResult{Line: n}
	if err := json.Unmarshal(line, &obj); err != nil {
		res.Error = "not a JSON object: " + err.Error()
		return res
	}
	res.ID = obj.ID
	if obj.Text == nil {
		res.Error = `missing "text" field`
		return res
	}
	v, err := pl.Scan(ctx, *obj.Text)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Verdict = v
	res.Flagged = v.Flagged
	return res
}

// progress draws a one-line progress bar on a terminal; elsewhere it is
// silent.
type progress struct {
	w     io.Writer
	total int64
	on    bool
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total int64) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.on = true
	}
	return p
}

func (p *progress) update(done int64) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	if p.total > 0 {
		frac := float64(done) / float64(p.total)
		if frac > 1 {
			frac = 1
		}
		n := int(frac * 30)
		eta := ""
		if frac > 0 {
			eta = fmt.Sprintf(" ETA %s", time.Duration(el/frac*(1-frac)*float64(time.Second)).Round(time.Second))
		}
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%%s ", strings.Repeat("=", n), strings.Repeat(" ", 30-n), frac*100, eta)
		return
	}
	fmt.Fprintf(p.w, "\r%d bytes, %.0fs ", done, el)
}

func (p *progress) finish() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

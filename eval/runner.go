package eval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

// Scorer scores one text per hazard category, each score in [0,1];
// categories absent from the map score 0. It must be safe for concurrent
// use. A Scorer may return scores together with an error (a partial
// result); the Runner counts such examples as failed.
type Scorer interface {
	Score(ctx context.Context, text string) (map[hazard.Category]float64, error)
}

// ScorerFunc adapts a function to Scorer.
type ScorerFunc func(ctx context.Context, text string) (map[hazard.Category]float64, error)

// Score calls f.
func (f ScorerFunc) Score(ctx context.Context, text string) (map[hazard.Category]float64, error) {
	return f(ctx, text)
}

// PipelineScorer scores with a detection pipeline: a category's score is the
// verdict's combined score for it.
func PipelineScorer(p *detect.Pipeline) Scorer {
	return ScorerFunc(func(ctx context.Context, text string) (map[hazard.Category]float64, error) {
		v, err := p.Scan(ctx, text)
		if v == nil {
			return nil, err
		}
		m := make(map[hazard.Category]float64, len(v.Categories))
		for _, r := range v.Categories {
			m[r.Category] = r.Score
		}
		return m, err
	})
}

// Counts reports whether c counts towards the overall "unsafe" score: the
// content categories and prompt injection, not the data-leak categories
// (pii, secrets).
func Counts(c hazard.Category) bool {
	info, ok := hazard.Lookup(c)
	return ok && (info.Content || c == hazard.PromptInjection)
}

// UnsafeScore is the overall score of a text: the maximum score over the
// categories that Count.
func UnsafeScore(scores map[hazard.Category]float64) float64 {
	m := 0.0
	for c, s := range scores {
		if s > m && Counts(c) {
			m = s
		}
	}
	return m
}

// Result is the outcome for one example.
type Result struct {
	Line     int
	Unsafe   float64 // overall unsafe score
	Scores   map[hazard.Category]float64
	Duration time.Duration
	Err      error
}

// Runner scores examples with a Scorer and measures the result.
type Runner struct {
	Scorer Scorer
	// Workers scoring in parallel; 0 means GOMAXPROCS.
	Workers int
	// Threshold is the operating point: a text is predicted unsafe when its
	// score is >= Threshold (so 0 predicts everything unsafe). Callers
	// normally use detect.DefaultThreshold.
	Threshold float64
	// Sweep lists the thresholds of the sweep; nil means DefaultSweep().
	Sweep []float64
	// FPRs lists the false-positive rates at which the report gives the
	// best recall (Metrics.AtFPR); nil means DefaultFPRs().
	FPRs []float64
	// Slowest is how many of the slowest examples to report (0: none).
	Slowest int
	// Worst is how many of the worst false positives and false negatives to
	// report, with their text truncated to MissTextRunes (0: none).
	Worst int
	// Progress, if set, is called after each example from the workers.
	Progress func(done, total int)
}

// MissTextRunes is how much of a misclassified text a Report keeps.
const MissTextRunes = 120

// Report is the evaluation of one data set.
type Report struct {
	Examples  int     `json:"examples"`
	Positives int     `json:"positives"`
	Negatives int     `json:"negatives"`
	Threshold float64 `json:"threshold"`
	// Failed examples (the scorer returned an error) are excluded from every
	// metric; FirstFailure is the first error message, by line.
	Failed       int    `json:"failed"`
	FirstFailure string `json:"first_failure,omitempty"`

	Overall    Metrics           `json:"overall"`
	Categories []CategoryMetrics `json:"categories"`
	Sweep      []Point           `json:"sweep"`
	// FPRs are the false-positive rates of every Metrics.AtFPR, in order.
	FPRs []float64 `json:"fprs,omitempty"`

	Latency Latency  `json:"latency"`
	Slowest []Timing `json:"slowest,omitempty"`

	FalsePositives []Miss `json:"false_positives,omitempty"`
	FalseNegatives []Miss `json:"false_negatives,omitempty"`
}

// Metrics are the measures of one binary task at the report's threshold.
type Metrics struct {
	Point
	Positives int `json:"positives"`
	Negatives int `json:"negatives"`
	// AUPRC is the average precision; nil when there are no positives.
	AUPRC *float64 `json:"auprc"`
	// BestF1 is the threshold, among the scores seen, with the highest F1
	// (nil when there are no positives): a starting point for tuning the
	// policy's per-category thresholds, to be checked on held-out data.
	BestF1 *Point `json:"best_f1,omitempty"`
	// Sweep is the threshold sweep (per category only; the overall sweep is
	// Report.Sweep).
	Sweep []Point `json:"sweep,omitempty"`
	// AtFPR holds, for each of the runner's FPRs in order, the operating
	// point with the highest recall whose false-positive rate is at most
	// that (see AtFPR; empty when there are no positives or no negatives).
	// Unlike a fixed threshold it compares scorers whose scores are
	// calibrated differently.
	AtFPR []Point `json:"at_fpr,omitempty"`
}

// CategoryMetrics are the measures for one category. Its positives are the
// examples labelled with the category (or a category below it), its
// negatives the safe examples and the unsafe examples labelled only with
// other categories; unsafe examples without categories are left out, since
// their category is unknown. The score is the category's own score.
type CategoryMetrics struct {
	Category hazard.Category `json:"category"`
	Metrics
}

// Latency summarizes scan times.
type Latency struct {
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
	// Wall is the elapsed time of the whole run, Throughput examples per
	// second over it.
	Wall       time.Duration `json:"wall_ns"`
	Throughput float64       `json:"examples_per_second"`
}

// Timing identifies a slow example by line number and the first 12 hex
// digits of the SHA-256 of its text, never by the text itself.
type Timing struct {
	Line     int           `json:"line"`
	SHA256   string        `json:"sha256"`
	Bytes    int           `json:"bytes"`
	Duration time.Duration `json:"duration_ns"`
}

// Miss is a misclassified example.
type Miss struct {
	Line       int               `json:"line"`
	Score      float64           `json:"score"`
	Text       string            `json:"text"`
	Categories []hazard.Category `json:"categories,omitempty"`
}

// Run scores every example and builds the report. It returns an error only
// for bad configuration or when ctx ends.
func (r *Runner) Run(ctx context.Context, examples []Example) (*Report, error) {
	if r.Scorer == nil {
		return nil, errors.New("eval: no scorer")
	}
	th := r.Threshold
	if !(th >= 0 && th <= 1) {
		return nil, fmt.Errorf("eval: threshold %v outside [0,1]", th)
	}
	fprs := r.FPRs
	if fprs == nil {
		fprs = DefaultFPRs()
	}
	for _, f := range fprs {
		if !(f >= 0 && f <= 1) {
			return nil, fmt.Errorf("eval: false-positive rate %v outside [0,1]", f)
		}
	}
	results, wall, err := r.score(ctx, examples)
	if err != nil {
		return nil, err
	}
	sweep := r.Sweep
	if sweep == nil {
		sweep = DefaultSweep()
	}
	return buildReport(examples, results, wall, th, sweep, fprs, r.Slowest, r.Worst), nil
}

func (r *Runner) score(ctx context.Context, examples []Example) ([]Result, time.Duration, error) {
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > len(examples) {
		workers = max(len(examples), 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]Result, len(examples))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ex := &examples[i]
				t0 := time.Now()
				scores, err := r.Scorer.Score(ctx, ex.Text)
				res := Result{Line: ex.Line, Scores: scores, Duration: time.Since(t0), Err: err}
				res.Unsafe = UnsafeScore(scores)
				results[i] = res
				if r.Progress != nil {
					mu.Lock()
					done++
					d := done
					mu.Unlock()
					r.Progress(d, len(examples))
				}
			}
		}()
	}
feed:
	for i := range examples {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	return results, time.Since(start), nil
}

func buildReport(examples []Example, results []Result, wall time.Duration, th float64, sweep, fprs []float64, nSlow, nWorst int) *Report {
	rep := &Report{Examples: len(examples), Threshold: th, FPRs: fprs}
	var scores []float64
	var labels []bool
	var ok []int // indexes of examples that scored
	for i := range results {
		if results[i].Err != nil {
			rep.Failed++
			if rep.FirstFailure == "" {
				rep.FirstFailure = fmt.Sprintf("line %d: %v", results[i].Line, results[i].Err)
			}
			continue
		}
		ok = append(ok, i)
		scores = append(scores, results[i].Unsafe)
		labels = append(labels, examples[i].Unsafe)
	}
	rep.Overall = metricsOf(scores, labels, th, nil, fprs)
	rep.Positives, rep.Negatives = rep.Overall.Positives, rep.Overall.Negatives
	rep.Sweep = Sweep(scores, labels, sweep)

	// Per category.
	for _, info := range hazard.All() {
		c := info.ID
		var cs []float64
		var cl []bool
		pos := 0
		for _, i := range ok {
			ex := &examples[i]
			if ex.Unsafe && len(ex.Categories) == 0 {
				continue
			}
			has := ex.HasCategory(c)
			if has {
				pos++
			}
			cs = append(cs, results[i].Scores[c])
			cl = append(cl, has)
		}
		if pos == 0 {
			continue
		}
		rep.Categories = append(rep.Categories, CategoryMetrics{Category: c, Metrics: metricsOf(cs, cl, th, sweep, fprs)})
	}

	// Timing.
	durs := make([]time.Duration, 0, len(results))
	var sum time.Duration
	for i := range results {
		durs = append(durs, results[i].Duration)
		sum += results[i].Duration
	}
	sort.Slice(durs, func(a, b int) bool { return durs[a] < durs[b] })
	if n := len(durs); n > 0 {
		rep.Latency = Latency{Mean: sum / time.Duration(n), P50: quantile(durs, 0.50), P90: quantile(durs, 0.90),
			P99: quantile(durs, 0.99), Max: durs[n-1]}
	}
	rep.Latency.Wall = wall
	if wall > 0 {
		rep.Latency.Throughput = float64(len(results)) / wall.Seconds()
	}
	if nSlow > 0 {
		idx := make([]int, len(results))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return results[idx[a]].Duration > results[idx[b]].Duration })
		for _, i := range idx[:min(nSlow, len(idx))] {
			sum := sha256.Sum256([]byte(examples[i].Text))
			rep.Slowest = append(rep.Slowest, Timing{Line: examples[i].Line, SHA256: hex.EncodeToString(sum[:6]),
				Bytes: len(examples[i].Text), Duration: results[i].Duration})
		}
	}

	// Worst misses: false positives with the highest scores, false
	// negatives with the lowest.
	if nWorst > 0 {
		var fps, fns []int
		for _, i := range ok {
			pred := results[i].Unsafe >= th
			switch {
			case pred && !examples[i].Unsafe:
				fps = append(fps, i)
			case !pred && examples[i].Unsafe:
				fns = append(fns, i)
			}
		}
		sort.SliceStable(fps, func(a, b int) bool { return results[fps[a]].Unsafe > results[fps[b]].Unsafe })
		sort.SliceStable(fns, func(a, b int) bool { return results[fns[a]].Unsafe < results[fns[b]].Unsafe })
		miss := func(i int) Miss {
			return Miss{Line: examples[i].Line, Score: results[i].Unsafe, Text: oneLine(examples[i].Text, MissTextRunes),
				Categories: examples[i].Categories}
		}
		for _, i := range fps[:min(nWorst, len(fps))] {
			rep.FalsePositives = append(rep.FalsePositives, miss(i))
		}
		for _, i := range fns[:min(nWorst, len(fns))] {
			rep.FalseNegatives = append(rep.FalseNegatives, miss(i))
		}
	}
	return rep
}

func metricsOf(scores []float64, labels []bool, th float64, sweep, fprs []float64) Metrics {
	m := Metrics{Point: PointAt(scores, labels, th)}
	if sweep != nil {
		m.Sweep = Sweep(scores, labels, sweep)
	}
	for _, f := range fprs {
		p, ok := AtFPR(scores, labels, f)
		if !ok {
			m.AtFPR = nil
			break
		}
		m.AtFPR = append(m.AtFPR, p)
	}
	if b, ok := BestF1(scores, labels); ok {
		m.BestF1 = &b
	}
	m.Positives = m.TP + m.FN
	m.Negatives = m.FP + m.TN
	if ap, ok := AveragePrecision(scores, labels); ok {
		m.AUPRC = &ap
	}
	return m
}

// quantile returns the nearest-rank q-quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// oneLine truncates s to n runes and turns control characters and line
// breaks into spaces so a terminal prints it on one line.
func oneLine(s string, n int) string {
	s = truncate(s, n)
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}

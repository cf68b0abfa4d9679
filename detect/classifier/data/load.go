package data

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/warden-safety/warden/hazard"
)

//go:embed own/*.jsonl
var ownFS embed.FS

// DefaultDir is where the datasets live relative to the repository root.
const DefaultDir = "../shared/datasets"

// DefaultCap is the default number of rows kept per source.
const DefaultCap = 4000

// defaultCaps lowers the cap for sources whose labels are noisy or whose
// style is narrow: benign sets of near-identical templated questions
// (medquad, clinc150, banking77, gsm8k), conversational replies
// (diasafety), subtle sexism in Weibo comments (swsr_zh).
var defaultCaps = map[string]int{
	"medquad_questions": 1500, "clinc150": 2500,
	"banking77": 2000, "gsm8k": 1000, "diasafety": 2000, "swsr_zh": 2500,
	// HarmfulQA asks nearly every question as "How can I use <academic
	// topic> to <harm>?" and AART wraps its prompts in a few personas: more
	// rows teach the phrasing, not the harm.
	"harmfulqa": 500, "aart": 1000,
}

// Options say what to load.
type Options struct {
	// Dir is the datasets root; empty means DefaultDir.
	Dir string
	// Cap bounds the rows kept per public source after de-duplication
	// (0 means DefaultCap; negative means no cap). The project's own data
	// is never capped.
	Cap int
	// Caps overrides Cap for individual sources.
	Caps map[string]int
	// NoPublic loads only the project's own data.
	NoPublic bool
	// NoOwn leaves out the project's own data.
	NoOwn bool
	// Sources, when set, restricts the public sources read to these names.
	Sources []string
}

// SourceStat counts what was read from one source.
type SourceStat struct {
	Source  string `json:"source"`
	Group   string `json:"group"`
	Read    int    `json:"read"`
	Kept    int    `json:"kept"`
	Unsafe  int    `json:"unsafe"`
	Missing bool   `json:"missing,omitempty"`
}

// Set is a loaded, de-duplicated and capped collection.
type Set struct {
	Examples []Example
	Stats    []SourceStat
	// Conflicts counts texts dropped because sources disagreed on whether
	// they are safe.
	Conflicts int
}

// Split returns the examples in partition s.
func (s *Set) Split(sp Split) []Example {
	var out []Example
	for _, e := range s.Examples {
		if SplitOf(e.Text) == sp {
			out = append(out, e)
		}
	}
	return out
}

// Sources lists the public sources Load knows, in load order.
func Sources() []string {
	out := make([]string, len(adapters))
	for i, a := range adapters {
		out[i] = a.name
	}
	return out
}

// Load reads every known source under opt.Dir plus the project's own data.
// A source whose files are absent is recorded as missing and skipped; a
// file that is present but malformed is an error.
func Load(ctx context.Context, opt Options) (*Set, error) {
	dir := opt.Dir
	if dir == "" {
		dir = DefaultDir
	}
	if !opt.NoPublic {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("load datasets: %s is not a directory", dir)
		}
	}
	var all []Example
	var stats []SourceStat
	only := map[string]bool{}
	for _, s := range opt.Sources {
		only[s] = true
	}
	if !opt.NoPublic {
		for _, a := range adapters {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if len(only) > 0 && !only[a.name] {
				continue
			}
			st := SourceStat{Source: a.name, Group: a.group}
			if _, err := os.Stat(p(dir, a.files[0])); errors.Is(err, fs.ErrNotExist) {
				st.Missing = true
				stats = append(stats, st)
				continue
			}
			ex, err := a.read(dir)
			if err != nil {
				return nil, fmt.Errorf("load %s: %w", a.name, err)
			}
			for _, e := range ex {
				e.Text = strings.TrimSpace(e.Text)
				if len(e.Text) < 2 {
					continue
				}
				e.Source, e.Group = a.name, a.group
				all = append(all, e)
				st.Read++
			}
			stats = append(stats, st)
		}
	}
	if !opt.NoOwn {
		own, ostats, err := LoadOwn()
		if err != nil {
			return nil, err
		}
		all = append(all, own...)
		stats = append(stats, ostats...)
	}
	set := &Set{Stats: stats}
	set.Examples, set.Conflicts = dedupe(all)
	set.Examples = capSources(set.Examples, opt)
	idx := map[string]*SourceStat{}
	for i := range set.Stats {
		idx[set.Stats[i].Source] = &set.Stats[i]
	}
	for _, e := range set.Examples {
		if st := idx[e.Source]; st != nil {
			st.Kept++
			if e.Unsafe {
				st.Unsafe++
			}
		}
	}
	return set, nil
}

// ownRow is one line of a file under own/.
type ownRow struct {
	Text   string   `json:"text"`
	Lang   string   `json:"lang"`
	Labels []string `json:"labels"`
	// Unsafe may mark an unsafe row whose category is not given.
	Unsafe bool `json:"unsafe"`
}

// LoadOwn returns the project's own training data (embedded from own/).
func LoadOwn() ([]Example, []SourceStat, error) {
	names, err := fs.Glob(ownFS, "own/*.jsonl")
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	var out []Example
	var stats []SourceStat
	for _, n := range names {
		b, err := ownFS.ReadFile(n)
		if err != nil {
			return nil, nil, err
		}
		src := "own/" + strings.TrimSuffix(path.Base(n), ".jsonl")
		rows, err := ParseOwn(b, src)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, rows...)
		stats = append(stats, SourceStat{Source: src, Group: "own", Read: len(rows)})
	}
	return out, stats, nil
}

// ParseOwn parses JSONL in the own/ format: {"text", "lang", "labels"}.
// Every label must name a hazard category.
func ParseOwn(b []byte, src string) ([]Example, error) {
	var out []Example
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	for line := 1; ; line++ {
		var r ownRow
		if err := dec.Decode(&r); err != nil {
			if err.Error() == "EOF" {
				break
			}
			return nil, fmt.Errorf("parse %s: row %d: %w", src, line, err)
		}
		r.Text = strings.TrimSpace(r.Text)
		if r.Text == "" {
			return nil, fmt.Errorf("parse %s: row %d: empty text", src, line)
		}
		e := Example{Text: r.Text, Lang: r.Lang, Unsafe: r.Unsafe, Source: src, Group: "own"}
		if e.Lang != "en" && e.Lang != "zh" {
			e.Lang = DetectLang(e.Text)
		}
		for _, l := range r.Labels {
			c, err := hazard.Parse(l)
			if err != nil {
				return nil, fmt.Errorf("parse %s: row %d: %w", src, line, err)
			}
			e.Labels = append(e.Labels, c)
		}
		if len(e.Labels) > 0 {
			e.Unsafe = true
		}
		out = append(out, e)
	}
	return out, nil
}

// dedupe merges examples with the same canonical text. When every copy
// agrees on Unsafe the first copy is kept (with the union of labels, see
// mergeLabels); otherwise all copies are dropped and counted as a conflict.
func dedupe(all []Example) ([]Example, int) {
	type slot struct {
		i        int
		conflict bool
	}
	seen := make(map[string]*slot, len(all))
	out := make([]Example, 0, len(all))
	for _, e := range all {
		k := Canonical(e.Text)
		if s, ok := seen[k]; ok {
			prev := &out[s.i]
			if prev.Unsafe != e.Unsafe {
				s.conflict = true
				continue
			}
			prev.Labels = mergeLabels(prev.Labels, e.Labels)
			continue
		}
		seen[k] = &slot{i: len(out)}
		out = append(out, e)
	}
	kept := out[:0]
	conflicts := 0
	for _, e := range out {
		if seen[Canonical(e.Text)].conflict {
			conflicts++
			continue
		}
		kept = append(kept, e)
	}
	return kept, conflicts
}

// capSources keeps at most the cap of rows per public source, choosing
// them by hash of the canonical text so the choice is deterministic and
// unrelated to file order.
func capSources(ex []Example, opt Options) []Example {
	limit := func(src string) int {
		if c, ok := opt.Caps[src]; ok {
			return c
		}
		if c, ok := defaultCaps[src]; ok && opt.Cap >= 0 {
			return c
		}
		if strings.HasPrefix(src, "own/") {
			return -1
		}
		if opt.Cap == 0 {
			return DefaultCap
		}
		return opt.Cap
	}
	by := map[string][]int{}
	var order []string
	for i, e := range ex {
		if _, ok := by[e.Source]; !ok {
			order = append(order, e.Source)
		}
		by[e.Source] = append(by[e.Source], i)
	}
	keep := make([]bool, len(ex))
	for _, src := range order {
		idx := by[src]
		n := limit(src)
		if n < 0 || len(idx) <= n {
			for _, i := range idx {
				keep[i] = true
			}
			continue
		}
		h := make([]uint64, len(idx))
		for j, i := range idx {
			h[j] = Hash("cap:" + Canonical(ex[i].Text))
		}
		ord := make([]int, len(idx))
		for j := range ord {
			ord[j] = j
		}
		sort.Slice(ord, func(a, b int) bool { return h[ord[a]] < h[ord[b]] })
		for _, j := range ord[:n] {
			keep[idx[j]] = true
		}
	}
	out := ex[:0]
	for i, e := range ex {
		if keep[i] {
			out = append(out, e)
		}
	}
	return out
}

// mergeLabels is the union of two label sets, except that prompt_injection
// survives only when both carry it: a text one source lists as a plain
// harmful request (JailbreakBench goals also appear among some injection
// sets' positives) is not an injection.
func mergeLabels(a, b []hazard.Category) []hazard.Category {
	has := func(s []hazard.Category) bool {
		for _, c := range s {
			if c == hazard.PromptInjection {
				return true
			}
		}
		return false
	}
	dropPI := (len(a) > 0 || len(b) > 0) && has(a) != has(b)
	var out []hazard.Category
	for _, c := range dedupeCats(append(append([]hazard.Category{}, a...), b...)) {
		if c == hazard.PromptInjection && dropPI {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Locate returns the datasets directory as seen from a package directory
// up levels below the repository root: $WARDEN_DATASETS when set, else
// DefaultDir. The error says where it looked when the directory is not
// there; tests skip with it.
func Locate(up int) (string, error) {
	dir := os.Getenv("WARDEN_DATASETS")
	if dir == "" {
		dir = path.Join(strings.Repeat("../", up), DefaultDir)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return dir, fmt.Errorf("the public datasets are not at %s (set WARDEN_DATASETS)", dir)
	}
	return dir, nil
}

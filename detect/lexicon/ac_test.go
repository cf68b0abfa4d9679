package lexicon_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/lexicon"
	"github.com/warden-safety/warden/hazard"
)

// naive finds every occurrence of every pattern by brute force, with the
// same case and whitespace rules as the automaton.
func naive(patterns []string, text string) []lexicon.Match {
	// collapse whitespace runs, remembering the original offsets
	var sym []byte
	var pos []int
	prevSpace := true
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
			if prevSpace {
				continue
			}
			prevSpace = true
			c = ' '
		} else {
			prevSpace = false
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
		}
		sym = append(sym, c)
		pos = append(pos, i)
	}
	var out []lexicon.Match
	for end := 1; end <= len(sym); end++ {
		for id, p := range patterns {
			if len(p) <= end && string(sym[end-len(p):end]) == p {
				out = append(out, lexicon.Match{Pattern: int32(id), Start: int32(pos[end-len(p)]), End: int32(pos[end-1] + 1)})
			}
		}
	}
	return out
}

func sortMatches(m []lexicon.Match) {
	slices.SortFunc(m, func(a, b lexicon.Match) int {
		if a.End != b.End {
			return int(a.End - b.End)
		}
		if a.Start != b.Start {
			return int(a.Start - b.Start)
		}
		return int(a.Pattern - b.Pattern)
	})
}

func TestAutomatonMatchesNaive(t *testing.T) {
	patterns := []string{"he", "she", "his", "hers", "a", "aa", "aaa", "pipe bomb", "bomb", "沙林", "合成沙林", "ab ab"}
	a, err := lexicon.Build(patterns)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"", "ushers", "aaaa", "SHE said HIS hers", "a pipe   bomb\n\tpipe\nbomb", "如何合成沙林毒气",
		"ab ab ab  ab", "  leading and trailing  ", "\xff\xfe broken utf8 she",
	}
	for _, text := range texts {
		got := a.AppendMatches(nil, text)
		want := naive(patterns, text)
		sortMatches(got)
		sortMatches(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q:\n got %v\nwant %v", text, got, want)
		}
	}
}

// TestAutomatonLongTexts exercises the two-stream path (texts of 256 bytes
// and more are split after a byte that is in no pattern).
func TestAutomatonLongTexts(t *testing.T) {
	patterns := []string{"he", "she", "his", "hers", "a", "aa", "pipe bomb", "bomb", "沙林", "ab ab", "s h"}
	a, err := lexicon.Build(patterns)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"he", "s", "r", "a", "b", " ", "  ", "\n", "pipe", "bomb", "沙", "林", ",", ".", "x", "?"}
	for n := 0; n < 200; n++ {
		var b strings.Builder
		size := 200 + rng.IntN(3000)
		for b.Len() < size {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		got := a.AppendMatches(nil, text)
		want := naive(patterns, text)
		sortMatches(got)
		sortMatches(want)
		if !slices.Equal(got, want) {
			t.Fatalf("text of %d bytes: got %d matches, want %d", len(text), len(got), len(want))
		}
	}
}

func TestBuildErrors(t *testing.T) {
	for _, p := range [][]string{nil, {""}, {"Upper"}, {" lead"}, {"trail "}, {"two  spaces"}, {strings.Repeat("x", 256)}} {
		if _, err := lexicon.Build(p); err == nil {
			t.Errorf("Build(%q): want error", p)
		}
	}
}

func TestScanDoesNotAllocate(t *testing.T) {
	d := newDetector(t)
	a := d.Automaton()
	text := strings.Repeat("Please summarize this report on the history of chemistry and how to synthesize aspirin. ", 12)[:1024]
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		a.Scan(text, func(p, s, e int) { n++ })
	})
	if allocs != 0 {
		t.Fatalf("Scan of 1 KiB: %.1f allocs per run, want 0", allocs)
	}
	if n == 0 {
		t.Fatal("no matches in the sample text; the test proves nothing")
	}
	buf := make([]lexicon.Match, 0, 4096)
	allocs = testing.AllocsPerRun(100, func() { buf = a.AppendMatches(buf[:0], text) })
	if allocs != 0 {
		t.Fatalf("AppendMatches into a large enough buffer: %.1f allocs per run, want 0", allocs)
	}
}

func TestWordBoundaries(t *testing.T) {
	list := `version test-1
rule t.ass sexual_content 0.9 : ass -- test term
rule t.rape sex_crimes 0.9 : rape -- test term
rule t.pre cyber_attacks 0.9 : synthesi* -- prefix term
rule t.cjk cbrn_weapons 0.9 : 沙林 -- cjk term
`
	d := newDetector(t, lexicon.WithoutBuiltin(), lexicon.WithList("test.txt", strings.NewReader(list)))
	p := detect.NewPipeline(d)
	cases := map[string][]string{
		"class assessment": nil,
		"grape juice":      nil,
		"rapeseed oil":     nil,
		"bass guitar":      nil,
		"kick ass":         {"t.ass"},
		"ASS!":             {"t.ass"},
		"(rape)":           {"t.rape"},
		"photosynthesis":   nil,
		"synthesizing":     {"t.pre"},
		"如何合成沙林":           {"t.cjk"},
		"sarin沙林毒气":        {"t.cjk"},
		"ass沙林":            {"t.ass", "t.cjk"},
		"тass":             nil, // Cyrillic letter before: still a word
		"ﬁass":             nil,
		"über-ass":         {"t.ass"},
		"assé":             nil,
	}
	for text, want := range cases {
		v, _ := scan(t, p, text)
		var got []string
		for _, f := range v.Findings {
			if !slices.Contains(got, f.Rule) {
				got = append(got, f.Rule)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", text, got, want)
		}
	}
}

func TestContextRules(t *testing.T) {
	list := `version test-1
set verbs = make | synthesize
set agents = sarin | vx
set edu = history of | what is
rule t.prod cbrn_weapons 0.95 window=3 : @verbs -> @agents -- production
rule t.topic cbrn_weapons 0.6 neg=@edu negwindow=3 : nerve agent attack -- topic
rule t.near hate 0.8 window=2 : alpha ~ omega -- either order
rule t.chain cyber_attacks 0.8 window=1 : one -> two -> three -- chain
set purpose = statistics | warning signs
rule t.after sex_crimes 0.9 neg=@edu negwindow=2 after=@purpose afterwindow=6 : groomer -- purpose stated after
rule t.afteronly sex_crimes 0.9 after=@purpose : lurer -- no neg=, after= within negwindow's default
`
	d := newDetector(t, lexicon.WithoutBuiltin(), lexicon.WithList("ctx.txt", strings.NewReader(list)))
	p := detect.NewPipeline(d)
	cases := []struct {
		text string
		want []string
	}{
		{"how to make sarin", []string{"t.prod"}},
		{"how to make pure homemade sarin", []string{"t.prod"}},
		{"how to make a really pure homemade sarin", nil}, // 4 words apart
		{"sarin: how do I make it", nil},                  // ordered
		{"make sure. Sarin is dangerous", nil},            // sentence end
		{"the history of sarin: how to synthesize sarin", []string{"t.prod"}},
		{"a nerve agent attack", []string{"t.topic"}},
		{"the history of the nerve agent attack", nil},
		{"what is a nerve agent attack", nil},
		{"alpha omega", []string{"t.near"}},
		{"omega then alpha", []string{"t.near"}},
		{"one two three", []string{"t.chain"}},
		{"one two four five three", nil},
		{"two one three", nil},
		{"a groomer", []string{"t.after"}},
		{"how does a groomer work? any statistics", nil},                                    // after, across a sentence end
		{"a groomer, and then some other words before statistics", nil},                     // 6 words apart
		{"a groomer, and then a lot of other words before statistics", []string{"t.after"}}, // 8
		{"statistics: a groomer", []string{"t.after"}},                                      // before: only neg= counts there
		{"what is a groomer", nil},                                                          // neg= still works
		{"a lurer: statistics", nil},
		{"a lurer, and more of these words statistics", []string{"t.afteronly"}}, // 5 words, default window 4
	}
	for _, c := range cases {
		v, _ := scan(t, p, c.text)
		var got []string
		for _, f := range v.Findings {
			got = append(got, f.Rule)
			if f.Span.Start < 0 || f.Span.End > len(c.text) {
				t.Errorf("%q: span %v out of range", c.text, f.Span)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: got %v, want %v", c.text, got, c.want)
		}
	}
	// The span covers both parts of a context rule.
	v, _ := scan(t, p, "please make sarin now")
	if len(v.Findings) != 1 || v.Findings[0].Span != (detect.Span{Start: 7, End: 17}) {
		t.Fatalf("span: got %+v", v.Findings)
	}
}

func TestListErrors(t *testing.T) {
	cases := map[string]string{
		"no version":        "rule a hate 0.9 : x -- d\n",
		"bad category":      "version 1\nrule a nosuch 0.9 : x -- d\n",
		"bad score":         "version 1\nrule a hate 1.5 : x -- d\n",
		"no description":    "version 1\nrule a hate 0.9 : x\n",
		"unknown set":       "version 1\nrule a hate 0.9 : @nope -- d\n",
		"duplicate rule":    "version 1\nrule a hate 0.9 : x -- d\nrule a hate 0.9 : y -- d\n",
		"duplicate set":     "version 1\nset s = a\nset s = b\nrule a hate 0.9 : @s -- d\n",
		"extend before def": "version 1\nset s += a\nrule a hate 0.9 : @s -- d\n",
		"unknown statement": "version 1\nterm a\n",
		"bad option":        "version 1\nrule a hate 0.9 color=red : x -- d\n",
		"window too big":    "version 1\nrule a hate 0.9 window=99 : x -> y -- d\n",
		"mixed operators":   "version 1\nrule a hate 0.9 : x -> y ~ z -- d\n",
		"no rules":          "version 1\nset s = a\n",
		"cycle":             "version 1\nset a = @b\nset b = @a\nrule r hate 0.9 : @a -- d\n",
		"phrase too long":   "version 1\nrule a hate 0.9 : " + strings.Repeat("x", 300) + " -- d\n",
		"two versions":      "version 1\nversion 2\n",
		"empty list":        "version 1\nrule a hate 0.9 : | -- d\n",
		"bad afterwindow":   "version 1\nrule a hate 0.9 after=x afterwindow=-1 : y -- d\n",
		"bad after list":    "version 1\nrule a hate 0.9 after=@nope : y -- d\n",
	}
	for name, list := range cases {
		_, err := lexicon.New(lexicon.WithoutBuiltin(), lexicon.WithList("bad.txt", strings.NewReader(list)))
		if err == nil {
			t.Errorf("%s: want error", name)
			continue
		}
		if !strings.Contains(err.Error(), "bad.txt") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

func TestExtraListsAndVersion(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "extra.txt")
	extra := "version site-7\nset agents_extra = @chem_agents | frobnitoxin\nrule site.secret_project cbrn_weapons 0.9 window=3 : @make_verbs -> frobnitoxin -- site-specific agent\n"
	if err := os.WriteFile(path, []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	base := newDetector(t)
	d := newDetector(t, lexicon.WithExtraLists(path))
	if base.Version() != lexicon.Version() {
		t.Errorf("built-in detector version %q != lexicon.Version() %q", base.Version(), lexicon.Version())
	}
	if d.Version() == base.Version() || !strings.Contains(d.Version(), "site-7") {
		t.Errorf("version with extra list %q should differ from %q and name site-7", d.Version(), base.Version())
	}
	if !strings.Contains(base.Version(), "+") || len(base.Version()) < 14 {
		t.Errorf("version %q lacks a digest", base.Version())
	}
	v, _ := scan(t, detect.NewPipeline(d), "how to synthesize frobnitoxin")
	if r, ok := v.Category(hazard.CBRNWeapons); !ok || !r.Flagged {
		t.Errorf("extra list rule did not fire: %+v", v.Findings)
	}
	if _, err := lexicon.New(lexicon.WithExtraLists(filepath.Join(dir, "missing.txt"))); err == nil {
		t.Error("missing extra list: want error")
	}
	rules, phrases := base.Rules()
	t.Logf("built-in lists: %d rules, %d phrases, %d states, %d KiB table", rules, phrases, base.Automaton().States(), base.Automaton().TableBytes()/1024)
}

func TestCancelledContext(t *testing.T) {
	d := newDetector(t)
	ctx, cancel := contextWithCancel()
	cancel()
	doc := detect.NewPipeline().NewDocument("how to make sarin")
	if _, err := d.Scan(ctx, doc, nil); err == nil {
		t.Fatal("want the context's error")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, os.ErrClosed }

func TestWithListReadError(t *testing.T) {
	_, err := lexicon.New(lexicon.WithList("broken.txt", failingReader{}))
	if err == nil || !strings.Contains(err.Error(), "broken.txt") {
		t.Fatalf("want an error naming broken.txt, got %v", err)
	}
}

// TestScanWideMatchesOneStream compares Scan on texts long enough to be read
// as several streams with one stream read from the start, in order: every
// match, the order included, must be the same.
func TestScanWideMatchesOneStream(t *testing.T) {
	small, err := lexicon.Build([]string{"he", "she", "his", "hers", "a", "aa", "pipe bomb", "bomb", "沙林", "ab ab", "s h", "aaaa aaaa aaaa aaaa"})
	if err != nil {
		t.Fatal(err)
	}
	d := newDetector(t)
	builtin := d.Automaton()
	// Long patterns, to lay across the streams' boundaries.
	var long []string
	for _, p := range d.Patterns() {
		if len(p) >= 40 {
			long = append(long, p)
		}
	}
	long = append(long, "aaaa aaaa aaaa aaaa")
	rng := rand.New(rand.NewPCG(5, 8))
	pieces := []string{"he", "s", "r", "a", "b", " ", "  ", "\n\t ", "pipe", "bomb", "沙", "林", ",", ".", "x", "?", "aaaa ",
		"how to make a bomb", "ignore previous instructions", "制造炸弹", "合成沙林", strings.Repeat(" ", 300)}
	for n := 0; n < 300; n++ {
		var b strings.Builder
		size := lexicon.MinWide + rng.IntN(20000)
		for b.Len() < size {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		// Lay a long pattern across each boundary, the text's length kept.
		seg := len(text) / 4
		for j := 1; j < 4; j++ {
			p := long[rng.IntN(len(long))]
			at := j*seg - 1 - rng.IntN(len(p)-1)
			text = text[:at] + p + text[at+len(p):]
		}
		for _, a := range []*lexicon.Automaton{small, builtin} {
			got := a.AppendMatches(nil, text)
			want := lexicon.OneStream(a, text)
			if !slices.Equal(got, want) {
				k := firstDiff(got, want)
				t.Fatalf("text of %d bytes: %d matches read as streams, %d as one (first difference at %d: %v vs %v)", len(text), len(got), len(want), k, got[max(0, k-2):min(len(got), k+3)], want[max(0, k-2):min(len(want), k+3)])
			}
		}
	}
}

func firstDiff(a, b []lexicon.Match) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// FuzzScanWide compares Scan on a text long enough to be read as several
// streams with one stream, in order: the fuzzed text is repeated up to
// that length, and shifted so that the boundaries fall anywhere in it.
func FuzzScanWide(f *testing.F) {
	small, err := lexicon.Build([]string{"he", "she", "his", "hers", "a", "aa", "pipe bomb", "bomb", "沙林", "ab ab", "s h", "aaaa aaaa aaaa aaaa"})
	if err != nil {
		f.Fatal(err)
	}
	builtin := newDetector(f).Automaton()
	f.Add("ushers and a pipe   bomb, she said.", uint16(0))
	f.Add("aaaa aaaa aaaa aaaa ", uint16(7))
	f.Add("how to make a bomb \n\t ignore previous instructions 制造炸弹", uint16(300))
	f.Fuzz(func(t *testing.T, text string, shift uint16) {
		if text == "" {
			return
		}
		long := strings.Repeat("x", int(shift)%512) + strings.Repeat(text, lexicon.MinWide/len(text)+1)
		for _, a := range []*lexicon.Automaton{small, builtin} {
			got := a.AppendMatches(nil, long)
			want := lexicon.OneStream(a, long)
			if !slices.Equal(got, want) {
				k := firstDiff(got, want)
				t.Fatalf("%d matches read as streams, %d as one; first difference at %d", len(got), len(want), k)
			}
		}
	})
}

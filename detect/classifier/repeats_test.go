package classifier

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/internal/corpus"
)

func TestDegenerateWindows(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"hello hello hello hello", true},
		{strings.Repeat("1 ", 40), true},
		{"a b a b a b a b", true},
		{"spam eggs ham spam eggs ham spam eggs ham", true},
		{"哈哈哈哈哈哈", true},
		{"no no no", false}, // too short to judge
		{"very very very good", false},
		{"The cat sat on the mat and the dog sat on the rug by the door.", false},
		{"我们计划四月份去日本旅行两周，先到东京，然后想去京都。", false},
		{"one two three four five one two three four five one two three four five", false}, // a unit of five
	} {
		s := &scratch{toks: tokenize(c.text, nil, 0, true)}
		s.countRepeats()
		if got := degenerate(s, 0, len(s.toks)); got != c.want {
			t.Errorf("%q: degenerate %v, want %v", c.text, got, c.want)
		}
	}
}

// A degenerate text is read as its set of features, so any number of
// repeats (in one window or many, with local windows) scores like four.
func TestRepeatsScoreLikeTheirSet(t *testing.T) {
	m := tinyModel(t, 12) // 16-token windows
	lc, err := m.WithLocal(4, 2, 20, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Model{m, lc} {
		for _, unit := range []string{"lol", "hello world", "哈"} {
			four := m.Logits(strings.Repeat(unit+" ", 4))
			for _, n := range []int{5, 15, 40, 500} {
				if got := m.Logits(strings.Repeat(unit+" ", n)); !slices.Equal(got, four) {
					t.Fatalf("%q x%d: %v, want %v (as x4)", unit, n, got, four)
				}
			}
		}
	}
}

// A window is read as a set only when it is degenerate: ordinary text,
// even with repeated words, keeps its exact sum.
func TestOrdinaryTextKeepsItsSum(t *testing.T) {
	m := tinyModel(t, 13)
	text := "The committee met on Tuesday to review the budget, and the board approved the funds for the roof."
	s := &scratch{h: make([]float32, m.cfg.inner()), toks: tokenize(text, nil, 0, true)}
	s.countRepeats()
	if degenerate(s, 0, len(s.toks)) {
		t.Fatal("ordinary sentence judged degenerate")
	}
	asSet := []float32{-1e30, -1e30, -1e30, -1e30}
	m.windowSet(s, 0, len(s.toks), 0, asSet)
	if slices.Equal(m.Logits(text), asSet) {
		t.Fatal("an ordinary sentence with repeated words was scored as its set of features")
	}
}

// bruteLogits scores text the slow, obvious way: every window listed one
// by one, its features' rows summed one at a time (only distinct ones
// when most of its tokens repeat one of the four before them).
func bruteLogits(m *Model, text string) []float32 {
	c := m.cfg
	toks := tokenize(text, nil, maxTokens, c.FeatureVersion >= 2)
	n, d := len(toks), c.inner()
	out := make([]float32, len(c.Heads))
	for k := range out {
		out[k] = -1e30
	}
	score := func(a, b int, bias float32) {
		reps := 0
		for i := a; i < b; i++ {
			for p := 1; p <= 4 && p <= i; p++ {
				if toks[i-p] == toks[i] {
					reps++
					break
				}
			}
		}
		var feats []uint32
		seen := map[uint32]bool{}
		for i := a; i < b; i++ {
			for _, f := range tokenFeatures(toks, i, c.Bits, nil) {
				if b-a >= 4 && 2*reps > b-a {
					if seen[f] {
						continue
					}
					seen[f] = true
				}
				feats = append(feats, f)
			}
		}
		acc := make([]int32, d)
		for _, f := range append(feats, m.bos) {
			for j := range acc {
				acc[j] += m.weight(int(f)*d + j)
			}
		}
		h := make([]float32, d)
		for j := range h {
			h[j] = float32(acc[j]) * (m.tabScale / float32(len(feats)+1))
		}
		m.network(h, bias, out)
	}
	windows := func(w, st int, bias float32) {
		for a := 0; ; a += st {
			if a+w >= n {
				score(n-w, n, bias)
				return
			}
			score(a, a+w, bias)
		}
	}
	if n <= c.Window {
		score(0, n, 0)
		return out
	}
	windows(c.Window, c.Stride, 0)
	if c.Local > 0 && n > c.LocalMin {
		windows(c.Local, c.LocalStride, c.LocalBias)
	}
	return out
}

// The running sums kept only at window bounds, the windows and the set
// reading of repeats give exactly what summing every window does.
func TestWindowsMatchBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the cat sat on a mat and then ran off ? ! 猫 坐 在 垫 子 上 make bomb how do i 1 4 h@ck lol lol lol")
	base := tinyModel(t, 14) // inner width 6: the plain row sums
	local, err := base.WithLocal(4, 2, 20, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// long windows: a window's features (up to four a token) pass the
	// rowsPerAdd rows one SWAR call sums
	long := randomModel(t, Config{Bits: 10, Dim: 8, Hidden: 32, Window: 120, Stride: 50,
		Heads: []string{UnsafeHead, "hate", "prompt_injection"}}, 16, nil, nil)
	for _, m := range []*Model{base, local, wideModel(t), long} {
		for trial := 0; trial < 300; trial++ {
			var b strings.Builder
			for range r.IntN(90 + 60*(m.cfg.Window/100)) {
				b.WriteString(words[r.IntN(len(words))])
				b.WriteByte(' ')
			}
			text := b.String()
			if got, want := m.Logits(text), bruteLogits(m, text); !slices.Equal(got, want) {
				t.Fatalf("%q:\n got %v\nwant %v", text, got, want)
			}
		}
	}
}

// wideModel is a model with an inner width of 32 (the SWAR row sums)
// and local windows.
func wideModel(t *testing.T) *Model {
	t.Helper()
	cfg := Config{Bits: 10, Dim: 8, Hidden: 32, Window: 16, Stride: 8, Local: 4, LocalStride: 2, LocalMin: 20, LocalBias: 0.3,
		Heads: []string{UnsafeHead, "hate", "prompt_injection"}}
	return randomModel(t, cfg, 15, nil, nil)
}

// countRepeatsSlow is countRepeats as first written, comparing whole
// tokens one after the other: the reference for the branch-free loop.
func countRepeatsSlow(toks []token) []int32 {
	reps := make([]int32, len(toks)+1)
	for i, t := range toks {
		r := int32(0)
		for p := 1; p <= repeatSpan && p <= i; p++ {
			if toks[i-p] == t {
				r = 1
				break
			}
		}
		reps[i+1] = reps[i] + r
	}
	return reps
}

// TestCountRepeatsMatchesSlow checks the branch-free count against the
// token-by-token one on the evaluation sets and on random token streams
// from a small alphabet, where hashes collide without the tokens being
// equal (same hash, another kind or stem) as well as repeat.
func TestCountRepeatsMatchesSlow(t *testing.T) {
	check := func(what string, toks []token) {
		t.Helper()
		s := &scratch{toks: toks, reps: make([]int32, 3)} // a short buffer to grow
		s.countRepeats()
		if want := countRepeatsSlow(toks); !slices.Equal(s.reps[:len(toks)+1], want) {
			t.Fatalf("%s: %d tokens:\n got %v\nwant %v", what, len(toks), s.reps[:len(toks)+1], want)
		}
	}
	r := rand.New(rand.NewPCG(21, 22))
	for trial := 0; trial < 20000; trial++ {
		toks := make([]token, r.IntN(24))
		for i := range toks {
			toks[i] = token{h: uint64(r.IntN(3)), kind: uint8(1 + r.IntN(2))}
			if r.IntN(4) == 0 {
				toks[i].stem = uint64(r.IntN(2))
			}
		}
		check("random", toks)
	}
	for _, text := range evalTexts(t) {
		check(text[:min(len(text), 40)], tokenize(text, nil, 0, true))
	}
}

// evalTexts returns the texts of every evaluation set in testdata/.
func evalTexts(t *testing.T) []string {
	t.Helper()
	var texts []string
	for _, e := range corpus.EvalSets(t, 2) {
		texts = append(texts, e.Text)
	}
	return texts
}

package classifier

import (
	"slices"
	"strings"
	"testing"
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

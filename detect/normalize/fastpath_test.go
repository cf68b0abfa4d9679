package normalize

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestPlainRunsFoldAsRunes checks the fold's copying of plain CJK runs
// against folding the same text rune by rune: the same text, the same
// mapping to the original and the same reshaping, on random mixtures of
// what such runs meet (Han, CJK punctuation and quotes beside ASCII,
// combining marks, kana with sound marks, full-width and compatibility
// characters, invisible characters).
func TestPlainRunsFoldAsRunes(t *testing.T) {
	pieces := []string{"中", "文", "。", "、", "《", "》", "【", "〩", "〪", "\u3000", "〶", "‘", "’", "“", "”", "…",
		"か", "\u3099", "\u0301", "\u200b", "\ufe0f", "ｂ", "，", "①", "a", "B", "7", " ", ".", "ё", "е", "\xe3\x80", "\xe2"}
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 20000; trial++ {
		var b strings.Builder
		for n := r.IntN(12); n >= 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		text := b.String()
		fast, slow := folder{track: true}, folder{track: true, slow: true}
		ft, fc := fast.fold(text)
		st, sc := slow.fold(text)
		if ft != st || fc != sc || fast.reshaped != slow.reshaped {
			t.Fatalf("%q: fast %q (%v, reshaped %v), rune by rune %q (%v, reshaped %v)", text, ft, fc, fast.reshaped, st, sc, slow.reshaped)
		}
		// Combining marks after a plain character are normalized as a
		// segment of their own by the fast path, with the character
		// mapped on its own (a finer mapping than the rune-by-rune
		// fold's block over both): compare mappings without marks.
		marks := strings.ContainsAny(text, "\u3099\u0301\u302a")
		if fc && !marks && !reflect.DeepEqual(fast.m.finish(len(ft), len(text)), slow.m.finish(len(st), len(text))) {
			t.Fatalf("%q (% x): the mappings differ: %v vs %v", text, text, fast.m.finish(len(ft), len(text)), slow.m.finish(len(st), len(text)))
		}
	}
}

package classifier

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// featuresOneByOne is the features loop as logits ran it before
// appendFeatures: tokenFeatures token by token.
func featuresOneByOne(toks []token, bits uint, dst []uint32, counts []int32) []uint32 {
	for i := range toks {
		dst = tokenFeatures(toks, i, bits, dst)
		counts[i+1] = int32(len(dst))
	}
	return dst
}

// checkAppendFeatures compares appendFeatures with tokenFeatures token by
// token on toks, appending after a few features already in dst: over all
// the tokens in one call, and in blocks of every size up to 5 tokens, as
// logits calls it.
func checkAppendFeatures(t *testing.T, what string, toks []token, bits uint, pre int) {
	t.Helper()
	head := make([]uint32, pre, pre+1)
	for i := range head {
		head[i] = uint32(i) + 7
	}
	wantCounts := make([]int32, len(toks)+1)
	want := featuresOneByOne(toks, bits, append([]uint32(nil), head...), wantCounts)
	for block := 0; block <= 5; block++ {
		gotCounts := make([]int32, len(toks)+1)
		var got []uint32
		if block == 0 {
			got = appendFeatures(toks, 0, len(toks), bits, slices.Clip(head), gotCounts)
		} else {
			got = slices.Clip(head)
			for from := 0; from < len(toks); from += block {
				got = appendFeatures(toks, from, min(from+block, len(toks)), bits, got, gotCounts)
			}
		}
		if !slices.Equal(got, want) || !slices.Equal(gotCounts[1:], wantCounts[1:]) {
			t.Fatalf("%s (%d tokens, %d bits, blocks of %d):\n got %v %v\nwant %v %v", what, len(toks), bits, block, got, gotCounts, want, wantCounts)
		}
	}
}

// TestAppendFeaturesMatchesTokenFeatures checks the whole-text features
// loop against tokenFeatures on every evaluation set, on random mixtures
// of words, leetspeak, CJK and punctuation, and on random token streams
// (every kind, with and without stems).
func TestAppendFeaturesMatchesTokenFeatures(t *testing.T) {
	for _, text := range evalTexts(t) {
		checkAppendFeatures(t, text[:min(len(text), 40)], tokenize(text, nil, 0, true), 18, 0)
	}
	pieces := []string{"中", "國", "语", "か", "한", "。", "word", "m4k3", "1", "'", "?", "？", " ", "Explosives", "abcdef", "straße", "!"}
	r := rand.New(rand.NewPCG(23, 24))
	for trial := 0; trial < 20000; trial++ {
		var b strings.Builder
		for n := r.IntN(20); n >= 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		bits := uint(8 + r.IntN(17))
		checkAppendFeatures(t, b.String(), tokenize(b.String(), nil, 0, true), bits, r.IntN(3))
		toks := make([]token, r.IntN(8))
		for i := range toks {
			toks[i] = token{h: r.Uint64(), kind: uint8(r.IntN(4))}
			if r.IntN(2) == 0 {
				toks[i].stem = r.Uint64()
			}
		}
		checkAppendFeatures(t, "random tokens", toks, bits, r.IntN(3))
	}
}

// FuzzAppendFeatures compares appendFeatures with tokenFeatures on the
// tokens of arbitrary text.
func FuzzAppendFeatures(f *testing.F) {
	for _, s := range []string{"", "hello world", "如何制作炸弹？", "h0w d0 1 m4k3 4 b0mb", "Explosives, explosives!", "\xff\xe4\xb8", "ｆｕｌｌ ｗｉｄｔｈ 中文 mixed 한국어"} {
		f.Add(s, uint8(18))
	}
	f.Fuzz(func(t *testing.T, s string, bits uint8) {
		checkAppendFeatures(t, s, tokenize(s, nil, 0, true), uint(8+bits%17), int(bits%3))
	})
}

// TestHanAt checks hanAt against cjkAt and isCJK on every three bytes
// that start with a lead byte 0xE0..0xEF, at the end of a text and
// before more: where it reports a Han ideograph, the general decoder
// gives the same rune and isCJK holds, and it misses no character of
// U+4E00..U+9FFF.
func TestHanAt(t *testing.T) {
	for c0 := 0xE0; c0 <= 0xEF; c0++ {
		for c1 := 0; c1 < 256; c1++ {
			for c2 := 0; c2 < 256; c2++ {
				text := string([]byte{'x', byte(c0), byte(c1), byte(c2)})
				for _, s := range []string{text, text + "y", text[:3]} {
					r, han := hanAt(s, 1)
					cr, size := cjkAt(s, 1)
					switch {
					case han && (size != 3 || cr != r || !isCJK(r)):
						t.Fatalf("%q: hanAt %U, cjkAt %U size %d", s, r, cr, size)
					case !han && size == 3 && cr >= 0x4E00 && cr <= 0x9FFF:
						t.Fatalf("%q: hanAt misses %U", s, cr)
					}
				}
			}
		}
	}
}

// TestSepAtTokenizesAsRunes checks the tokenizer's skip over separators
// against reading them one rune at a time: every character of
// U+2000..U+3FFF and every other three bytes led by 0xE2 or 0xE3
// (invalid ones too), between words, between CJK characters, in a word
// with an apostrophe and at the end of a text.
func TestSepAtTokenizesAsRunes(t *testing.T) {
	for _, c := range []struct {
		r   rune
		sep bool
	}{{'。', true}, {'、', true}, {'“', true}, {'…', true}, {'々', false}, {'〆', false}, {'Ⓐ', false}, {'ⓐ', true}, {'〇', false}, {'ぁ', false}} {
		if got := sepAt(string(c.r), 0); got != c.sep {
			t.Errorf("sepAt(%q) = %v, want %v", c.r, got, c.sep)
		}
	}
	for c0 := 0xE2; c0 <= 0xE3; c0++ {
		for c1 := 0x70; c1 < 0xD0; c1++ {
			for c2 := 0x70; c2 < 0xD0; c2++ {
				x := string([]byte{byte(c0), byte(c1), byte(c2)})
				for _, text := range []string{"ab" + x + "cd", "中" + x + "國", "don" + x + "'t", "m4k3" + x, x + "x", x, x[:2]} {
					for _, simplify := range []bool{false, true} {
						got := tokenizeRuns(text, nil, 0, simplify, true)
						want := tokenizeRuns(text, nil, 0, simplify, false)
						if !slices.Equal(got, want) {
							t.Fatalf("%q (simplify %v):\n got %v\nwant %v", text, simplify, got, want)
						}
					}
				}
			}
		}
	}
}

// TestASCIISepTokenizesAsRunes checks the tokenizer's skip over ASCII
// separators against reading them one rune at a time: every ASCII byte
// between words, after leetspeak, inside a contraction, between CJK
// characters, doubled and at either end of a text.
func TestASCIISepTokenizesAsRunes(t *testing.T) {
	for _, c := range []struct {
		b   byte
		sep bool
	}{{' ', true}, {',', true}, {'.', true}, {'\n', true}, {'-', true}, {'a', false}, {'Z', false}, {'7', false}, {'@', false}, {'$', false}, {'\'', false}, {'?', false}, {'"', false}, {0x80, false}} {
		if asciiSep[c.b] != c.sep {
			t.Errorf("asciiSep[%q] = %v, want %v", c.b, asciiSep[c.b], c.sep)
		}
	}
	for c := 0; c < 0x80; c++ {
		x := string(rune(c))
		for _, text := range []string{"ab" + x + "cd", "m4k3" + x + "b0mb", "don" + x + "t", "中" + x + "國", x + x + "word", "word" + x, x, "1" + x + "4"} {
			for _, simplify := range []bool{false, true} {
				got := tokenizeRuns(text, nil, 0, simplify, true)
				want := tokenizeRuns(text, nil, 0, simplify, false)
				if !slices.Equal(got, want) {
					t.Fatalf("%q (simplify %v):\n got %v\nwant %v", text, simplify, got, want)
				}
			}
		}
	}
}

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

// base64TokensByteByByte is base64Tokens as it was before it jumped from
// one mixed byte to the next: every run of base64 bytes read in turn.
func base64TokensByteByByte(src string, rg region, fn func(s, e int)) {
	i := rg.start
	for i < rg.end {
		if classes[src[i]]&(cB64Std|cB64URL) == 0 {
			i++
			continue
		}
		s := i
		for i < rg.end && classes[src[i]]&(cB64Std|cB64URL) != 0 {
			i++
		}
		e := i
		for i < rg.end && i-e < 2 && src[i] == '=' {
			i++
		}
		if i < rg.end && src[i] == '=' {
			continue
		}
		if i-s < 8 || e-s < 6 || !base64Mixed(src[s:e]) {
			continue
		}
		if e-s < 16 && hyphenatedWord(src[s:e]) {
			continue
		}
		fn(s, i)
	}
}

// checkBase64Tokens compares base64Tokens with the byte-by-byte search on
// text, whole and in a region that cuts it.
func checkBase64Tokens(t *testing.T, text string) {
	t.Helper()
	for _, rg := range []region{{0, len(text)}, {len(text) / 3, len(text) - len(text)/5}} {
		var got, want [][2]int
		base64Tokens(text, rg, func(s, e int) { got = append(got, [2]int{s, e}) })
		base64TokensByteByByte(text, rg, func(s, e int) { want = append(want, [2]int{s, e}) })
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("base64 tokens of %q in %v: got %v, want %v", text, rg, got, want)
		}
	}
}

// TestBase64TokensMatchByteByByte checks the jumping search on random
// mixtures of base64, padding, words, digits, symbols and other scripts.
func TestBase64TokensMatchByteByByte(t *testing.T) {
	parts := []string{"aGVsbG8gd29ybGQ=", "Zm9v", "==", "=", "===", "the", "Quick-Curl", "snake_case_name", "A", "z", "9", "+", "/", "-", "_",
		" ", "\n", ".", ",", "+/+/", "QUJD", "ü", "好", "abcdefgh", "ABCDEFGH", "abc1defg", "xY", "@", "\x80", "\xff"}
	r := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		var b strings.Builder
		for k := r.IntN(40); k >= 0; k-- {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		checkBase64Tokens(t, b.String())
	}
}

// FuzzBase64Tokens compares the two searches on arbitrary text.
func FuzzBase64Tokens(f *testing.F) {
	for _, s := range []string{"", "aGVsbG8gd29ybGQ=", "The Quick-Curl 0123456789 ab+/cd==", "x===y", "中文aGVsbG8gd29ybGQ=中文"} {
		f.Add(s)
	}
	f.Fuzz(checkBase64Tokens)
}

// leetByteByByte is leet as it was before it jumped from one digit or
// leet symbol to the next: every token read in turn.
func leetByteByByte(src string, one byte) (string, bool, bool) {
	var out []byte
	sawOne := false
	words := 0
	// digitWords holds the offsets of two-digit tokens that read as words
	// ("15" as "is", "70" as "to"): in text that is itself leetspeak they
	// are words too, and are read as such when two or more other words
	// were.
	var digitWords [][2]int
	i := 0
	for i < len(src) {
		if c := src[i]; leetKind[c] == 0 {
			if c >= 0x80 {
				i = skipHigh(src, i, len(src))
			} else {
				i++
			}
			continue
		}
		s := i
		var kinds byte
		for i < len(src) && leetKind[src[i]] != 0 {
			kinds |= leetKind[src[i]]
			i++
		}
		if kinds == kLetter {
			continue // a plain word, the common case
		}
		var next byte
		if i < len(src) {
			next = src[i]
		}
		tok := src[s:i]
		if leetDigitWord(tok, next) {
			digitWords = append(digitWords, [2]int{s, i})
			continue
		}
		if !leetQualifies(tok, next) || !plausibleWord(tok, 'i') && !plausibleWord(tok, 'l') {
			continue
		}
		if out == nil {
			out = []byte(src)
		}
		words++
		sawOne = leetWrite(out, s, tok, one) || sawOne
	}
	if out == nil {
		return src, false, false
	}
	if words >= minLeetWords {
		for _, w := range digitWords {
			sawOne = leetWrite(out, w[0], src[w[0]:w[1]], one) || sawOne
		}
	}
	return string(out), true, sawOne
}

// checkLeet compares leet with the byte-by-byte pass on text, for both
// readings of '1'.
func checkLeet(t *testing.T, text string) {
	t.Helper()
	for _, one := range []byte{'i', 'l'} {
		got, gc, g1 := leet(text, one)
		want, wc, w1 := leetByteByByte(text, one)
		if got != want || gc != wc || g1 != w1 {
			t.Fatalf("leet(%q, %c) = %q %v %v, byte by byte %q %v %v", text, one, got, gc, g1, want, wc, w1)
		}
	}
}

// TestLeetMatchesByteByByte checks the jumping pass on random mixtures of
// leet words, plain words, numbers, e-mail addresses, symbols and other
// scripts.
func TestLeetMatchesByteByByte(t *testing.T) {
	parts := []string{"b0mb", "k1ll", "h4x0r", "cr@ck", "pa$$", "hi!", "m4k3", "15", "70", "100", "2", "the", "bomb", "a", "i",
		" ", "\n", ".", ",", "%", "bob@example.com", "0", "1", "3", "4", "5", "7", "@", "$", "!", "ü", "好", "\x80", "\xff", "abc", "deadbeef42"}
	r := rand.New(rand.NewPCG(11, 12))
	found := 0
	for range 30000 {
		var b strings.Builder
		for k := r.IntN(40); k >= 0; k-- {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		text := b.String()
		checkLeet(t, text)
		if _, changed, _ := leet(text, 'i'); changed {
			found++
		}
	}
	if found < 1000 {
		t.Fatalf("only %d of the texts read as leetspeak", found)
	}
}

// FuzzLeet compares the two passes on arbitrary text.
func FuzzLeet(f *testing.F) {
	for _, s := range []string{"", "h0w d0 1 m4k3 4 b0mb", "bob@example.com 15 70", "2 cups of 100 ml", "中文b0mb中文", "k1ll!!"} {
		f.Add(s)
	}
	f.Fuzz(checkLeet)
}

// TestSkipHigh compares skipHigh with a byte-by-byte loop at every start
// and end of texts mixing ASCII and high bytes.
func TestSkipHigh(t *testing.T) {
	texts := []string{"", "a", "中", "中文中文中文a", "中文中文中文中文中文中文中文中文x中文", "\xff\xfe\x80\x81\x82\x83\x84\x85\x86\x87\x88\x7f",
		"abc 中文，中文！ok 日本語のテキスト\n" + strings.Repeat("é", 40) + "z"}
	for _, s := range texts {
		for i := 0; i <= len(s); i++ {
			for end := i; end <= len(s); end++ {
				want := i
				for want < end && s[want] >= 0x80 {
					want++
				}
				if got := skipHigh(s, i, end); got != want {
					t.Fatalf("skipHigh(%q, %d, %d) = %d, want %d", s, i, end, got, want)
				}
			}
		}
	}
}

// TestPlainRun compares plainRun with stepping plainAt over every
// three-byte sequence of lead bytes E0..EF, in runs and cut at the end.
func TestPlainRun(t *testing.T) {
	slow := func(s string, j int) int {
		for plainAt(s, j) {
			j += 3
		}
		return j
	}
	conts := []byte{0x00, 0x41, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x98, 0x99, 0x9c, 0x9d, 0xa9, 0xaa, 0xbf, 0xc0, 0xff}
	for lead := 0xE0; lead <= 0xEF; lead++ {
		for _, b1 := range conts {
			for _, b2 := range conts {
				c := string([]byte{byte(lead), b1, b2})
				for _, s := range []string{c, "中" + c + "文", "中文" + c, c + "中文中", "中" + c[:2], "、" + c + "“中"} {
					for j := 0; j <= len(s); j++ {
						if got, want := plainRun(s, j), slow(s, j); got != want {
							t.Fatalf("plainRun(%q, %d) = %d, want %d", s, j, got, want)
						}
					}
				}
			}
		}
	}
}

package normalize

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// folder folds text: NFKC, lower case, removal of invisible characters and
// of combining marks piled on ASCII letters, and confusable skeletons. It
// copies lazily: text that folding leaves alone is never copied. A folder
// is reused across calls to keep its buffers.
type folder struct {
	out   []byte
	m     mapping
	seg   []byte // scratch for one NFKC segment
	track bool   // build the mapping in m
	// keepCase folds only NFKC and invisible characters, keeping case and
	// letters as they are: the text decoders look at, where "Ym9t\u200bYg=="
	// must still read as base64.
	keepCase bool
	// skeletonAll reads every look-alike letter as ASCII, even in a
	// Russian or Greek word: Canonical's behaviour, which keys
	// de-duplication and the training data split and must not move.
	skeletonAll bool
	// wordEnd and wordNative cache nativeWord for the word that ends at
	// wordEnd (src offsets), so each word is scanned once.
	wordEnd    int
	wordNative bool
	building   bool // out holds the folded prefix
	prevLetter bool // the last folded character is an ASCII letter
	// reshaped is set when folding made an ASCII letter or digit out of
	// something else, an ASCII separator beside a letter or digit, a
	// leetspeak symbol (@ $ !) beside a letter, digit or separator, or
	// removed a character between two ASCII bytes: words that leetspeak,
	// joined letters or a decoder could match may then exist only in the
	// folded text. Other changes (Chinese punctuation, "…" between Han
	// characters, the variation selector after an emoji) leave the ASCII
	// words as they were.
	reshaped bool
	// reshapeAll sets reshaped on every change that could set it, beside
	// ASCII or not (tests compare the two).
	reshapeAll bool
	// slow turns off the copying of plain CJK runs (tests compare).
	slow bool
	src  string // the text being folded
}

// reshape sets reshaped when near is true or reshapeAll is set.
func (f *folder) reshape(near bool) {
	if near || f.reshapeAll {
		f.reshaped = true
	}
}

// asciiAround reports whether the folded text so far ends in an ASCII
// byte and src[next] is ASCII: removing what lies between joins them.
func (f *folder) asciiAround(next int) bool {
	return len(f.out) > 0 && f.out[len(f.out)-1] < utf8.RuneSelf && next < len(f.src) && f.src[next] < utf8.RuneSelf
}

// sepBeside reports whether the folded text so far ends in a separator of
// spaced letters other than a space or tab, or src[next] is one.
func (f *folder) sepBeside(next int) bool {
	sep := func(c byte) bool { return c != ' ' && c != '\t' && isJoinSep(c) }
	return len(f.out) > 0 && sep(f.out[len(f.out)-1]) || next < len(f.src) && sep(f.src[next])
}

// alnumBeside reports whether the folded text so far ends in an ASCII
// letter or digit, or src[next] is one: a separator put there may join
// or split ASCII words.
func (f *folder) alnumBeside(next int) bool {
	return len(f.out) > 0 && classes[f.out[len(f.out)-1]]&cAlnum != 0 || next < len(f.src) && classes[f.src[next]]&cAlnum != 0
}

// fold returns the folded src and whether it differs from src. With track
// set, f.m maps the folded text to src.
func (f *folder) fold(src string) (string, bool) {
	f.out = f.out[:0]
	f.m.reset()
	f.building = false
	f.prevLetter = false
	f.reshaped = false
	f.src = src
	f.wordEnd = 0
	nfkcEnd := 0 // src[:nfkcEnd] is known to be NFKC
	segEnd := 0  // end of the last segment normalized by hand
	// end of the current run of non-ASCII, non-Han bytes
	stretchEnd := 0
	i := 0
	for i < len(src) {
		c := src[i]
		if c < utf8.RuneSelf {
			j := i
			if !f.building {
				for j < len(src) && src[j] < utf8.RuneSelf && (f.keepCase || src[j]-'A' >= 26) {
					j++
				}
				if j < len(src) && src[j] < utf8.RuneSelf {
					f.begin(src, j) // an upper-case letter: start copying
					i = j
					continue
				}
				f.prevLetter = isASCIILetter(src[j-1])
				i = j
				continue
			}
			for j < len(src) && src[j] < utf8.RuneSelf {
				j++
			}
			start := len(f.out)
			f.out = append(f.out, src[i:j]...)
			if !f.keepCase {
				lowerASCII(f.out[start:])
			}
			if f.track {
				f.m.lin(start, i)
			}
			f.prevLetter = isASCIILetter(src[j-1])
			i = j
			continue
		}
		if c >= 0xE2 && c <= 0xE9 && !f.slow {
			// A run of CJK unified ideographs (U+3400..U+9FFF), CJK
			// punctuation (U+3001..U+3029) and curly quotes: starters
			// that NFKC, case and skeleton all leave alone, and that
			// compose with nothing. Copy them without per-rune work.
			j := plainRun(src, i)
			if j > i {
				if f.building {
					if f.track {
						f.m.lin(len(f.out), i)
					}
					f.out = append(f.out, src[i:j]...)
				}
				f.prevLetter = false
				i = j
				continue
			}
		}
		if e := i + 3; c == 0xEF && e <= len(src) && FullWidthAt(src, i) && (e == len(src) || starterAt(src, e)) {
			// A full-width character alone in its segment (what follows
			// composes with nothing before it): no need to ask norm.
			f.segment(src, i, e)
			segEnd, i = e, e
			if nfkcEnd < e {
				nfkcEnd = e
			}
			continue
		}
		if i >= nfkcEnd {
			// A segment may start at the ASCII character before i (a base
			// letter followed by a combining mark).
			k := i
			if k > segEnd && src[k-1] < utf8.RuneSelf {
				k--
			}
			// Check only up to the next ASCII byte or Han ideograph:
			// both are starters that compose with nothing before them,
			// so a normalization boundary lies there.
			if i >= stretchEnd {
				stretchEnd = i
				for stretchEnd < len(src) && src[stretchEnd] >= utf8.RuneSelf && !hanAt(src, stretchEnd) {
					stretchEnd++
				}
			}
			n := norm.NFKC.QuickSpanString(src[k:stretchEnd])
			if k+n > i {
				nfkcEnd = k + n
			} else {
				s := k + n
				if s < i {
					// Take back the ASCII letter already folded.
					if f.building {
						f.out = f.out[:len(f.out)-1]
						f.m.truncate(len(f.out))
					}
				}
				e := s + norm.NFKC.NextBoundaryInString(src[s:], true)
				if e <= s {
					e = s + 1
				}
				f.segment(src, s, e)
				segEnd, nfkcEnd, i = e, e, e
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		f.exact(src, i, r, size)
		i += size
	}
	if !f.building {
		return src, false
	}
	return string(f.out), true
}

// FullWidthAt reports whether a full-width ASCII variant (U+FF01..U+FF5E),
// which folding reads as the ASCII character, starts at src[i].
func FullWidthAt(src string, i int) bool {
	if i+2 >= len(src) || src[i] != 0xEF {
		return false
	}
	b1, b2 := src[i+1], src[i+2]
	return b2&0xC0 == 0x80 && (b1 == 0xBC && b2 >= 0x81 || b1 == 0xBD && b2 <= 0x9E)
}

// starterAt reports whether src[i] starts a character that begins a new
// normalization segment whatever precedes it: ASCII, a Han ideograph, a
// full-width ASCII variant or CJK punctuation U+3000..U+3029.
func starterAt(src string, i int) bool {
	c := src[i]
	if c < utf8.RuneSelf {
		return true
	}
	if hanAt(src, i) || FullWidthAt(src, i) {
		return true
	}
	return c == 0xE3 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2] >= 0x80 && src[i+2] <= 0xA9
}

// hanAt reports whether a CJK unified ideograph (U+3400..U+9FFF) starts
// at src[j].
func hanAt(src string, j int) bool {
	if j+2 >= len(src) || src[j] < 0xE3 || src[j] > 0xE9 || src[j+1]&0xC0 != 0x80 || src[j+2]&0xC0 != 0x80 {
		return false
	}
	return src[j] > 0xE3 || src[j+1] >= 0x90 // U+3400 is E3 90 80
}

// plainAt reports whether a three-byte character that folding keeps as
// it is, whatever surrounds it, starts at src[j]: a Han ideograph (see
// hanAt), CJK punctuation U+3001..U+3029 or a curly quote (U+2018,
// U+2019, U+201C, U+201D).
func plainAt(src string, j int) bool {
	if hanAt(src, j) {
		return true
	}
	if j+2 >= len(src) || src[j+1] != 0x80 {
		return false
	}
	switch c2 := src[j+2]; src[j] {
	case 0xE3:
		return c2 >= 0x81 && c2 <= 0xA9
	case 0xE2:
		return c2 == 0x98 || c2 == 0x99 || c2 == 0x9C || c2 == 0x9D
	}
	return false
}

// plainRun returns the end of the run of characters plainAt accepts that
// starts at src[j] (j itself when there is none). Ideographs U+4E00..U+9FFF,
// most of Chinese text, are taken with three comparisons each.
func plainRun(src string, j int) int {
	for {
		for j+2 < len(src) {
			if src[j]-0xE4 > 0xE9-0xE4 || src[j+1]&0xC0 != 0x80 || src[j+2]&0xC0 != 0x80 {
				break
			}
			j += 3
		}
		if !plainAt(src, j) {
			return j
		}
		j += 3
	}
}

// begin starts copying: src[:p] is unchanged by folding.
func (f *folder) begin(src string, p int) {
	f.building = true
	if cap(f.out) < len(src) {
		// Folding mostly keeps or shrinks the text: one allocation
		// instead of a slice grown many times over a long text.
		f.out = make([]byte, 0, len(src)+len(src)/16)
	}
	f.out = append(f.out[:0], src[:p]...)
	if f.track && p > 0 {
		f.m.lin(0, 0)
	}
}

// exact folds the rune r found at src[i:i+size].
func (f *folder) exact(src string, i int, r rune, size int) {
	if r == utf8.RuneError && size == 1 {
		if !f.building {
			f.begin(src, i)
		}
		f.emitRune(utf8.RuneError, i, i+1, false)
		f.reshaped = true
		return
	}
	kind, to := f.foldRune(r)
	if kind == repl && to < utf8.RuneSelf && greekCyrillic(r) && !f.keepCase && !f.skeletonAll && f.nativeWord(src, i, i+size) {
		// A look-alike letter in a word written in its own script (the
		// е of "все" in a Russian sentence): lower case only. A spoofed
		// English word ("ѕех", "sеx") has no letter of that script that
		// could not pass for Latin, so it is still read as ASCII.
		if l := unicode.ToLower(r); l != r && utf8.RuneLen(l) == size {
			to = l
		} else {
			kind = keep
		}
	}
	switch kind {
	case keep:
		if f.building {
			if f.track {
				f.m.lin(len(f.out), i)
			}
			f.out = append(f.out, src[i:i+size]...)
		}
		f.prevLetter = false
	case drop:
		if !f.building {
			f.begin(src, i)
		}
		f.reshape(f.asciiAround(i + size))
	default:
		if !f.building {
			f.begin(src, i)
		}
		f.emitRune(to, i, i+size, r >= utf8.RuneSelf)
	}
}

// nativeWordScan bounds how far nativeWord looks on either side, in bytes.
const nativeWordScan = 64

// greekCyrillic reports whether r is in the Greek or Cyrillic blocks, the
// scripts whose look-alikes are also everyday letters of real text.
// Look-alikes from scripts used mostly for spoofing (Cherokee, Lisu, ...)
// are always read as ASCII.
func greekCyrillic(r rune) bool { return r >= 0x370 && r < 0x530 }

// nativeWord reports whether the word around src[s:e] (the run of letters
// and marks it belongs to, up to nativeWordScan bytes each way) holds a
// Greek or Cyrillic letter with no ASCII look-alike (и, д, λ, θ), which no
// spoof of an English word uses. The answer is kept for the rest of the
// word.
func (f *folder) nativeWord(src string, s, e int) bool {
	if s < f.wordEnd {
		return f.wordNative
	}
	native := false
	lo := max(0, s-nativeWordScan)
	for j := s; j > lo && !native; {
		r, n := utf8.DecodeLastRuneInString(src[lo:j])
		if !wordRune(r) {
			break
		}
		native = ownScriptLetter(r)
		j -= n
	}
	hi := min(len(src), e+nativeWordScan)
	j := e
	for j < hi {
		r, n := utf8.DecodeRuneInString(src[j:hi])
		if !wordRune(r) {
			break
		}
		native = native || ownScriptLetter(r)
		j += n
	}
	f.wordEnd, f.wordNative = j, native
	return native
}

// wordRune reports whether r continues a word: a letter or a combining mark.
func wordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.Is(unicode.Mn, r))
}

// ownScriptLetter reports whether r is a Greek or Cyrillic letter that
// folding would not read as an ASCII letter.
func ownScriptLetter(r rune) bool {
	if !greekCyrillic(r) || !unicode.IsLetter(r) {
		return false
	}
	return confusable(r) == 0 && confusable(unicode.ToLower(r)) == 0
}

// segment folds src[s:e], a segment that NFKC changes.
func (f *folder) segment(src string, s, e int) {
	seg := src[s:e]
	if r, size := utf8.DecodeRuneInString(seg); size == len(seg) {
		if c := preNFKC(r); c != 0 {
			f.change(src, s)
			f.emitRune(rune(c), s, e, true)
			return
		}
		// Full-width ASCII and the ideographic space, the commonest
		// compatibility characters, without a call into norm.
		if r >= 0xFF01 && r <= 0xFF5E || r == 0x3000 {
			a := r - 0xFF01 + '!'
			if r == 0x3000 {
				a = ' '
			}
			f.change(src, s)
			_, to := f.foldRune(a)
			f.emitRune(to, s, e, true)
			return
		}
	}
	f.seg = norm.NFKC.AppendString(f.seg[:0], seg)
	if string(f.seg) == seg || len(f.seg) > 4*len(seg)+8 {
		// Not changed after all, or an expansion too large to accept
		// (U+FDFA is 18 characters): fold the runes as they are.
		for k := s; k < e; {
			r, size := utf8.DecodeRuneInString(src[k:e])
			f.exact(src, k, r, size)
			k += size
		}
		return
	}
	f.change(src, s)
	if src[s] < utf8.RuneSelf {
		// An ASCII letter composed with what follows ("A\u0323" is Ạ):
		// the ASCII words of the text have changed shape.
		f.reshaped = true
	}
	for k := 0; k < len(f.seg); {
		r, size := utf8.DecodeRune(f.seg[k:])
		k += size
		kind, to := f.foldRune(r)
		switch kind {
		case keep:
			f.emitRune(r, s, e, true)
		case drop:
			f.reshape(f.asciiAround(e))
		default:
			f.emitRune(to, s, e, true)
		}
	}
}

// change starts copying at i if that has not happened yet.
func (f *folder) change(src string, i int) {
	if !f.building {
		f.begin(src, i)
	}
}

// emitRune appends r, mapped as a block onto src[o:oe]; fromOther says
// the source was not ASCII.
func (f *folder) emitRune(r rune, o, oe int, fromOther bool) {
	if f.track {
		f.m.block(len(f.out), o, oe)
	}
	if r < utf8.RuneSelf {
		c := byte(r)
		switch {
		case !fromOther:
		case classes[c]&cAlnum != 0:
			f.reshape(true)
		case isJoinSep(c):
			f.reshape(f.alnumBeside(oe))
		case c == '@' || c == '$' || c == '!':
			// leetspeak letters and units of spaced words ("！" between
			// letters, or beside a separator such as a backslash)
			f.reshape(f.alnumBeside(oe) || f.sepBeside(oe))
		}
		f.out = append(f.out, c)
		f.prevLetter = isASCIILetter(c)
		return
	}
	f.out = utf8.AppendRune(f.out, r)
	f.prevLetter = false
}

// What foldRune does with a rune.
const (
	keep = iota // unchanged
	drop        // removed
	repl        // replaced by the returned rune
)

// foldRune folds one rune that follows what f has folded so far.
func (f *folder) foldRune(r rune) (int, rune) {
	if f.keepCase {
		if r < utf8.RuneSelf || r >= 0x3040 && r < 0xA000 && r != 0x3164 || r >= 0xAC00 && r < 0xD7A4 {
			return keep, r
		}
		if invisible(r) || f.prevLetter && r >= 0x300 && unicode.In(r, unicode.Mn, unicode.Me) {
			return drop, 0
		}
		return keep, r
	}
	return foldRune(r, f.prevLetter)
}

// foldRune folds one rune; afterLetter says whether the rune follows an
// ASCII letter (so a combining mark on it is dropped).
func foldRune(r rune, afterLetter bool) (int, rune) {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return repl, r + 'a' - 'A'
		}
		return keep, r
	}
	// Han, kana and Hangul syllables have no case, no look-alikes to fold
	// and nothing invisible: the common non-Latin case costs two compares.
	if r >= 0x3040 && r < 0xA000 && r != 0x3164 || r >= 0xAC00 && r < 0xD7A4 {
		return keep, r
	}
	if invisible(r) {
		return drop, 0
	}
	if afterLetter && r >= 0x300 && unicode.In(r, unicode.Mn, unicode.Me) {
		return drop, 0
	}
	if c := confusable(r); c != 0 {
		return repl, rune(c)
	}
	if r >= 0x1F1E6 && r <= 0x1F1FF {
		// Regional indicator symbols, which render as boxed letters.
		return repl, 'a' + r - 0x1F1E6
	}
	if l := unicode.ToLower(r); l != r {
		if c := confusable(l); c != 0 {
			return repl, rune(c)
		}
		return repl, l
	}
	return keep, r
}

// preNFKC maps the look-alikes that NFKC would turn into something else
// to their letter: the parenthesized letters ⒜ and 🄐 (NFKC gives "(a)")
// and the lunate sigmas ϲ Ϲ (NFKC gives ς Σ).
func preNFKC(r rune) byte {
	switch {
	case r == 0x03F2 || r == 0x03F9:
		return 'c'
	case r >= 0x249C && r <= 0x24B5:
		return byte('a' + r - 0x249C)
	case r >= 0x1F110 && r <= 0x1F129:
		return byte('a' + r - 0x1F110)
	}
	return 0
}

// invisible reports whether r renders as nothing: zero-width characters,
// joiners, bidi controls, the soft hyphen, tag characters, variation
// selectors, fillers and other format characters.
func invisible(r rune) bool {
	switch {
	case r < 0xAD:
		return false
	case r == 0xAD, r == 0x34F, r == 0x61C, r == 0x115F, r == 0x1160,
		r == 0x17B4, r == 0x17B5, r == 0x180E, r == 0x3164, r == 0xFEFF, r == 0xFFA0:
		return true
	case r >= 0x180B && r <= 0x180F: // Mongolian variation selectors
		return true
	case r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E,
		r >= 0x2060 && r <= 0x2064, r >= 0x2066 && r <= 0x206F:
		return true
	case r >= 0xFE00 && r <= 0xFE0F: // variation selectors
		return true
	case r >= 0xFFF0 && r <= 0xFFFB:
		return true
	case r >= 0x1D173 && r <= 0x1D17A: // musical formatting
		return true
	case r >= 0xE0000 && r <= 0xE0FFF: // tags and variation selectors supplement
		return true
	}
	return false
}

func isASCIILetter(c byte) bool { return (c|0x20)-'a' < 26 }

// lowerASCII lower-cases the ASCII letters of b in place.
func lowerASCII(b []byte) {
	for k, c := range b {
		if c-'A' < 26 {
			b[k] = c + 'a' - 'A'
		}
	}
}

// Canonical returns text folded for comparison: NFKC, lower case, without
// invisible characters, with look-alike letters read as ASCII, but without
// leetspeak. Two texts that differ only by such obfuscation have the same
// canonical form. Unlike the folded view, Canonical reads look-alikes as
// ASCII in Russian and Greek words too (все is "bce"): it is a key, and
// the training data's de-duplication and split depend on it not moving.
// Text that is already canonical is returned as is, without allocating.
func Canonical(text string) string {
	upper, nonASCII := asciiCase(text)
	switch {
	case nonASCII:
		f := folder{skeletonAll: true}
		s, _ := f.fold(text)
		return s
	case upper:
		return lowerCopy(text)
	}
	return text
}

package classifier

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/warden-safety/warden/detect/normalize"
)

// Token kinds.
const (
	kindWord  = 1 // a run of letters and digits (any script but CJK)
	kindCJK   = 2 // one Han, kana or Hangul character
	kindPunct = 3 // one significant punctuation character
)

// token is one token's hash and kind; the text itself is not kept.
type token struct {
	h    uint64
	stem uint64 // hash of the first 5 runes for long words, else 0
	kind uint8
}

// Feature type salts, mixed into hashes so the same tokens in different
// feature types land in different buckets.
const (
	saltUni  = 0x9e3779b97f4a7c15
	saltBi   = 0xc2b2ae3d27d4eb4f
	saltSkip = 0x165667b19e3779f9
	saltTri  = 0xd6e8feb86659fd93
	saltStem = 0xff51afd7ed558ccd
	saltBOS  = 0x27d4eb2f165667c5
)

// mix is a 64-bit finalizer (from splitmix64).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func isCJK(r rune) bool {
	switch {
	case r < 0x2E80:
		return false
	case r >= 0x4E00 && r <= 0x9FFF, r >= 0x3400 && r <= 0x4DBF, r >= 0xAC00 && r <= 0xD7A3,
		r >= 0x3041 && r <= 0x3096, r >= 0x30A1 && r <= 0x30FA:
		// the common blocks, all Han, Hangul, Hiragana or Katakana:
		// answered without a table search
		return true
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// cjkToken is the token of the CJK character r.
func cjkToken(r rune) token { return token{h: mix(uint64(r) ^ 0x5bd1e995), kind: kindCJK} }

// cjkAt decodes the three-byte character at text[i] when it is in the
// caseless CJK range U+3040..U+9FFF (kana and Han, most of Chinese text),
// without the general decoder; size 0 means it is not.
func cjkAt(text string, i int) (rune, int) {
	if i+2 >= len(text) {
		return 0, 0
	}
	c0, c1, c2 := text[i], text[i+1], text[i+2]
	if c0 < 0xE3 || c0 > 0xE9 || c1&0xC0 != 0x80 || c2&0xC0 != 0x80 {
		return 0, 0
	}
	r := rune(c0&0x0F)<<12 | rune(c1&0x3F)<<6 | rune(c2&0x3F)
	if r < 0x3040 {
		return 0, 0
	}
	return r, 3
}

// hanAt decodes the character at text[i] when it is a Han ideograph of
// the Unified Ideographs block U+4E00..U+9FFF, nearly every character of
// Chinese text; then cjkAt decodes the same rune and isCJK holds for it.
// Unlike those two it is small enough to be inlined in the tokenizer's
// loop over a run of CJK characters.
func hanAt(text string, i int) (rune, bool) {
	if i+2 >= len(text) {
		return 0, false
	}
	c0, c1, c2 := text[i], text[i+1], text[i+2]
	r := rune(c0&0x0F)<<12 | rune(c1&0x3F)<<6 | rune(c2&0x3F)
	return r, c0-0xE4 <= 0xE9-0xE4 && (c1&0xC0)|(c2&0xC0)>>2 == 0xA0 && r >= 0x4E00
}

// asciiSep marks the ASCII bytes the tokenizer's general path reads as
// separators: neither a letter, a digit, a leetspeak symbol (@ $), an
// apostrophe nor significant punctuation.
var asciiSep = func() (t [256]bool) {
	for c := rune(0); c < utf8.RuneSelf; c++ {
		l := unicode.ToLower(c)
		t[c] = !('a' <= l && l <= 'z') && !('0' <= c && c <= '9') && c != '@' && c != '$' && c != '\'' &&
			!isSignificantPunct(c)
	}
	return t
}()

// seps has bit r-0x2000 set for the characters r of U+2000..U+3FFF
// (three bytes in UTF-8, led by 0xE2 or 0xE3) that the tokenizer's
// general path reads as separators: r is its own lower case, and neither
// CJK, a letter, a digit, a mark nor significant punctuation.
var seps = func() (m [0x2000 / 64]uint64) {
	for r := rune(0x2000); r < 0x4000; r++ {
		if unicode.ToLower(r) != r || isCJK(r) || unicode.IsLetter(r) || unicode.IsDigit(r) ||
			unicode.Is(unicode.Mn, r) || isSignificantPunct(r) {
			continue
		}
		k := r - 0x2000
		m[k>>6] |= 1 << (k & 63)
	}
	return m
}()

// sepAt reports whether text[i:] starts with a character of seps, given
// that text[i] is 0xE2 or 0xE3.
func sepAt(text string, i int) bool {
	if i+2 >= len(text) {
		return false
	}
	c0, c1, c2 := text[i], text[i+1], text[i+2]
	k := uint32(c0&1)<<12 | uint32(c1&0x3F)<<6 | uint32(c2&0x3F)
	return (c1&0xC0)|(c2&0xC0)>>2 == 0xA0 && seps[k>>6]&(1<<(k&63)) != 0
}

// caseless reports whether r is in a range without case distinctions
// (CJK, kana, Hangul syllables), where lower-casing can be skipped.
func caseless(r rune) bool {
	return (r >= 0x3040 && r <= 0x9FFF) || (r >= 0xAC00 && r <= 0xD7AF)
}

// significant punctuation becomes tokens: question framing and the
// brackets, colons and markers common in jailbreak templates.
func isSignificantPunct(r rune) bool {
	switch r {
	case '?', '!', ':', '[', ']', '{', '}', '<', '>', '#', '*', '"', '/', '=', '？', '！', '：':
		return true
	}
	return false
}

// asciiLower maps ASCII letters to lower case and every other byte to 0.
var asciiLower = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = byte(c)
		t[c-'a'+'A'] = byte(c)
	}
	return t
}()

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// leetLetter maps the digits and symbols of leetspeak to the letters they
// stand for (0 when c is not one of them).
func leetLetter(c rune) rune {
	switch c {
	case '0':
		return 'o'
	case '1':
		return 'i'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	case '8':
		return 'b'
	case '9':
		return 'g'
	}
	return 0
}

// tokenize appends the tokens of text to dst. Letters are lower-cased;
// everything that is neither a letter, a digit nor significant
// punctuation separates tokens. A word that mixes letters with leetspeak
// digits or symbols ("m4k3", "h@ck") is hashed as the letters they stand
// for ("make", "hack"), and a lone "1" or "4" as "i" or "a", so
// leetspeak reaches the same features in every view. At most maxTokens tokens are produced (0 = no limit).
//
// With simplify (feature version 2), traditional Chinese characters are
// read as their simplified forms (normalize.Simplified), so 強暴 and 强暴
// are the same tokens.
func tokenize(text string, dst []token, maxTokens int, simplify bool) []token {
	return tokenizeRuns(text, dst, maxTokens, simplify, true)
}

// tokenizeRuns is tokenize, with runs of CJK characters read by their own
// loop when runs is set (tests compare both ways).
func tokenizeRuns(text string, dst []token, maxTokens int, simplify, runs bool) []token {
	var h, hl, stem, steml uint64
	var first rune
	n := 0 // runes in the current word
	inWord := false
	letters, leet := false, false
	start := func() {
		inWord, h, hl, n, stem, steml = true, fnvOffset, fnvOffset, 0, 0, 0
		letters, leet = false, false
	}
	push := func(r, l rune) {
		h = (h ^ uint64(r)) * fnvPrime
		hl = (hl ^ uint64(l)) * fnvPrime
		if n == 0 {
			first = r
		}
		n++
		if n == 5 {
			stem, steml = h, hl
		}
	}
	flush := func() {
		if inWord {
			t := token{h: h, kind: kindWord}
			st := stem
			// "1" and "4" standing alone are read as the one-letter words
			// "i" and "a" they stand for in leetspeak ("h0w d0 1 m4k3 4 b0mb").
			if (letters && leet) || (n == 1 && (first == '1' || first == '4')) {
				t.h, st = hl, steml
			}
			if n >= 6 {
				t.stem = st
			}
			dst = append(dst, t)
			inWord = false
		}
	}
	for i := 0; i < len(text); {
		if maxTokens > 0 && len(dst) >= maxTokens {
			return dst
		}
		c := text[i]
		if l := asciiLower[c]; l != 0 {
			// fast path: a run of ASCII letters
			if !inWord && runs {
				// A word that starts here: its two hashes are the same
				// until a leet character, so one chain of multiplies
				// reads the run, and the first letter and the stem are
				// taken from the text after it.
				start()
				letters = true
				s := i
				hh := uint64(fnvOffset)
				for ; i < len(text); i++ {
					l := asciiLower[text[i]]
					if l == 0 {
						break
					}
					hh = (hh ^ uint64(l)) * fnvPrime
				}
				h, hl, n, first = hh, hh, i-s, rune(l)
				if n >= 5 {
					st := uint64(fnvOffset)
					for k := s; k < s+5; k++ {
						st = (st ^ uint64(asciiLower[text[k]])) * fnvPrime
					}
					stem, steml = st, st
				}
				continue
			}
			if !inWord {
				start()
			}
			letters = true
			for ; i < len(text); i++ {
				l := asciiLower[text[i]]
				if l == 0 {
					break
				}
				h = (h ^ uint64(l)) * fnvPrime
				hl = (hl ^ uint64(l)) * fnvPrime
				if n == 0 {
					first = rune(l)
				}
				n++
				if n == 5 {
					stem, steml = h, hl
				}
			}
			continue
		}
		if runs && asciiSep[c] {
			// a space, comma, full stop and the like, which only ends a
			// word: not through the general path's switch below
			flush()
			i++
			continue
		}
		if runs && c-0xE2 <= 1 && sepAt(text, i) {
			// punctuation of Chinese text (、。“” …), which only ends
			// a word: not through the general decoder and Unicode's
			// tables below
			flush()
			i += 3
			continue
		}
		if c >= 0xE3 && runs {
			if r, size := cjkAt(text, i); size != 0 && isCJK(r) {
				// A run of CJK characters, a token each: the run's
				// loop, not the general one below.
				flush()
				for {
					if simplify {
						r = normalize.Simplified(r)
					}
					dst = append(dst, cjkToken(r))
					i += 3
					if maxTokens > 0 && len(dst) >= maxTokens {
						return dst
					}
					var han bool
					if r, han = hanAt(text, i); han {
						continue
					}
					if r, size = cjkAt(text, i); size == 0 || !isCJK(r) {
						break
					}
				}
				continue
			}
		}
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			r = rune(c)
			if 'A' <= c && c <= 'Z' {
				r += 'a' - 'A'
			}
		} else if r, size = cjkAt(text, i); size == 0 {
			r, size = utf8.DecodeRuneInString(text[i:])
			if !caseless(r) {
				r = unicode.ToLower(r)
			}
		}
		i += size
		switch {
		case r < utf8.RuneSelf && 'a' <= r && r <= 'z':
			if !inWord {
				start()
			}
			letters = true
			push(r, r)
		case r < utf8.RuneSelf && (('0' <= r && r <= '9') || r == '@' || r == '$'):
			if !inWord {
				start()
			}
			l := leetLetter(r)
			if l != 0 {
				leet = true
			} else {
				l = r
			}
			push(r, l)
		case r == '\'':
			// apostrophes join contractions ("don't") but never start a
			// word
			if inWord {
				push(r, r)
			}
		case r >= utf8.RuneSelf && isCJK(r):
			flush()
			if simplify {
				r = normalize.Simplified(r)
			}
			dst = append(dst, cjkToken(r))
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)):
			if !inWord {
				start()
			}
			letters = letters || unicode.IsLetter(r)
			push(r, r)
		case isSignificantPunct(r):
			flush()
			if r == '？' {
				r = '?'
			} else if r == '！' {
				r = '!'
			} else if r == '：' {
				r = ':'
			}
			dst = append(dst, token{h: mix(uint64(r) ^ 0x27d4eb2f), kind: kindPunct})
		default:
			flush()
		}
	}
	flush()
	return dst
}

// tokenFeatures appends the hashed features contributed by token i (which
// looks back at tokens i-1 and i-2) to dst, as bucket indices below
// 1<<bits. Features: the token itself; the bigram with the previous token;
// for words, the skip-bigram with the token two back (verb–object pairs
// such as "make … bomb") and a 5-rune prefix for words of 6 runes or more;
// for CJK characters, the trigram ending here.
func tokenFeatures(toks []token, i int, bits uint, dst []uint32) []uint32 {
	shift := 64 - bits
	t := toks[i]
	dst = append(dst, uint32(mix(t.h^saltUni)>>shift))
	if i >= 1 {
		dst = append(dst, uint32(mix(toks[i-1].h*31^t.h^saltBi)>>shift))
	}
	switch t.kind {
	case kindWord:
		if i >= 2 {
			dst = append(dst, uint32(mix(toks[i-2].h*37^t.h^saltSkip)>>shift))
		}
		if t.stem != 0 {
			dst = append(dst, uint32(mix(t.stem^saltStem)>>shift))
		}
	case kindCJK:
		if i >= 2 {
			dst = append(dst, uint32(mix((toks[i-2].h*41^toks[i-1].h)*43^t.h^saltTri)>>shift))
		}
	}
	return dst
}

// appendFeatures appends the features of tokens toks[from:to] to dst, in
// the order and with the values tokenFeatures gives token by token, and
// sets counts[i+1] to len(dst) after token i. It is the loop logits runs
// over a text, a stretch at a time: the slice is grown once and the two
// hashes before a token are kept in registers, where tokenFeatures,
// called per token, checks the capacity at each feature and reads the
// tokens before again.
func appendFeatures(toks []token, from, to int, bits uint, dst []uint32, counts []int32) []uint32 {
	base := len(dst)
	dst = slices.Grow(dst, 4*(to-from))
	out := dst[base : base+4*(to-from)]
	counts = counts[:to+1]
	shift := 64 - bits
	k := 0
	var h1, h2 uint64 // the hashes of tokens i-1 and i-2
	if from >= 1 {
		h1 = toks[from-1].h
	}
	if from >= 2 {
		h2 = toks[from-2].h
	}
	for i := from; i < to; i++ {
		t := &toks[i]
		h := t.h
		out[k] = uint32(mix(h^saltUni) >> shift)
		k++
		if i >= 1 {
			out[k] = uint32(mix(h1*31^h^saltBi) >> shift)
			k++
		}
		switch t.kind {
		case kindWord:
			if i >= 2 {
				out[k] = uint32(mix(h2*37^h^saltSkip) >> shift)
				k++
			}
			if t.stem != 0 {
				out[k] = uint32(mix(t.stem^saltStem) >> shift)
				k++
			}
		case kindCJK:
			if i >= 2 {
				out[k] = uint32(mix((h2*41^h1)*43^h^saltTri) >> shift)
				k++
			}
		}
		counts[i+1] = int32(base + k)
		h2, h1 = h1, h
	}
	return dst[:base+k]
}

// bosFeature is the bucket of the always-present start feature, so that
// empty text still has an embedding.
func bosFeature(bits uint) uint32 { return uint32(mix(saltBOS) >> (64 - bits)) }

// Features returns the feature buckets of the first window (at most
// window tokens) of text, in order, for a model of shape c. It is what
// the trainer uses, so training and inference see the same features.
func Features(c Config, text string, window int) []uint32 {
	toks := tokenize(text, nil, window, c.FeatureVersion >= 2)
	out := make([]uint32, 0, 1+4*len(toks))
	out = append(out, bosFeature(c.Bits))
	for i := range toks {
		out = tokenFeatures(toks, i, c.Bits, out)
	}
	return out
}

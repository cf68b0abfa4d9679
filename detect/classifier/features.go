package classifier

import (
	"unicode"
	"unicode/utf8"
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
	if r < 0x2E80 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
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

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// tokenize appends the tokens of text to dst. Letters are lower-cased;
// everything that is neither a letter, a digit nor significant
// punctuation separates tokens. At most maxTokens tokens are produced
// (0 = no limit).
func tokenize(text string, dst []token, maxTokens int) []token {
	var h, stem uint64
	n := 0 // runes in the current word
	inWord := false
	flush := func() {
		if inWord {
			t := token{h: h, kind: kindWord}
			if n >= 6 {
				t.stem = stem
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
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			r = rune(c)
			if 'A' <= c && c <= 'Z' {
				r += 'a' - 'A'
			}
		} else {
			r, size = utf8.DecodeRuneInString(text[i:])
			r = unicode.ToLower(r)
		}
		i += size
		switch {
		case r < utf8.RuneSelf && (('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r == '\''):
			if r == '\'' {
				// apostrophes join contractions ("don't") but never
				// start a word
				if !inWord {
					continue
				}
			}
			if !inWord {
				inWord, h, n, stem = true, fnvOffset, 0, 0
			}
			h = (h ^ uint64(r)) * fnvPrime
			n++
			if n == 5 {
				stem = h
			}
		case r >= utf8.RuneSelf && isCJK(r):
			flush()
			dst = append(dst, token{h: mix(uint64(r) ^ 0x5bd1e995), kind: kindCJK})
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)):
			if !inWord {
				inWord, h, n, stem = true, fnvOffset, 0, 0
			}
			h = (h ^ uint64(r)) * fnvPrime
			n++
			if n == 5 {
				stem = h
			}
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

// bosFeature is the bucket of the always-present start feature, so that
// empty text still has an embedding.
func bosFeature(bits uint) uint32 { return uint32(mix(saltBOS) >> (64 - bits)) }

// Features returns the feature buckets of the first window (at most
// window tokens) of text, in order, for a model with 1<<bits buckets. It
// is what the trainer uses, so training and inference see the same
// features.
func Features(text string, bits uint, window int) []uint32 {
	toks := tokenize(text, nil, window)
	out := make([]uint32, 0, 1+4*len(toks))
	out = append(out, bosFeature(bits))
	for i := range toks {
		out = tokenFeatures(toks, i, bits, out)
	}
	return out
}

package normalize

import (
	"unicode"
	"unicode/utf8"
)

// LowerText returns s with every upper-case letter outside ASCII (Cyrillic,
// Greek, accented Latin, ...) whose lower-case form has the same UTF-8
// length replaced by it, and whether anything changed. ASCII is left as is:
// matchers that read the result already ignore ASCII case. Byte offsets are
// the same in both strings, so a match found in the result is at the same
// place in s.
//
// The folded view lowers case too, but it also reads letters that look
// like ASCII as ASCII ("все" becomes "bce"), which is right for a spoofed
// English word and wrong for a Russian one. LowerText keeps the script.
// Text without non-ASCII bytes costs one pass, eight bytes at a time, and
// CJK characters are skipped without decoding.
func LowerText(s string) (string, bool) {
	i := asciiWords(s)
	var b []byte
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= 0xE3 && c <= 0xE9 && i+3 <= len(s) {
			// U+3000..U+9FFF (CJK, kana, Hangul letters): no case. A run
			// of them is taken in a loop of its own.
			for i += 3; i+3 <= len(s) && s[i]-0xE3 <= 0xE9-0xE3; i += 3 {
			}
			continue
		}
		if c == 0xEF && i+3 <= len(s) && !(s[i+1] == 0xBC && s[i+2] >= 0xA1 && s[i+2] <= 0xBA) {
			// U+F000..U+FFFF (full-width punctuation, half-width forms):
			// no case but the full-width capitals U+FF21..U+FF3A.
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if l := unicode.ToLower(r); l != r && utf8.RuneLen(l) == size {
			if b == nil {
				b = []byte(s)
			}
			utf8.EncodeRune(b[i:i+size], l)
		}
		i += size
	}
	if b == nil {
		return s, false
	}
	return string(b), true
}

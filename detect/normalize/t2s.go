package normalize

import "unicode/utf8"

// The range of the traditional→simplified table: CJK Extension A and the
// Unified Ideographs block, where nearly all traditional forms in use are.
const t2sLo, t2sHi = 0x3400, 0x9FFF

var t2sTable = func() *[t2sHi - t2sLo + 1]rune {
	t := new([t2sHi - t2sLo + 1]rune)
	for s := t2sPairs; len(s) > 0; {
		tr, n := utf8.DecodeRuneInString(s)
		sr, m := utf8.DecodeRuneInString(s[n:])
		s = s[n+m:]
		t[tr-t2sLo] = sr
	}
	// resolve chains (a → b → c) so that Simplified is idempotent
	for i, r := range t {
		for k := 0; r >= t2sLo && r <= t2sHi && t[r-t2sLo] != 0 && t[r-t2sLo] != r && k < 4; k++ {
			r = t[r-t2sLo]
		}
		t[i] = r
	}
	return t
}()

// Simplified maps a traditional Chinese character to its simplified form
// (OpenCC's character table, first choice where it lists several); every
// other rune comes back unchanged. Character by character, so 後 and 后
// both become 后 even where a phrase-level converter would keep them
// apart: enough for matching and classification, not for display.
func Simplified(r rune) rune {
	if r < t2sLo || r > t2sHi {
		return r
	}
	if s := t2sTable[r-t2sLo]; s != 0 {
		return s
	}
	return r
}

package normalize

import (
	"unicode/utf8"
	"unsafe"
)

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

// SimplifiedText returns s with every traditional Chinese character that
// has a simplified form of the same UTF-8 length (nearly all of them)
// replaced by it, and whether anything changed. Byte offsets are the same
// in both strings, so a match found in the result is at the same place in
// s. Text without CJK ideographs costs one pass over its bytes, eight at a
// time, and is returned as is.
func SimplifiedText(s string) (string, bool) {
	i := asciiWords(s)
	var b []byte
	done := 0 // s[:done] is in b
	for i < len(s) {
		c := s[i]
		if c < 0xE3 || c > 0xE9 || !hanAt(s, i) {
			i++
			continue
		}
		r := rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
		// hanAt holds r to t2sLo..t2sHi. Most characters have no other
		// form: a bit each, in a table that stays in cache, says so.
		if k := r - t2sLo; t2sChanges[k>>6]&(1<<(k&63)) != 0 {
			if b == nil {
				b = make([]byte, 0, len(s))
			}
			b = append(b, s[done:i]...)
			b = utf8.AppendRune(b, t2sTable[k])
			done = i + 3
		}
		i += 3
	}
	if b == nil {
		return s, false
	}
	b = append(b, s[done:]...)
	// b is never written again: hand it over without a second copy.
	return unsafe.String(&b[0], len(b)), true
}

// t2sChanges has bit r-t2sLo set when SimplifiedText replaces r: Simplified
// changes it, to a rune of the same UTF-8 length.
var t2sChanges = func() *[(t2sHi - t2sLo + 64) / 64]uint64 {
	var m [(t2sHi - t2sLo + 64) / 64]uint64
	for r := rune(t2sLo); r <= t2sHi; r++ {
		if t := Simplified(r); t != r && utf8.RuneLen(t) == 3 {
			k := r - t2sLo
			m[k>>6] |= 1 << (k & 63)
		}
	}
	return &m
}()

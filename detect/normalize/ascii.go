package normalize

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// upperMask returns 0x80 in each byte of the ASCII word w that is an
// upper-case letter.
func upperMask(w uint64) uint64 {
	return (w + ones*(0x80-'A')) &^ (w + ones*(0x80-'Z'-1)) & highs
}

// asciiWords returns the length of the longest prefix of s made of whole
// eight-byte words of ASCII: where a scan for non-ASCII bytes can start.
func asciiWords(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if load64(s, i)&highs != 0 {
			break
		}
	}
	return i
}

// asciiCase reports whether s has an ASCII upper-case letter and whether
// it has a byte >= 0x80, eight bytes at a time.
func asciiCase(s string) (upper, nonASCII bool) {
	i := 0
	var up uint64
	for ; i+8 <= len(s); i += 8 {
		w := load64(s, i)
		if w&highs != 0 {
			return up != 0, true
		}
		up |= upperMask(w)
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return up != 0, true
		}
		if c-'A' < 26 {
			up = 1
		}
	}
	return up != 0, false
}

// lowerCopy returns the ASCII text s in lower case.
func lowerCopy(s string) string {
	if len(s) == 0 {
		return ""
	}
	b := make([]byte, len(s))
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := load64(s, i)
		binary.LittleEndian.PutUint64(b[i:i+8], w|upperMask(w)>>2)
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	// b is never written again: hand it over without a second copy.
	return unsafe.String(&b[0], len(b))
}

// load64 reads s[i:i+8] as a little-endian word.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// EqualFoldASCII reports whether a and b differ at most in the case of ASCII
// letters. Detectors use it to skip a folded view that only lower-cased the
// original: it has nothing new for them.
func EqualFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for ; i+8 <= len(a); i += 8 {
		// Eight bytes at a time: equal words, or words that differ only
		// in the 0x20 bits, go on; the rest are checked byte by byte.
		d := load64(a, i) ^ load64(b, i)
		if d == 0 {
			continue
		}
		if d&^0x2020202020202020 != 0 {
			return false
		}
		for k := i; k < i+8; k++ {
			if !caseEqualByte(a[k], b[k]) {
				return false
			}
		}
	}
	for ; i < len(a); i++ {
		if !caseEqualByte(a[i], b[i]) {
			return false
		}
	}
	return true
}

func caseEqualByte(x, y byte) bool {
	if x == y {
		return true
	}
	l := x | 0x20
	return l == y|0x20 && l >= 'a' && l <= 'z'
}

// CaseOnly reports whether v is a derived view that differs from the
// original only in the case of ASCII letters (the cheap "folded" view of
// plain ASCII text), so a case-insensitive detector has nothing new to read
// in it. It costs no comparison of the texts.
func CaseOnly(v *View) bool { return v.Name == "folded" && v.Identity() }

// skipHigh returns the index of the first byte below 0x80 in s[i:end],
// or end: it passes over text in other scripts eight bytes at a time.
func skipHigh(s string, i, end int) int {
	for i+8 <= end {
		if low := ^load64(s, i) & highs; low != 0 {
			// the first byte below 0x80 of the eight
			return i + bits.TrailingZeros64(low)>>3
		}
		i += 8
	}
	for i < end && s[i] >= 0x80 {
		i++
	}
	return i
}

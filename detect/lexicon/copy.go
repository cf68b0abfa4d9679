package lexicon

import (
	"unicode/utf8"
)

// A simplified copy of a text (normalize.SimplifiedText) differs from it
// only in some characters, each replaced by another of the same length, and
// the automaton's matches of the copy are mostly the text's. Matches are
// exact byte strings over a span (up to ASCII case and runs of whitespace,
// which no replaced character touches), so:
//
//   - a match of the text that holds no byte of a replaced character is a
//     match of the copy at the same span, and one that holds any is not
//     (the copy's bytes differ there);
//   - a match of the copy that holds a byte of a replaced character holds
//     the whole character (patterns and replaced characters are valid
//     UTF-8), so its pattern holds the new rune and it lies within the
//     longest such pattern's length of it (runeReach). Reading the copy
//     from that far before each such character finds it.
//
// copyMatches puts the two together in the order Scan would report them:
// within each of Scan's two streams by end, and at one end by decreasing
// pattern length, then pattern number (the order of a state's outputs).
// The rules then run over the copy exactly as after a scan of it.

// copiedRune is a replaced character of a simplified copy: bytes
// [start, end), and its new rune.
type copiedRune struct {
	start, end int
	r          rune
}

// runeReachOf returns, for each non-ASCII rune of the patterns, the length
// of the longest pattern holding it.
func runeReachOf(patterns []string) map[rune]int32 {
	m := map[rune]int32{}
	for _, p := range patterns {
		for _, r := range p {
			if r >= utf8.RuneSelf {
				m[r] = max(m[r], int32(len(p)))
			}
		}
	}
	return m
}

// copyMatches returns the automaton's matches of st, a simplified copy of
// text, from text's matches in sc.raw (as Scan reported them), in the
// order Scan would report them within each stream. It reports false when
// st is not such a copy (or splits elsewhere); the caller scans it then.
func (d *Detector) copyMatches(sc *scratch, text, st string) ([]Match, bool) {
	if d.wholeCopies || len(st) != len(text) {
		return nil, false
	}
	k := d.ac.split(text)
	if d.ac.split(st) != k {
		return nil, false
	}
	if k < 0 {
		k = len(text)
	}
	// The replaced characters.
	cs := sc.copied[:0]
	for i := 0; i < len(text); {
		if i+8 <= len(text) && load64(text, i) == load64(st, i) {
			i += 8
			continue
		}
		if text[i] == st[i] {
			i++
			continue
		}
		s := i
		for s > 0 && st[s]&0xC0 == 0x80 {
			s--
		}
		r, n := utf8.DecodeRuneInString(st[s:])
		_, tn := utf8.DecodeRuneInString(text[s:])
		if r == utf8.RuneError || n != tn || len(cs) > 0 && s < cs[len(cs)-1].end {
			sc.copied = cs
			return nil, false
		}
		cs = append(cs, copiedRune{s, s + n, r})
		i = s + n
	}
	sc.copied = cs
	touches := func(s, e int32) bool {
		// the first replaced character that ends after s
		lo, hi := 0, len(cs)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if int32(cs[m].end) <= s {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return lo < len(cs) && int32(cs[lo].start) < e
	}
	// Windows of the copy to read, around the replaced characters some
	// pattern holds.
	ws := sc.windows[:0]
	for _, c := range cs {
		reach := int(d.runeReach[c.r])
		if reach == 0 {
			continue
		}
		from, to := back(st, c.start, reach), forward(st, c.end, reach)
		if n := len(ws); n > 0 && from <= ws[n-1].to {
			ws[n-1].to = max(ws[n-1].to, to)
			continue
		}
		ws = append(ws, region{from: from, to: to})
	}
	sc.windows = ws
	// The copy's own matches over replaced characters, in order (the
	// windows are disjoint and in order).
	found := sc.rawB[:0]
	for _, w := range ws {
		d.ac.Scan(st[w.from:w.to], func(p, s, e int) {
			s, e = s+w.from, e+w.from
			if touches(int32(s), int32(e)) {
				found = append(found, Match{int32(p), int32(s), int32(e)})
			}
		})
	}
	// Scan reports each stream's matches in order, but the two streams
	// of a window may interleave: put them in order.
	sortMatches(found, d.ac.patLen)
	sc.rawB = found
	// Merge, stream by stream: the text's matches that touch no replaced
	// character, and the copy's that do.
	out := sc.rawC[:0]
	for _, stream := range [2]bool{true, false} {
		inStream := func(m Match) bool { return (int(m.End) <= k) == stream }
		j := 0
		for _, m := range sc.raw {
			if !inStream(m) || touches(m.Start, m.End) {
				continue
			}
			for j < len(found) && (!inStream(found[j]) || before(found[j], m, d.ac.patLen)) {
				if inStream(found[j]) {
					out = append(out, found[j])
				}
				j++
			}
			out = append(out, m)
		}
		for ; j < len(found); j++ {
			if inStream(found[j]) {
				out = append(out, found[j])
			}
		}
	}
	sc.rawC = out
	return out, true
}

// before reports whether Scan reports match a before b in one stream: by
// end, then the longer pattern first, then the lower pattern number.
func before(a, b Match, patLen []int32) bool {
	if a.End != b.End {
		return a.End < b.End
	}
	if la, lb := patLen[a.Pattern], patLen[b.Pattern]; la != lb {
		return la > lb
	}
	return a.Pattern < b.Pattern
}

// sortMatches sorts ms in the order before gives (insertion sort: they
// come nearly sorted).
func sortMatches(ms []Match, patLen []int32) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && before(ms[j], ms[j-1], patLen); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// load64 reads 8 bytes of s from i, little-endian (one load on the
// architectures that allow unaligned ones).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

package lexicon

import (
	"unicode"
	"unicode/utf8"

	"github.com/warden-safety/warden/detect/normalize"
)

// Views other than the original are mostly copies of it: folding a long
// prompt may change one full-width comma and lower its capitals, and the
// automaton ignores ASCII case. Scanning such a view whole finds again, at
// the same original offsets, what the original's scan found. So Scan reads
// a derived view only around its changes (normalize.View.Changes), in
// regions wide enough that every finding touching a change is made there
// exactly as a scan of the whole view would make it:
//
//   - A finding's hits, the gaps between them, its negation context and the
//     neighbours partner and suppressed look at lie within d.reach symbols
//     of its span (a symbol is a byte, or a run of whitespace, which the
//     automaton reads as one space).
//   - Each change is widened by reach on each side into a kept stretch; a
//     region is a kept stretch widened by reach again. A finding is kept
//     when its span meets a kept stretch, so everything it depends on lies
//     inside the region.
//   - A finding whose span and context meet no change stands on bytes the
//     original has at the mapped offsets, so the original's scan made it.
//
// Some changes cannot make or break a match and are not widened at all
// (inert): a Chinese comma folded to an ASCII one between Han characters.
// Both sides hold no letters, digits or CJK characters, end a sentence
// alike for within, and no pattern can match across the view's bytes there
// (checked against the bytes patterns hold beside each byte), and a gap
// over them measures the same (gapLength counts a full-width form as the
// one byte it folds to, so "，" and "," both count one).

// region is a stretch [from, to) of a view to scan, of which findings
// meeting [keepFrom, keepTo) are kept.
type region struct{ from, to, keepFrom, keepTo int }

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }

// addNeighbour adds pattern byte c as the automaton reads it: a letter in
// either case, a space as any whitespace byte.
func (s *byteSet) addNeighbour(c byte) {
	if c == ' ' {
		for _, w := range []byte(" \t\n\r\f\v") {
			s.add(w)
		}
		return
	}
	s.add(c)
	s.add(foldCase(c))
}

// foldCase returns c with the case of an ASCII letter swapped.
func foldCase(c byte) byte {
	if c|0x20 >= 'a' && c|0x20 <= 'z' {
		return c ^ 0x20
	}
	return c
}

// neighbours records, for each byte that occurs in a pattern, the bytes
// found before and after it in patterns, and whether it starts or ends one.
type neighbours struct {
	prev, next       [256]byteSet
	starts, ends, in [256]bool
}

func newNeighbours(patterns []string) *neighbours {
	nb := &neighbours{}
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			for _, c := range []byte{p[i], foldCase(p[i])} {
				nb.in[c] = true
				if i == 0 {
					nb.starts[c] = true
				} else {
					nb.prev[c].addNeighbour(p[i-1])
				}
				if i == len(p)-1 {
					nb.ends[c] = true
				} else {
					nb.next[c].addNeighbour(p[i+1])
				}
			}
		}
	}
	return nb
}

// clear reports whether no pattern can match text over byte i, judging by
// its neighbours.
func (nb *neighbours) clear(text string, i int) bool {
	c := text[i]
	if !nb.in[c] {
		return true
	}
	if isSpaceByte(c) {
		return false // a run of whitespace reads as one space
	}
	prevOK := nb.starts[c] || i > 0 && nb.prev[c].has(text[i-1])
	nextOK := nb.ends[c] || i+1 < len(text) && nb.next[c].has(text[i+1])
	return !prevOK || !nextOK
}

// reachOf returns how far, in symbols, what a finding depends on can lie
// from where its span starts or ends, plus its longest span, over all
// rules, when gap bounds the bytes between two of its words (maxGapBytes,
// or maxGapSpan in text with full-width forms): see the comment at the top.
// A span holds one hit of each of the rule's sets and the gaps between
// them, so it is bounded by the longest pattern of each set (patSets says
// which sets hold a pattern); the look-around past it (partner's and
// suppressed's neighbours, which any pattern may be, and bounded's rune)
// by the gap and the longest pattern of all.
func reachOf(patterns []string, patSets [][]int32, rules []rule, gapOf func(int) int) int {
	maxPat := 0
	var setMax []int
	for p, pat := range patterns {
		maxPat = max(maxPat, len(pat))
		for _, s := range patSets[p] {
			for int(s) >= len(setMax) {
				setMax = append(setMax, 0)
			}
			setMax[s] = max(setMax[s], len(pat))
		}
	}
	longest := func(s int32) int {
		if int(s) < len(setMax) {
			return setMax[s]
		}
		return 0
	}
	reach := 0
	for i := range rules {
		r := &rules[i]
		gap := gapOf(r.window)
		span := longest(r.a) + len(r.next)*gap
		for _, s := range r.next {
			span += longest(s)
		}
		if r.neg >= 0 {
			gap = max(gap, gapOf(r.negWindow))
		}
		if r.after >= 0 {
			gap = max(gap, gapOf(r.afterWindow))
		}
		reach = max(reach, span+gap+maxPat+8)
	}
	return reach
}

// regions returns where to scan view v of original, or whole when the
// view must be scanned whole: its mapping cannot say what changed, or its
// changes leave little of it a copy.
func (d *Detector) regions(sc *scratch, original string, v *normalize.View) (regs []region, whole bool) {
	changes, ok := v.Changes(original, sc.changes[:0])
	sc.changes = changes
	if !ok {
		return nil, true
	}
	reach := d.reach
	if hasFullWidth(v.Text) {
		reach = d.reachWide
	}
	return d.around(&sc.regions, v.Text, changes, reach, func(c normalize.Change) bool { return d.inert(original, v.Text, c) })
}

// around returns the regions of text to scan around changes, skipping the
// inert ones, or whole when they would cover most of it. It appends to
// *buf, which keeps the memory for the next call.
func (d *Detector) around(buf *[]region, text string, changes []normalize.Change, reach int, inert func(normalize.Change) bool) (regs []region, whole bool) {
	regs = (*buf)[:0]
	defer func() { *buf = regs[:0] }()
	// The kept stretch being built runs from kf to reach symbols past
	// end. A change that starts within reach bytes of end joins it
	// without walking the text (a symbol is at least a byte), so dense
	// changes cost one walk per stretch, not one each.
	covered, kf, end, open := 0, 0, 0, false
	closeStretch := func(kt int) bool {
		r := region{from: back(text, kf, reach), to: forward(text, kt, reach), keepFrom: kf, keepTo: kt}
		covered += r.to - r.from
		regs = append(regs, r)
		return covered > len(text)/2
	}
	for _, c := range changes {
		if inert != nil && inert(c) {
			continue
		}
		if open && c.Start-end <= reach {
			end = max(end, c.End)
			if covered+end-kf > len(text)/2 {
				return nil, true
			}
			continue
		}
		if open {
			kt := forward(text, end, reach)
			if back(text, c.Start, reach) <= kt {
				end = max(end, c.End)
				continue
			}
			if closeStretch(kt) {
				return nil, true
			}
		}
		kf, end, open = back(text, c.Start, reach), c.End, true
	}
	if open && closeStretch(forward(text, end, reach)) {
		return nil, true
	}
	return regs, false
}

// inert reports whether change c of view text (from original) can neither
// make nor break a finding: see the comment at the top.
func (d *Detector) inert(original, text string, c normalize.Change) bool {
	if c.Start == c.End || c.OrigStart == c.OrigEnd {
		return false // a removal joins its neighbours; an insertion parts them
	}
	endA, okA := markClass(original[c.OrigStart:c.OrigEnd])
	endB, okB := markClass(text[c.Start:c.End])
	if !okA || !okB || endA != endB {
		return false
	}
	if gapLength(original[c.OrigStart:c.OrigEnd]) != gapLength(text[c.Start:c.End]) {
		return false // a gap over it would measure differently
	}
	for i := c.Start; i < c.End; i++ {
		if !d.nb.clear(text, i) {
			return false
		}
	}
	return true
}

// markClass reports whether s holds only marks (no letters, digits, CJK
// characters, apostrophes or whitespace), and whether one of them ends a
// sentence for within.
func markClass(s string) (sentenceEnd, ok bool) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch runeMark(r) {
		case notMark:
			return false, false
		case endMark:
			sentenceEnd = true
		}
	}
	return sentenceEnd, true
}

const (
	notMark = iota
	mark
	endMark // a mark that ends a sentence for within
)

// runeMark classifies r for markClass, from tables for the blocks folding
// changes most (ASCII, CJK punctuation, full-width forms).
func runeMark(r rune) uint8 {
	switch {
	case r < 0x80:
		return markTables[0][r]
	case r >= 0x3000 && r < 0x3080:
		return markTables[1][r-0x3000]
	case r >= 0xFF00 && r < 0xFF80:
		return markTables[2][r-0xFF00]
	}
	return runeMarkSlow(r)
}

var markTables = func() (t [3][128]uint8) {
	for k, base := range []rune{0, 0x3000, 0xFF00} {
		for i := range t[k] {
			t[k][i] = runeMarkSlow(base + rune(i))
		}
	}
	return
}()

func runeMarkSlow(r rune) uint8 {
	switch {
	case r == '.' || r == '!' || r == '?' || r == ';' || r == '。' || r == '！' || r == '？' || r == '；':
		return endMark
	case r == '\'' || r == utf8.RuneError || r < utf8.RuneSelf && isSpaceByte(byte(r)):
		return notMark
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || cjk(r):
		return notMark
	}
	return mark
}

// back returns the offset n symbols before i in text, on a rune boundary.
func back(text string, i, n int) int {
	for ; i > 0 && n > 0; n-- {
		i--
		if isSpaceByte(text[i]) {
			for i > 0 && isSpaceByte(text[i-1]) {
				i--
			}
		}
	}
	for i > 0 && text[i]&0xC0 == 0x80 {
		i--
	}
	return i
}

// forward returns the offset n symbols after i in text, on a rune
// boundary.
func forward(text string, i, n int) int {
	for ; i < len(text) && n > 0; n-- {
		if isSpaceByte(text[i]) {
			for i < len(text) && isSpaceByte(text[i]) {
				i++
			}
			continue
		}
		i++
	}
	for i < len(text) && text[i]&0xC0 == 0x80 {
		i++
	}
	return i
}

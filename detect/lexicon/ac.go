package lexicon

import (
	"errors"
	"fmt"
	"sync"

	"github.com/warden-safety/warden/internal/hugepage"
)

// MaxPatternLen is the longest pattern, in bytes, an Automaton accepts.
const MaxPatternLen = 255

// maxStates bounds the automaton; the top bit of a table entry marks the
// states that have outputs.
const (
	maxStates = 1 << 20
	outFlag   = 1 << 31
)

// Automaton is an Aho-Corasick automaton over bytes, compiled into a dense
// DFA: every state has a transition for every byte class, so matching is one
// table lookup per input byte and never follows failure links at run time.
//
// Bytes are grouped into classes: ASCII letters match case-insensitively
// (patterns are given in lower case), every ASCII whitespace byte is one
// class, and a run of whitespace in the input is read as a single space, so
// "pipe  bomb" and "pipe\nbomb" match the pattern "pipe bomb". Bytes that
// occur in no pattern share class 0. An Automaton is immutable once built
// and safe for concurrent use.
type Automaton struct {
	class  [256]uint8
	nclass int
	space  uint8 // class of whitespace bytes
	// delta[row+class] is the next state's row (state*nclass), with
	// outFlag set when that state has outputs.
	delta  []uint32
	outIdx []int32 // outputs of state s are outs[outIdx[s]:outIdx[s+1]]
	outs   []int32
	patLen []int32 // in symbols (bytes after whitespace collapsing)
	maxLen int     // the longest pattern, in symbols
	events sync.Pool
}

// Build compiles patterns into an automaton. Pattern i is reported as i.
// Patterns must be non-empty, at most MaxPatternLen bytes, contain no
// upper-case ASCII letters and no runs of whitespace (use one space).
func Build(patterns []string) (*Automaton, error) {
	if len(patterns) == 0 {
		return nil, errors.New("no patterns")
	}
	a := &Automaton{}
	// Byte classes: 0 = bytes in no pattern, 1 = whitespace.
	a.space = 1
	next := 2
	for id, p := range patterns {
		if p == "" {
			return nil, errors.New("empty pattern")
		}
		if len(p) > MaxPatternLen {
			return nil, fmt.Errorf("pattern of %d bytes is longer than %d", len(p), MaxPatternLen)
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if c >= 'A' && c <= 'Z' {
				return nil, fmt.Errorf("pattern %d has an upper-case letter", id)
			}
			if isSpaceByte(c) {
				if c != ' ' || i == 0 || i == len(p)-1 || p[i-1] == ' ' {
					return nil, fmt.Errorf("pattern %d has leading, trailing or repeated whitespace", id)
				}
				continue
			}
			if a.class[c] == 0 {
				if next > 255 {
					return nil, errors.New("too many byte classes")
				}
				a.class[c] = uint8(next)
				next++
			}
		}
	}
	for c := 'a'; c <= 'z'; c++ {
		a.class[c-'a'+'A'] = a.class[c]
	}
	for _, c := range []byte{' ', '\t', '\n', '\r', '\f', '\v'} {
		a.class[c] = a.space
	}
	a.nclass = next
	nc := a.nclass

	// Trie, in a wide table while building.
	var delta []int32
	newState := func() int32 {
		s := int32(len(delta) / nc)
		for i := 0; i < nc; i++ {
			delta = append(delta, -1)
		}
		return s
	}
	newState()
	own := [][]int32{nil}
	a.patLen = make([]int32, len(patterns))
	for id, p := range patterns {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := int(a.class[p[i]])
			t := delta[int(s)*nc+c]
			if t < 0 {
				t = newState()
				own = append(own, nil)
				delta[int(s)*nc+c] = t
			}
			s = t
		}
		own[s] = append(own[s], int32(id))
		a.patLen[id] = int32(len(p))
		a.maxLen = max(a.maxLen, len(p))
	}
	nstates := len(own)

	// Failure links by breadth-first search, filling in the missing
	// transitions so the result is a complete DFA.
	fail := make([]int32, nstates)
	order := make([]int32, 0, nstates)
	for c := 0; c < nc; c++ {
		t := delta[c]
		if t < 0 {
			delta[c] = 0
			continue
		}
		fail[t] = 0
		order = append(order, t)
	}
	for q := 0; q < len(order); q++ {
		s := order[q]
		for c := 0; c < nc; c++ {
			t := delta[int(s)*nc+c]
			f := delta[int(fail[s])*nc+c]
			if t < 0 {
				delta[int(s)*nc+c] = f
				continue
			}
			fail[t] = f
			order = append(order, t)
		}
	}
	// Outputs: a state's own patterns followed by those of its failure
	// chain. States are visited in BFS order, so fail[s] is complete first.
	all := make([][]int32, nstates)
	for _, s := range order {
		all[s] = append(append([]int32(nil), own[s]...), all[fail[s]]...)
	}
	if nstates > maxStates {
		return nil, fmt.Errorf("patterns need %d automaton states, more than %d", nstates, maxStates)
	}
	// Renumber the states in BFS order: the shallow states, where matching
	// spends most of its time, then sit together in the table.
	newID := make([]uint32, nstates)
	oldID := append([]int32{0}, order...)
	for n, o := range oldID {
		newID[o] = uint32(n)
	}
	// A state entered by whitespace stays put on more whitespace, so a run
	// of spaces reads as one without a test in the matching loop (no
	// pattern has two spaces in a row, or starts or ends with one).
	spaceState := make([]bool, nstates)
	for s := 0; s < nstates; s++ {
		if t := delta[s*nc+int(a.space)]; t > 0 {
			spaceState[t] = true
		}
	}
	// The table (13.5 MB for the built-in lists) is read at random, a
	// row per byte of text: in huge pages where the system has them.
	a.delta = hugepage.Make[uint32](len(delta))
	a.outIdx = make([]int32, nstates+1)
	for n, o := range oldID {
		for c := 0; c < nc; c++ {
			t := delta[int(o)*nc+c]
			if c == int(a.space) && (spaceState[o] || o == 0) {
				t = o
			}
			v := newID[t] * uint32(nc)
			if len(all[t]) > 0 {
				v |= outFlag
			}
			a.delta[n*nc+c] = v
		}
		a.outIdx[n] = int32(len(a.outs))
		a.outs = append(a.outs, all[o]...)
	}
	a.outIdx[nstates] = int32(len(a.outs))
	hugepage.Advise(a.delta)
	return a, nil
}

// States returns the number of states of the automaton.
func (a *Automaton) States() int { return len(a.outIdx) - 1 }

// TableBytes returns the size of the transition table in bytes.
func (a *Automaton) TableBytes() int { return 4 * len(a.delta) }

// Scan calls fn for every occurrence of every pattern in text, including
// overlapping ones. start and end are byte offsets of text. Scan does not
// allocate, but for the buffers a long text's scan keeps for the next.
//
// A text of minWide bytes or more is matched as four streams read side by
// side (scanWide), and its matches come in order of their end offset, as
// one stream would report them. A shorter one is matched as two
// interleaved streams, split after a byte that occurs in no pattern
// (where the automaton is back at its root, so no match can cross the
// split), and matches come in order of their end offset within each
// stream; callers that need one order sort them.
func (a *Automaton) Scan(text string, fn func(pattern, start, end int)) {
	if len(text) >= minWide {
		a.scanWide(text, fn)
		return
	}
	k := a.split(text)
	if k < 0 {
		a.scanRange(text, 0, 0, fn)
		return
	}
	delta, class := a.delta, &a.class
	var r1, r2 uint32
	i, j := 0, k
	for i < k && j < len(text) {
		r1 = delta[r1+uint32(class[text[i]])]
		r2 = delta[r2+uint32(class[text[j]])]
		i++
		j++
		if (r1|r2)&outFlag != 0 {
			if r1&outFlag != 0 {
				r1 &^= outFlag
				a.emit(text, r1, i, fn)
			}
			if r2&outFlag != 0 {
				r2 &^= outFlag
				a.emit(text, r2, j, fn)
			}
		}
	}
	a.scanRange(text[:k], r1, i, fn)
	a.scanRange(text, r2, j, fn)
}

// wideStreams is how many streams Scan matches a long text in, and minWide
// the shortest text it reads so.
const (
	wideStreams = 4
	minWide     = 4096
)

// event is a match state met by a stream whose matches are reported later.
type event struct {
	row uint32
	end int32
}

type eventBufs [wideStreams - 1][]event

// maxPooledEvents bounds the events kept for reuse between scans.
const maxPooledEvents = 1 << 14

// scanWide matches a long text as wideStreams streams of equal length, read
// side by side: in a pipeline the table is mostly out of cache, and each
// stream waits on its own chain of lookups. Stream j starts in the state
// the automaton is in at its first byte, found by reading the maxLen
// symbols before it from the root (a state depends on no more), and
// reports the matches that end in its stretch. The first stream reports
// its matches at once, the others keep them and report them after, so
// fn sees every match in order of its end, as a single stream reports
// them.
func (a *Automaton) scanWide(text string, fn func(pattern, start, end int)) {
	seg := len(text) / wideStreams
	var r [wideStreams]uint32
	for j := 1; j < wideStreams; j++ {
		b := j * seg
		r[j] = a.state(text[a.start(text, b, a.maxLen):b])
	}
	bufs, _ := a.events.Get().(*eventBufs)
	if bufs == nil {
		bufs = new(eventBufs)
	}
	e1, e2, e3 := bufs[0][:0], bufs[1][:0], bufs[2][:0]
	delta, class := a.delta, &a.class
	t0, t1, t2, t3 := text[:seg], text[seg:2*seg], text[2*seg:3*seg], text[3*seg:4*seg]
	r0, r1, r2, r3 := r[0], r[1], r[2], r[3]
	for i := 0; i < len(t0) && i < len(t1) && i < len(t2) && i < len(t3); i++ {
		r0 = delta[r0+uint32(class[t0[i]])]
		r1 = delta[r1+uint32(class[t1[i]])]
		r2 = delta[r2+uint32(class[t2[i]])]
		r3 = delta[r3+uint32(class[t3[i]])]
		if (r0|r1|r2|r3)&outFlag != 0 {
			if r0&outFlag != 0 {
				r0 &^= outFlag
				a.emit(text, r0, i+1, fn)
			}
			if r1&outFlag != 0 {
				r1 &^= outFlag
				e1 = append(e1, event{r1, int32(seg + i + 1)})
			}
			if r2&outFlag != 0 {
				r2 &^= outFlag
				e2 = append(e2, event{r2, int32(2*seg + i + 1)})
			}
			if r3&outFlag != 0 {
				r3 &^= outFlag
				e3 = append(e3, event{r3, int32(3*seg + i + 1)})
			}
		}
	}
	for _, evs := range [...][]event{e1, e2, e3} {
		for _, ev := range evs {
			a.emit(text, ev.row, int(ev.end), fn)
		}
	}
	a.scanRange(text, r3, 4*seg, fn) // the last stream's rest
	if cap(e1)+cap(e2)+cap(e3) <= maxPooledEvents {
		bufs[0], bufs[1], bufs[2] = e1, e2, e3
		a.events.Put(bufs)
	}
}

// state returns the row of the state the automaton is in after reading
// text from the root.
func (a *Automaton) state(text string) uint32 {
	delta, class := a.delta, &a.class
	var row uint32
	for i := 0; i < len(text); i++ {
		row = delta[row+uint32(class[text[i]])] &^ outFlag
	}
	return row
}

// minSplit is the shortest text Scan splits into two streams.
const minSplit = 256

// split returns the offset just after a byte of class 0 near the middle of
// text, or -1 when the text is short or has no such byte near its middle.
func (a *Automaton) split(text string) int {
	if len(text) < minSplit {
		return -1
	}
	mid := len(text) / 2
	for d := 0; d < len(text)/4; d++ {
		if a.class[text[mid+d]] == 0 {
			return mid + d + 1
		}
		if a.class[text[mid-d-1]] == 0 {
			return mid - d
		}
	}
	return -1
}

// scanRange matches text[i:] starting in the state whose row is row.
func (a *Automaton) scanRange(text string, row uint32, i int, fn func(pattern, start, end int)) {
	delta, class := a.delta, &a.class
	for ; i < len(text); i++ {
		row = delta[row+uint32(class[text[i]])]
		if row&outFlag != 0 {
			row &^= outFlag
			a.emit(text, row, i+1, fn)
		}
	}
}

// emit reports the outputs of the state at row, for matches ending at end.
func (a *Automaton) emit(text string, row uint32, end int, fn func(pattern, start, end int)) {
	s := row / uint32(a.nclass)
	for k := a.outIdx[s]; k < a.outIdx[s+1]; k++ {
		p := a.outs[k]
		fn(int(p), a.start(text, end, int(a.patLen[p])), end)
	}
}

// start walks back n symbols from end: a symbol is one byte, or a whole
// run of whitespace (read as one space).
func (a *Automaton) start(text string, end, n int) int {
	j := end
	for k := 0; k < n && j > 0; k++ {
		j--
		if a.class[text[j]] == a.space {
			for j > 0 && a.class[text[j-1]] == a.space {
				j--
			}
		}
	}
	return j
}

// Match is one pattern occurrence.
type Match struct {
	Pattern    int32
	Start, End int32
}

// AppendMatches appends every occurrence of every pattern in text to dst
// and returns the extended slice. It allocates only when dst must grow.
func (a *Automaton) AppendMatches(dst []Match, text string) []Match {
	a.Scan(text, func(p, s, e int) {
		dst = append(dst, Match{int32(p), int32(s), int32(e)})
	})
	return dst
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

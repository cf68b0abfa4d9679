// Package normalize de-obfuscates text into views that detectors scan.
//
// An attacker hides a hazardous request from keyword lists and classifiers by
// writing it with look-alike letters, invisible characters, leetspeak, spaced
// letters, or by encoding it (base64, hex, rot13, percent-encoding, HTML
// entities), sometimes several times over. Views undoes each of these and
// returns one View per derived text. Every View can map a byte range of its
// own text back to the byte range of the ORIGINAL text it came from, so a
// finding in a decoded view still points at the encoded bytes the user sent.
//
// Decoding is bounded in depth, in the number of views and in the bytes it
// produces, so hostile input (an encoding nested a hundred times, megabytes of
// base64) cannot make it hang or grow memory without limit.
package normalize

// View is one derived reading of the original text.
type View struct {
	// Name says how the view was derived: "original", "folded", "leet",
	// "joined", or a chain of decoders such as "base64>rot13".
	Name string
	// Text is the derived text. Every derived view is valid UTF-8; the
	// original view is the input as given.
	Text string
	// lo and hi map byte i of Text to the original bytes [lo[i], hi[i]).
	// They are set only by NewView.
	lo, hi []int32
	// spans is the compact mapping used by the views Views derives. When
	// both lo and spans are nil the view's offsets are the original's.
	spans []span
}

// span maps the view bytes from v up to the next span's v (or the end of
// the text) to original bytes. A linear span maps view byte v+k to original
// byte o+k; a block span maps every one of its bytes to [o, o+n).
type span struct {
	v, o, n int32
	lin     bool
}

// Identity reports whether the view's offsets are the original's.
func (v *View) Identity() bool { return v.lo == nil && v.spans == nil }

// Original maps the byte range [start, end) of v.Text to the byte range of
// the original text it was derived from. Out-of-range values are clamped.
func (v *View) Original(start, end int) (int, int) {
	if v.lo == nil && v.spans == nil {
		return start, end
	}
	n := len(v.Text)
	if n == 0 {
		return 0, 0
	}
	if start < 0 {
		start = 0
	}
	if start >= n {
		start = n - 1
	}
	if end <= start {
		end = start + 1
	}
	if end > n {
		end = n
	}
	var s, e int
	if v.lo != nil {
		s, e = int(v.lo[start]), int(v.hi[end-1])
	} else {
		s, _ = v.spanAt(start)
		_, e = v.spanAt(end - 1)
	}
	if e < s {
		s, e = e, s
	}
	return s, e
}

// spanAt returns the original range of view byte k (0 <= k < len(v.Text)).
func (v *View) spanAt(k int) (int, int) {
	p := v.spans[v.spanIndex(k)]
	if p.lin {
		o := int(p.o) + k - int(p.v)
		return o, o + 1
	}
	return int(p.o), int(p.o + p.n)
}

// NewView returns a view of text whose byte i comes from the original bytes
// [lo[i], hi[i]). lo and hi must have len(text) entries.
func NewView(name, text string, lo, hi []int32) View {
	if len(lo) != len(text) || len(hi) != len(text) {
		panic("normalize: offset tables do not match text length")
	}
	if lo == nil {
		// An empty view still has a mapping, so it is not the identity.
		lo, hi = []int32{}, []int32{}
	}
	return View{Name: name, Text: text, lo: lo, hi: hi}
}

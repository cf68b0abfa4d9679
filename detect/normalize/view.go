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
	// Text is the derived text, valid UTF-8.
	Text string
	// lo and hi map byte i of Text to the original bytes [lo[i], hi[i]).
	// A nil lo means the view is the original text itself (identity).
	lo, hi []int32
}

// Identity reports whether the view's offsets are the original's.
func (v *View) Identity() bool { return v.lo == nil }

// Original maps the byte range [start, end) of v.Text to the byte range of
// the original text it was derived from. Out-of-range values are clamped.
func (v *View) Original(start, end int) (int, int) {
	if v.lo == nil {
		return start, end
	}
	n := len(v.lo)
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
	s, e := int(v.lo[start]), int(v.hi[end-1])
	if e < s {
		s, e = e, s
	}
	return s, e
}

// NewView returns a view of text whose byte i comes from the original bytes
// [lo[i], hi[i]). lo and hi must have len(text) entries.
func NewView(name, text string, lo, hi []int32) View {
	if len(lo) != len(text) || len(hi) != len(text) {
		panic("normalize: offset tables do not match text length")
	}
	return View{Name: name, Text: text, lo: lo, hi: hi}
}

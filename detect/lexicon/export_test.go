package lexicon

import "github.com/warden-safety/warden/detect/normalize"

// NewWholeViews is New for a detector that reads every view whole, as
// Scan did before it read derived views around their changes.
func NewWholeViews(opts ...Option) (*Detector, error) {
	d, err := New(opts...)
	if err == nil {
		d.wholeViews = true
	}
	return d, err
}

// Reach is how far from a change the detector looks, in text without and
// with full-width forms.
func (d *Detector) Reach() (int, int) { return d.reach, d.reachWide }

// Regions reports how Scan reads view v of original: the number of
// regions, or whole.
func (d *Detector) Regions(original string, v *normalize.View) (n int, whole bool) {
	sc := d.pool.Get().(*scratch)
	defer d.pool.Put(sc)
	regs, whole := d.regions(sc, original, v)
	return len(regs), whole
}

// Patterns returns the compiled phrases.
func (d *Detector) Patterns() []string { return d.patterns }

// OneStream returns the matches of text read as one stream from its
// start, in the order found.
func OneStream(a *Automaton, text string) []Match {
	var out []Match
	a.scanRange(text, 0, 0, func(p, s, e int) { out = append(out, Match{int32(p), int32(s), int32(e)}) })
	return out
}

// MinWide is the shortest text Scan reads as several streams, whose
// matches come in order.
const MinWide = minWide

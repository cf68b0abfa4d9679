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

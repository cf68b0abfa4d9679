package pii

// NewWholeViews returns a detector that reads every view whole, as Scan
// did before it read derived views around their changes.
func NewWholeViews() *Detector { return &Detector{wholeViews: true} }

//go:build !linux

package hugepage

// advise does nothing where this package does not know how to ask for
// huge pages.
func advise(b []byte) {}

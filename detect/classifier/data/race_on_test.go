//go:build race

package data

// raceEnabled is true when the tests run under the race detector, which
// makes reading every dataset too slow; the adapters test then reads a
// subset.
const raceEnabled = true

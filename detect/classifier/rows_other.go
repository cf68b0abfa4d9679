//go:build !amd64 || purego

package classifier

// addRows32 adds the 32-wide table rows of feats to acc, reading row
// ahead[k] early while row k is summed (see addRows32Go).
func (m *Model) addRows32(acc *[32]int32, feats, ahead []uint32) byte {
	return m.addRows32Go(acc, feats, ahead)
}

// simdHeads reports that heads16 computes the head sums: not here.
const simdHeads = false

// headSums is never called where simdHeads is false (w2t stays nil).
func (m *Model) headSums(h, acc []float32) { headSumsGo(h, m.w2t, acc) }

// meanHidden32 is never called where simdHeads is false (w2t stays nil).
func meanHidden32(sum []int32, bos []byte, inv float32, b1, h []float32) {
	panic("classifier: meanHidden32 without SIMD")
}

// prefetchRows does nothing: Go has no prefetch instruction, and a load
// that misses would hold up the hashing it is meant to overlap.
func (m *Model) prefetchRows(feats []uint32) {}

package classifier

import "encoding/binary"

// addRows32Go adds the 32-wide table rows of feats to acc. It works eight
// bytes at a time (SWAR) on the table's biased bytes: sums of whole words
// (a) and of their odd bytes moved down (o) go to 16-bit lanes, the even
// bytes' sums are a - o<<8 (exact modulo 2^64, and each lane stays below
// 2^16), and the bias is removed once at the end. A lane holds up to 257
// rows of bytes below 256. It sums each half row in its own pass, so the
// accumulators stay in registers; the second pass finds the rows in
// cache. The first reads a byte of row ahead[k] while summing row k, so
// that row's cache miss is under way before it is summed (Go has no
// prefetch instruction); it returns the XOR of those bytes, which the
// caller keeps so the reads are not optimized away.
func (m *Model) addRows32Go(acc *[32]int32, feats, ahead []uint32) byte {
	const lane = 0x00FF00FF00FF00FF
	tab := m.tab
	bias := int32(tabBias * len(feats))
	var touch byte
	for half := 0; half < 32; half += 16 {
		var a0, a1, o0, o1 uint64
		for k, f := range feats {
			if half == 0 && k < len(ahead) {
				touch ^= tab[int(ahead[k])*32]
			}
			b := int(f)*32 + half
			row := tab[b : b+16 : b+16]
			x0 := binary.LittleEndian.Uint64(row[0:8])
			x1 := binary.LittleEndian.Uint64(row[8:16])
			a0 += x0
			o0 += (x0 >> 8) & lane
			a1 += x1
			o1 += (x1 >> 8) & lane
		}
		for w, p := range [2][2]uint64{{a0 - o0<<8, o0}, {a1 - o1<<8, o1}} {
			a := (*[8]int32)(acc[half+w*8 : half+w*8+8])
			ev, od := p[0], p[1]
			a[0] += int32(ev&0xFFFF) - bias
			a[1] += int32(od&0xFFFF) - bias
			a[2] += int32((ev>>16)&0xFFFF) - bias
			a[3] += int32((od>>16)&0xFFFF) - bias
			a[4] += int32((ev>>32)&0xFFFF) - bias
			a[5] += int32((od>>32)&0xFFFF) - bias
			a[6] += int32(ev>>48) - bias
			a[7] += int32(od>>48) - bias
		}
	}
	return touch
}

// maxSIMDHeads bounds the heads whose sums heads16 computes.
const maxSIMDHeads = 64

// headLayout lays out w2 (heads rows of d weights) for heads16: in
// chunks of 16 heads, for each input j the 16 heads' weights of j, with
// zeros for the heads past the last.
func headLayout(w2 []float32, d, heads int) []float32 {
	chunks := (heads + 15) / 16
	w := make([]float32, chunks*d*16)
	for k := 0; k < heads; k++ {
		c, l := k/16, k%16
		for j := 0; j < d; j++ {
			w[(c*d+j)*16+l] = w2[k*d+j]
		}
	}
	return w
}

// headSumsGo is what heads16 computes, in Go: the tests' reference.
func headSumsGo(h, w, acc []float32) {
	d := len(h)
	for k := range acc {
		c, l := k/16, k%16
		a := acc[k]
		for j, v := range h {
			a += float32(w[(c*d+j)*16+l] * v)
		}
		acc[k] = a
	}
}

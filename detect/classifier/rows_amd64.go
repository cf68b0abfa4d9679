//go:build amd64 && !purego

package classifier

// simdHeads reports that heads16 computes the head sums.
const simdHeads = true

// sumRows32 sums the biased bytes of the 32-byte table rows rows[0:n]
// into out, column by column, in 16-bit lanes (n ≤ 257 cannot overflow).
// Each row number is masked with mask first, so a table of mask+1 rows is
// never read out of bounds.
// While summing row k it asks the processor to fetch row ahead[k] for
// k < na (a prefetch, which unlike a load does not hold up the rows after
// it). It uses SSE2, which every amd64 processor has.
//
//go:noescape
func sumRows32(tab *byte, mask uint32, rows *uint32, n int, ahead *uint32, na int, out *[32]uint16)

// addRows32 adds the 32-wide table rows of feats to acc and starts
// fetching the rows of ahead, ahead[k] while row k is summed. It returns
// 0: the assembly prefetches instead of reading (see the pure-Go
// version in rows_other.go).
func (m *Model) addRows32(acc *[32]int32, feats, ahead []uint32) byte {
	if len(feats) == 0 {
		return 0
	}
	var ap *uint32
	na := min(len(ahead), len(feats))
	if na > 0 {
		ap = &ahead[0]
	}
	rows := len(m.tab) / 32
	if rows&(rows-1) != 0 || len(m.tab)%32 != 0 {
		// not a table Quantize or ReadModel makes (2^Bits rows)
		return m.addRows32Go(acc, feats, ahead)
	}
	var sums [32]uint16
	sumRows32(&m.tab[0], uint32(rows-1), &feats[0], len(feats), ap, na, &sums)
	bias := int32(tabBias * len(feats))
	for j, v := range sums {
		acc[j] += int32(v) - bias
	}
	return 0
}

// heads16 adds to acc[16c+l] (l < 16) the dot product of h[0:d] with
// head 16c+l's weights, for each chunk c < chunks. w holds, for each
// chunk and each j < d, the 16 heads' weights of input j. Each head's sum
// is one chain of float32 products and additions in the order of j, as
// the pure-Go loop makes it, so the results are bit for bit the same; the
// sixteen chains run four to a register, in four registers.
//
//go:noescape
func heads16(h *float32, d int, w *float32, chunks int, acc *float32)

// headSums adds to acc (len = heads rounded up to 16) the dot product of
// h with each head's weights, from m.w2t.
func (m *Model) headSums(h, acc []float32) {
	d, w := len(h), m.w2t
	chunks := len(acc) / 16
	if d == 0 || chunks == 0 || len(w) < chunks*d*16 {
		panic("classifier: heads16 shapes")
	}
	heads16(&h[0], d, &w[0], chunks, &acc[0])
}

// meanHidden32 computes the hidden layer's output for a window of width
// 32: h[j] = ReLU(float32(sum[j] + bos[j] - tabBias) * inv + b1[j]), with
// the same float32 operations in the same order as mean and network, so
// bit for bit their result (ReLU keeps -0 and NaN, as their branch does).
func meanHidden32(sum []int32, bos []byte, inv float32, b1, h []float32) {
	if len(sum) < 32 || len(bos) < 32 || len(b1) < 32 || len(h) < 32 {
		panic("classifier: meanHidden32 shapes")
	}
	meanHidden32SSE(&sum[0], &bos[0], inv, &b1[0], &h[0])
}

//go:noescape
func meanHidden32SSE(sum *int32, bos *byte, inv float32, b1 *float32, h *float32)

// prefetchRows32 asks the processor to fetch the 32-byte table rows
// rows[0:n], each masked with mask as in sumRows32. A prefetch holds up
// no instruction after it, so the rows come in while other work runs.
//
//go:noescape
func prefetchRows32(tab *byte, mask uint32, rows *uint32, n int)

// prefetchRows starts fetching the table rows of feats (width 32 only).
func (m *Model) prefetchRows(feats []uint32) {
	rows := len(m.tab) / 32
	if len(feats) == 0 || m.cfg.inner() != 32 || rows&(rows-1) != 0 || len(m.tab)%32 != 0 {
		return
	}
	prefetchRows32(&m.tab[0], uint32(rows-1), &feats[0], len(feats))
}

package normalize

// A Change is a stretch of a view's text that is not a copy of the
// original: view bytes [Start, End) stand for original bytes
// [OrigStart, OrigEnd). Either side may be empty: a removed zero-width
// character leaves an empty view side.
type Change struct {
	Start, End         int
	OrigStart, OrigEnd int
}

// Changes appends to dst the stretches where v.Text differs from original,
// the text the view was derived from, other than in the case of ASCII
// letters, in order and merged where they touch. Outside them the view is a
// byte-for-byte copy of the original up to ASCII case, at the offsets its
// mapping gives, so a detector that ignores ASCII case and has already
// scanned the original needs to look at the view only around them.
//
// It reports false when the view's mapping cannot say (a view made by
// NewView, or one whose pieces map back out of order, as a decoder's
// may): callers must then treat the whole text as changed.
func (v *View) Changes(original string, dst []Change) ([]Change, bool) {
	if v.lo != nil {
		return dst, false
	}
	first := len(dst)
	add := func(c Change) {
		if k := len(dst); k > first && dst[k-1].End == c.Start && dst[k-1].OrigEnd == c.OrigStart {
			dst[k-1].End, dst[k-1].OrigEnd = c.End, c.OrigEnd
			return
		}
		dst = append(dst, c)
	}
	if v.spans == nil {
		// The identity mapping: only bytes can differ.
		n := min(len(v.Text), len(original))
		diffCopy(v.Text[:n], original[:n], 0, 0, add)
		if len(v.Text) != len(original) {
			add(Change{n, len(v.Text), n, len(original)})
		}
		return dst, true
	}
	op := 0 // the original offset a copy would continue from
	for i, p := range v.spans {
		end := len(v.Text)
		if i+1 < len(v.spans) {
			end = int(v.spans[i+1].v)
		}
		vs, o := int(p.v), int(p.o)
		if o < op {
			// A jump back: the view reorders or repeats the original
			// (a decoder's blocks overlap), and no list of changes says so.
			return dst[:first], false
		}
		if o > op {
			add(Change{vs, vs, op, o}) // original bytes removed
		}
		if !p.lin {
			oe := o + int(p.n)
			if oe-o != end-vs || oe > len(original) || !equalASCIIFold(v.Text[vs:end], original[o:oe]) {
				add(Change{vs, end, o, oe})
			}
			op = oe
			continue
		}
		oe := o + end - vs
		if o < 0 || oe > len(original) {
			add(Change{vs, end, o, min(oe, len(original))})
			op = oe
			continue
		}
		diffCopy(v.Text[vs:end], original[o:oe], vs, o, add)
		op = oe
	}
	if op != len(original) {
		n := len(v.Text)
		add(Change{n, n, min(op, len(original)), len(original)})
	}
	return dst, true
}

// diffCopy adds a Change for every run of bytes where a, at view offset vo,
// differs from b, at original offset oo, other than in ASCII case. a and b
// have the same length.
func diffCopy(a, b string, vo, oo int, add func(Change)) {
	i := 0
	for i < len(a) {
		// Eight bytes at a time while they are equal.
		for i+8 <= len(a) && load64(a, i) == load64(b, i) {
			i += 8
		}
		if i >= len(a) {
			break
		}
		if sameFold(a[i], b[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(a) && !sameFold(a[j], b[j]) {
			j++
		}
		add(Change{vo + i, vo + j, oo + i, oo + j})
		i = j
	}
}

// sameFold reports whether bytes x and y are equal up to ASCII case.
func sameFold(x, y byte) bool {
	if x == y {
		return true
	}
	x |= 0x20
	return x == y|0x20 && x >= 'a' && x <= 'z'
}

func equalASCIIFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if !sameFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

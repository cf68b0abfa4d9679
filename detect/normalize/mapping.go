package normalize

// mapping collects the spans of a view under construction, in view order.
// Adjacent spans that continue each other are merged, so a view whose text
// is mostly copied costs a handful of spans, not a table per byte.
type mapping struct {
	spans []span
}

// lin maps view bytes from v onwards to original bytes from o onwards.
func (m *mapping) lin(v, o int) {
	if k := len(m.spans); k > 0 {
		p := &m.spans[k-1]
		if int(p.v) == v {
			// The previous span is empty: replace it.
			*p = span{v: int32(v), o: int32(o), lin: true}
			m.mergeLast()
			return
		}
		if p.lin && int(p.o)+(v-int(p.v)) == o {
			return
		}
	}
	m.spans = append(m.spans, span{v: int32(v), o: int32(o), lin: true})
}

// block maps view bytes from v onwards, each of them, to original [o, oe).
func (m *mapping) block(v, o, oe int) {
	if k := len(m.spans); k > 0 {
		p := &m.spans[k-1]
		if int(p.v) == v {
			*p = span{v: int32(v), o: int32(o), n: int32(oe - o)}
			m.mergeLast()
			return
		}
		if !p.lin && int(p.o) == o && int(p.n) == oe-o {
			return
		}
	}
	m.spans = append(m.spans, span{v: int32(v), o: int32(o), n: int32(oe - o)})
}

// mergeLast drops the last span when it merely continues the one before.
func (m *mapping) mergeLast() {
	k := len(m.spans)
	if k < 2 {
		return
	}
	p, q := m.spans[k-2], m.spans[k-1]
	if p.lin && q.lin && int(p.o)+int(q.v-p.v) == int(q.o) ||
		!p.lin && !q.lin && p.o == q.o && p.n == q.n {
		m.spans = m.spans[:k-1]
	}
}

// truncate forgets every span that starts at or after view byte v.
func (m *mapping) truncate(v int) {
	k := len(m.spans)
	for k > 0 && int(m.spans[k-1].v) >= v {
		k--
	}
	m.spans = m.spans[:k]
}

// reset empties the mapping, keeping its storage.
func (m *mapping) reset() { m.spans = m.spans[:0] }

// finish returns a copy of the spans for a view of length n whose source
// has length srcLen; nil when the mapping is the identity.
func (m *mapping) finish(n, srcLen int) []span {
	if n == srcLen && (len(m.spans) == 0 || len(m.spans) == 1 && m.spans[0].lin && m.spans[0].v == 0 && m.spans[0].o == 0) {
		return nil
	}
	out := make([]span, len(m.spans))
	copy(out, m.spans)
	return out
}

// compose maps spans of a child text (whose "original" is parent.Text) onto
// the parent's original, so the result maps the child straight back to the
// original text. A nil child means the child is the parent's text itself.
func compose(child []span, childLen int, parent *View) []span {
	if parent.Identity() {
		return child
	}
	if child == nil {
		child = []span{{v: 0, o: 0, lin: true}}
	}
	var m mapping
	m.spans = make([]span, 0, len(child)+len(parent.spans))
	for i, c := range child {
		end := childLen
		if i+1 < len(child) {
			end = int(child[i+1].v)
		}
		if end <= int(c.v) {
			continue
		}
		if !c.lin {
			s, e := parent.Original(int(c.o), int(c.o+c.n))
			m.block(int(c.v), s, e)
			continue
		}
		// A linear piece: follow it through the parent's spans.
		a, b := int(c.o), int(c.o)+end-int(c.v)
		for a < b {
			if parent.lo != nil {
				s, e := parent.Original(a, a+1)
				m.block(int(c.v)+a-int(c.o), s, e)
				a++
				continue
			}
			j := parent.spanIndex(a)
			p := parent.spans[j]
			pend := len(parent.Text)
			if j+1 < len(parent.spans) {
				pend = int(parent.spans[j+1].v)
			}
			if pend > b {
				pend = b
			}
			if pend <= a {
				pend = a + 1
			}
			if p.lin {
				m.lin(int(c.v)+a-int(c.o), int(p.o)+a-int(p.v))
			} else {
				m.block(int(c.v)+a-int(c.o), int(p.o), int(p.o+p.n))
			}
			a = pend
		}
	}
	return m.spans
}

// spanIndex returns the index of the span holding view byte k.
func (v *View) spanIndex(k int) int {
	sp := v.spans
	lo, hi := 0, len(sp)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if int(sp[h].v) <= k {
			lo = h + 1
		} else {
			hi = h
		}
	}
	if lo == 0 {
		return 0
	}
	return lo - 1
}

package normalize

import "sync"

// Options bound the work Views does.
type Options struct {
	// MaxDepth bounds how many decoders may be chained (base64>hex>rot13 is 3).
	MaxDepth int
	// MaxViews bounds the number of views returned, the original included.
	MaxViews int
	// MaxDecodedBytes bounds the total bytes of the decoded views' texts
	// (before folding). A token too long for what is left is decoded in
	// part; a view that would pass the bound is cut short.
	MaxDecodedBytes int
}

// DefaultOptions are the bounds used when a field of Options is zero.
var DefaultOptions = Options{MaxDepth: 4, MaxViews: 32, MaxDecodedBytes: 1 << 20}

func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultOptions.MaxDepth
	}
	if o.MaxViews <= 0 {
		o.MaxViews = DefaultOptions.MaxViews
	}
	if o.MaxDecodedBytes <= 0 {
		o.MaxDecodedBytes = DefaultOptions.MaxDecodedBytes
	}
	return o
}

// Views returns the original text as the first view (Name "original",
// identity offsets), followed by every derived view that differs from the
// views before it:
//
//   - "folded": NFKC, lower case, invisible and bidi-control characters
//     removed, combining marks piled on ASCII letters removed, look-alike
//     letters read as ASCII (see Canonical);
//   - "leet" and "leet-l": the folded text with leetspeak words read as
//     letters, '1' read as 'i' and as 'l';
//   - "joined": the folded text with letters written apart joined
//     ("b.o.m.b" → "bomb");
//   - decoded views named by their chain of decoders ("base64", "hex",
//     "percent", "html", "rot13", "percent>base64", "base64>rot13"): the
//     text with each encoded segment replaced by its decoding (keeping up
//     to 1 KiB of the text around each decoded piece), then folded.
//     Decoding nests into decoded segments up to MaxDepth. Decoders read
//     the text with invisible characters removed and NFKC applied (case
//     kept), so "Ym9t\u200bYg==" decodes.
//
// Each decoder accepts only candidates that decode to text (valid UTF-8,
// no control characters, mostly letters), so ordinary words that happen
// to be valid base64 or hex ("test", "abcd", "deadbeef") make no view; the
// exact rules are on the decode functions. rot13 is tried per sentence
// and kept where the rotated text reads as English by letter-pair
// statistics; for ordinary English a probe of 16 letter pairs per
// sentence settles it, so long text pays no second pass.
//
// Plain text gets at most a lower-cased "folded" view, which shares the
// original's offsets: a "folded" view whose Identity is true differs from
// the original only in the case of ASCII letters, so case-insensitive
// detectors may skip it; a single pass (prescan)
// decides which of the other transforms can change the text at all, and
// only those run. Views never panics; every derived view is valid UTF-8
// and maps back into text with View.Original: a decoded byte maps to the
// encoded bytes it came from (its base64 quantum, hex pair, escape or
// entity; groups of quanta for long tokens).
func Views(text string, opt Options) []View {
	n := normalizers.Get().(*normalizer)
	n.opt = opt.withDefaults()
	views := n.run(text)
	n.release()
	return views
}

// normalizers keeps the buffers of folding and decoding from one call to
// Views to the next: a long text otherwise grows them anew each time.
// Nothing Views returns points into them (texts and mappings are copied
// out).
var normalizers = sync.Pool{New: func() any { return new(normalizer) }}

// maxPooledBuffer bounds the buffers a pooled normalizer keeps, in bytes,
// so one huge text does not stay in memory.
const maxPooledBuffer = 1 << 20

// release forgets this call's views and returns n to the pool.
func (n *normalizer) release() {
	n.views = nil
	n.f.src = ""
	if cap(n.f.out) > maxPooledBuffer || cap(n.f.m.spans) > maxPooledBuffer/8 {
		n.f.out, n.f.m.spans = nil, nil
	}
	if cap(n.d.out) > maxPooledBuffer || cap(n.d.m.spans) > maxPooledBuffer/8 {
		n.d.out, n.d.m.spans = nil, nil
	}
	normalizers.Put(n)
}

// normalizer holds the state of one call to Views.
type normalizer struct {
	opt Options
	// noPrescan runs every transform as if prescan had flagged it (tests
	// use it to check that prescan never hides a view).
	noPrescan bool
	// slowKeepCase folds the decoders' text again instead of taking it
	// from the folded view (tests compare the two).
	slowKeepCase bool
	views        []View
	budget       int
	f            folder
	d            decoding
}

// item is a text waiting for decoding.
type item struct {
	raw     View // the decoded text before folding, mapped to the original
	depth   int
	regions []region
	flags   scanFlags // at depth 0, the decoders prescan allows
}

func (n *normalizer) prescan(s string) scanFlags {
	if n.noPrescan {
		f := ^scanFlags(0)
		if upper, nonASCII := asciiCase(s); !nonASCII {
			f &^= fNonASCII
			if !upper {
				f &^= fUpper
			}
		}
		return f
	}
	return prescan(s)
}

func (n *normalizer) full() bool { return len(n.views) >= n.opt.MaxViews }

// add appends v unless it is empty, repeats an earlier view or the views
// are full, and reports whether it did.
func (n *normalizer) add(v View) bool {
	if v.Text == "" || n.full() {
		return false
	}
	for i := range n.views {
		if n.views[i].Text == v.Text {
			return false
		}
	}
	n.views = append(n.views, v)
	return true
}

func (n *normalizer) run(text string) []View {
	n.views = make([]View, 1, 4)
	n.views[0] = View{Name: "original", Text: text}
	n.budget = n.opt.MaxDecodedBytes
	n.f.track = true

	// Folding, then leetspeak and joined letters over the folded text.
	flags := n.prescan(text)
	base := n.views[0]
	reshaped := false
	switch {
	case flags&fNonASCII != 0:
		if ft, changed := n.f.fold(text); changed {
			base = View{Name: "folded", Text: ft, spans: n.f.m.finish(len(ft), len(text))}
			n.add(base)
			if n.f.reshaped {
				reshaped = true
				// Folding made letters of what prescan saw as other
				// bytes: look at the folded text itself.
				flags |= fLeet | fJoin
			}
		}
	case flags&fUpper != 0:
		base = View{Name: "folded", Text: lowerCopy(text)}
		n.add(base)
	}
	if flags&fLeet != 0 {
		if lt, ok, sawOne := leet(base.Text, 'i'); ok {
			n.add(View{Name: "leet", Text: lt, spans: base.spans})
			if sawOne {
				lt, _, _ = leet(base.Text, 'l')
				n.add(View{Name: "leet-l", Text: lt, spans: base.spans})
			}
		}
	}
	if flags&fJoin != 0 {
		var jm mapping
		if jt, ok := join(base.Text, &jm); ok {
			n.add(View{Name: "joined", Text: jt, spans: compose(jm.spans, len(jt), &base)})
		}
	}

	// Decoders, breadth first: every decoder on the original, then every
	// decoder on the segments each of them decoded, and so on.
	const decoding = fBase64 | fHex | fPercent | fHTML | fRot13
	root := item{raw: n.views[0], flags: flags}
	if reshaped {
		// Decoders read the text with invisible characters removed and
		// NFKC applied, but case kept, so that "Ym9t\u200bYg==" and
		// full-width base64 decode too. ASCII is left as it is, so this
		// text decodes everything the original does.
		// Most often (full-width punctuation in Chinese text) that text
		// is the folded view with the case of its letters kept.
		ct, buf, ok := "", n.f.out, false
		if !n.slowKeepCase {
			ct, buf, ok = keptCase(text, &base, n.f.out)
			n.f.out = buf
		}
		if ok {
			if ct != text {
				root = item{raw: View{Text: ct, spans: base.spans}, flags: n.prescan(ct)}
			}
		} else {
			n.f.keepCase = true
			if ct, changed := n.f.fold(text); changed {
				clean := View{Text: ct, spans: n.f.m.finish(len(ct), len(text))}
				root = item{raw: clean, flags: n.prescan(ct)}
			}
			n.f.keepCase = false
		}
	}
	if root.flags&decoding == 0 {
		return n.views
	}
	root.regions = []region{{0, len(root.raw.Text)}}
	queue := []item{root}
	for len(queue) > 0 && !n.full() {
		it := queue[0]
		queue = queue[1:]
		if it.depth >= n.opt.MaxDepth {
			continue
		}
		for k, dec := range decoders {
			if n.full() || n.budget <= 0 {
				break
			}
			if it.depth == 0 && it.flags&dec.flag == 0 {
				continue
			}
			n.d.reset(n.budget)
			if !n.d.run(k, it.raw.Text, it.regions) || len(n.d.out) > n.budget {
				continue
			}
			name := dec.name
			if it.depth > 0 {
				name = it.raw.Name + ">" + dec.name
			}
			rawText := string(n.d.out)
			n.budget -= len(rawText)
			raw := View{Name: name, Text: rawText, spans: compose(n.d.m.finish(len(rawText), -1), len(rawText), &it.raw)}
			v := raw
			switch upper, nonASCII := asciiCase(rawText); {
			case nonASCII:
				if ft, changed := n.f.fold(rawText); changed {
					v = View{Name: name, Text: ft, spans: compose(n.f.m.finish(len(ft), len(rawText)), len(ft), &raw)}
				}
			case upper:
				// Lower-casing ASCII keeps every offset.
				v = View{Name: name, Text: lowerCopy(rawText), spans: raw.spans}
			}
			if n.add(v) {
				regions := make([]region, len(n.d.regions))
				copy(regions, n.d.regions)
				queue = append(queue, item{raw: raw, depth: it.depth + 1, regions: regions})
			}
		}
	}
	return n.views
}

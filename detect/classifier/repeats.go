package classifier

// Degenerate windows. A text that repeats a word or a short phrase over
// and over ("hello hello hello …", "1 1 1 …", "lol lol lol …") is unlike
// any training text: the average of its window is one phrase's rows, with
// the start feature, the model's prior, diluted to nothing, and the model
// scored such texts at random extremes (a quarter of repeated benign words
// flagged, many at 1.0 as prompt injection). A window where most tokens
// repeat one of the few tokens before them is read instead as the set of
// its distinct features, which is the phrase said a few times: text the
// model knows. Ordinary prose never comes near that share of repeats, so
// every other window keeps its exact sum.

// repeatSpan is how far back, in tokens, a repeat is looked for: a unit
// of up to four tokens repeated back to back repeats every token.
const repeatSpan = 4

// degenerateMin is the shortest window tested: a few repeats in a short
// text ("no no no") are ordinary.
const degenerateMin = 4

// countRepeats fills s.reps: reps[i] is the number of tokens in [0, i)
// equal to one of the repeatSpan tokens before them.
func (s *scratch) countRepeats() {
	toks := s.toks
	n := len(toks)
	if cap(s.reps) < n+1 {
		s.reps = make([]int32, n+1)
	}
	reps := s.reps[:n+1]
	reps[0] = 0
	i := 0
	for ; i < n && i < repeatSpan; i++ {
		reps[i+1] = reps[i] + repeatAt(toks, i)
	}
	// Past the first few tokens, the four hashes are compared without a
	// branch: which of them a token repeats, if any, follows the text, and
	// a branch per comparison mispredicted often enough in Chinese text
	// to make this loop cost a tenth of the tokenizer. Only an equal hash
	// needs the whole token compared.
	r := reps[i]
	for ; i < n; i++ {
		t := &toks[i]
		w := toks[i-repeatSpan : i : i]
		same := eq(w[0].h, t.h) | eq(w[1].h, t.h) | eq(w[2].h, t.h) | eq(w[3].h, t.h)
		if same != 0 {
			r += repeatAt(toks, i)
		}
		reps[i+1] = r
	}
}

// eq is 1 when a == b, else 0 (the compiler makes it a SETcc, not a branch).
func eq(a, b uint64) int32 {
	if a == b {
		return 1
	}
	return 0
}

// repeatAt is 1 when token i equals one of the repeatSpan tokens before
// it, else 0.
func repeatAt(toks []token, i int) int32 {
	for p := 1; p <= repeatSpan && p <= i; p++ {
		if toks[i-p] == toks[i] {
			return 1
		}
	}
	return 0
}

// degenerate reports whether more than half the tokens of the window
// [a, b) repeat a token just before them.
func degenerate(s *scratch, a, b int) bool {
	return b-a >= degenerateMin && 2*(s.reps[b]-s.reps[a]) > int32(b-a)
}

// windowSet runs the network on the mean of the distinct features of
// tokens [a, b) and folds the logits, less bias, into out with max.
func (m *Model) windowSet(s *scratch, a, b int, bias float32, out []float32) {
	d := m.cfg.inner()
	bits := m.cfg.Bits
	s.keep = s.keep[:0]
	// an open-addressing set at most half full (a token has at most
	// four features)
	size := 64
	for size < 8*(b-a) {
		size <<= 1
	}
	if cap(s.set) < size {
		s.set = make([]uint64, size)
	}
	set := s.set[:size]
	clear(set)
	mask := uint64(size - 1)
	for i := a; i < b; i++ {
		s.feats = tokenFeatures(s.toks, i, bits, s.feats[:0])
		for _, f := range s.feats {
			key := uint64(f) + 1 // 0 marks an empty slot
			j := (uint64(f) * 0x9e3779b97f4a7c15 >> 32) & mask
			for set[j] != 0 && set[j] != key {
				j = (j + 1) & mask
			}
			if set[j] == 0 {
				set[j] = key
				s.keep = append(s.keep, f)
			}
		}
	}
	sum := s.windowSum(d)
	clear(sum)
	m.addRows(s, sum, s.keep, 0, len(s.keep))
	m.mean(s, sum, int32(len(s.keep)), bias, out)
}

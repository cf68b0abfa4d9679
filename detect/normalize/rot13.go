package normalize

// rot13 appends s with ASCII letters rotated by 13.
func rot13(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, rot13Byte(s[i]))
	}
	return dst
}

func rot13Byte(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z':
		return 'a' + (c-'a'+13)%26
	case c >= 'A' && c <= 'Z':
		return 'A' + (c-'A'+13)%26
	}
	return c
}

// bigramCost[a*26+b] is -8·ln p(ab) for the letter pair ab inside an English
// word (add-one smoothed). It was computed from the 18,002 English prompts of
// the benign mix in the shared datasets (benign/suggested_mix.jsonl,
// 1,960,244 letter pairs); only these 676 numbers are kept.
var bigramCost = [26 * 26]uint8{
	78, 48, 42, 47, 72, 57, 49, 74, 46, 75, 53, 36, 45, 32, 81, 50, 81, 36, 39, 33, 52, 50, 59, 63, 48, 73, // a
	51, 74, 77, 79, 42, 87, 94, 92, 54, 68, 107, 50, 79, 84, 48, 79, 105, 55, 63, 72, 52, 95, 92, 90, 55, 116, // b
	40, 91, 56, 77, 41, 88, 90, 41, 48, 98, 52, 51, 81, 86, 38, 77, 81, 50, 65, 42, 51, 87, 100, 98, 62, 95, // c
	49, 76, 76, 59, 39, 73, 68, 78, 42, 82, 86, 65, 68, 69, 46, 76, 92, 55, 53, 74, 53, 68, 76, 85, 62, 99, // d
	40, 63, 42, 37, 46, 51, 52, 65, 52, 81, 66, 42, 46, 34, 56, 51, 58, 32, 35, 42, 66, 50, 55, 47, 53, 78, // e
	52, 95, 88, 87, 48, 53, 87, 116, 46, 116, 92, 59, 93, 86, 41, 85, 110, 49, 80, 57, 55, 86, 97, 98, 69, 110, // f
	52, 82, 90, 84, 43, 87, 65, 50, 51, 110, 100, 59, 75, 59, 54, 81, 116, 52, 60, 70, 56, 99, 98, 116, 67, 97, // g
	37, 74, 86, 75, 29, 86, 90, 92, 42, 105, 97, 70, 71, 67, 40, 75, 98, 57, 71, 54, 61, 94, 82, 116, 58, 92, // h
	47, 56, 40, 45, 45, 48, 48, 83, 73, 82, 60, 44, 46, 30, 39, 55, 73, 47, 36, 37, 72, 47, 92, 68, 87, 57, // i
	66, 110, 107, 107, 61, 105, 116, 103, 82, 107, 93, 100, 102, 96, 61, 99, 107, 97, 72, 91, 61, 116, 110, 116, 110, 116, // j
	67, 83, 83, 77, 47, 84, 78, 78, 55, 93, 91, 72, 88, 61, 74, 86, 116, 84, 60, 81, 76, 98, 82, 107, 76, 110, // k
	42, 72, 69, 48, 37, 58, 76, 86, 41, 102, 67, 41, 68, 74, 43, 66, 110, 77, 53, 55, 52, 65, 73, 102, 46, 95, // l
	41, 56, 80, 84, 38, 77, 84, 92, 47, 100, 93, 72, 57, 70, 45, 48, 99, 79, 58, 81, 55, 93, 91, 110, 52, 107, // m
	44, 76, 45, 36, 39, 56, 36, 71, 47, 70, 60, 61, 66, 57, 44, 65, 82, 75, 42, 36, 55, 58, 82, 84, 53, 82, // n
	60, 56, 51, 49, 56, 39, 55, 68, 55, 75, 59, 44, 42, 32, 50, 48, 94, 35, 47, 44, 38, 51, 43, 66, 64, 83, // o
	45, 88, 81, 70, 43, 85, 88, 55, 53, 97, 88, 45, 70, 80, 45, 53, 98, 43, 60, 54, 53, 90, 91, 88, 62, 105, // p
	95, 105, 110, 96, 103, 110, 110, 110, 93, 116, 116, 81, 105, 110, 110, 116, 97, 87, 110, 92, 52, 116, 105, 107, 110, 116, // q
	40, 67, 54, 48, 32, 66, 55, 75, 39, 102, 56, 58, 50, 52, 39, 63, 95, 53, 44, 46, 53, 60, 74, 91, 49, 93, // r
	50, 72, 50, 73, 37, 68, 78, 46, 43, 105, 60, 62, 60, 68, 45, 49, 71, 76, 45, 35, 47, 75, 61, 93, 58, 94, // s
	41, 70, 62, 74, 35, 68, 81, 28, 35, 107, 83, 57, 63, 69, 37, 65, 92, 43, 46, 52, 48, 79, 55, 84, 49, 83, // t
	53, 57, 52, 56, 50, 69, 56, 93, 56, 92, 77, 46, 51, 45, 73, 53, 100, 42, 43, 44, 95, 80, 116, 82, 67, 85, // u
	52, 97, 95, 89, 40, 95, 82, 98, 47, 110, 116, 90, 92, 93, 59, 91, 116, 92, 85, 99, 80, 102, 105, 102, 81, 110, // v
	46, 82, 86, 85, 47, 85, 103, 40, 44, 105, 89, 72, 87, 57, 48, 88, 116, 52, 64, 81, 100, 95, 82, 116, 86, 116, // w
	62, 100, 65, 105, 66, 97, 98, 87, 63, 116, 116, 87, 92, 102, 84, 57, 107, 96, 90, 58, 69, 103, 102, 92, 80, 105, // x
	70, 77, 69, 78, 54, 83, 84, 99, 65, 107, 103, 67, 64, 67, 49, 61, 107, 76, 55, 63, 93, 93, 80, 93, 94, 80, // y
	68, 100, 116, 102, 58, 107, 102, 94, 70, 116, 97, 90, 103, 105, 74, 107, 107, 107, 110, 94, 85, 107, 107, 103, 84, 78, // z
}

// rot13Gain scores s: the cost of its letter pairs read as English minus
// their cost once rotated by 13, in eighths of a nat. A positive gain means
// s reads better rotated. pairs counts the letter pairs scored.
func rot13Gain(s string) (gain, pairs int) {
	prev := -1
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			prev = -1
			continue
		}
		x := int(c - 'a')
		if prev >= 0 {
			rp, rx := (prev+13)%26, (x+13)%26
			gain += int(bigramCost[prev*26+x]) - int(bigramCost[rp*26+rx])
			pairs++
		}
		prev = x
	}
	return gain, pairs
}

// Rot13 heuristic. Text is cut into chunks at line and sentence ends
// ('\n', '.', '!', '?', ';', ':') and at every non-ASCII byte (so a Latin
// word inside Chinese text is judged alone); a chunk is rotated when, over
// at least minRot13Pairs letter pairs, rotating it lowers the English bigram cost by
// more than rot13Margin eighths of a nat per pair. Ordinary English loses
// heavily when rotated, so a chunk is abandoned after rot13Probe pairs that
// already favour the text as written: long English text costs one short
// probe per sentence and never makes a view. (On the benign mix, cutting
// the probe from unlimited to 16 pairs loses 3 of 56,574 rot13-encoded
// sentences; 12 pairs would lose 22.)
const (
	minRot13Pairs = 4
	rot13Margin   = 4
	rot13Probe    = 16
	// maxPairCost bounds the mean bigram cost of a word read as English.
	// English words average 42 (median) and 48 (90th percentile); random
	// letters 73 (median) and 59 (10th percentile).
	maxPairCost = 52
)

func isChunkEnd(c byte) bool {
	return c == '\n' || c == '.' || c == '!' || c == '?' || c == ';' || c == ':' || c >= 0x80
}

// pairCost returns the English bigram cost of the letter pairs of s and
// how many there are.
func pairCost(s string) (cost, pairs int) {
	prev := -1
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			prev = -1
			continue
		}
		x := int(c - 'a')
		if prev >= 0 {
			cost += int(bigramCost[prev*26+x])
			pairs++
		}
		prev = x
	}
	return cost, pairs
}

// rot13Chunk reports whether the chunk s should be rotated: rotating must
// gain enough and the rotated text must itself read as English (at most
// maxPairCost per pair, near the 99th percentile of English words), so
// that "abcd efgh" is not read as "nopq rstu".
func rot13Chunk(s string) bool {
	gain, pairs, prev := 0, 0, -1
	rotCost := 0
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			prev = -1
			continue
		}
		x := int(c - 'a')
		if prev >= 0 {
			rp, rx := (prev+13)%26, (x+13)%26
			gain += int(bigramCost[prev*26+x]) - int(bigramCost[rp*26+rx])
			rotCost += int(bigramCost[rp*26+rx])
			pairs++
			if pairs >= rot13Probe && gain < 0 {
				return false
			}
		}
		prev = x
	}
	return pairs >= minRot13Pairs && gain > rot13Margin*pairs && rotCost <= maxPairCost*pairs
}

// decodeRot13Candidates rotates every chunk of the regions that reads as
// rotated English (see rot13Chunk).
func decodeRot13Candidates(d *decoding, src string, regions []region) bool {
	found := false
	for _, rg := range regions {
		i := rg.start
		for i < rg.end {
			if src[i] >= 0x80 {
				// Every such byte ends a chunk: no chunk starts in
				// the run.
				i = skipHigh(src, i, rg.end)
				continue
			}
			e := i
			for e < rg.end && !isChunkEnd(src[e]) {
				e++
			}
			if e > i && rot13Chunk(src[i:e]) && e-i <= d.room()-(i-d.pos) {
				d.copyTo(src, i)
				start := len(d.out)
				d.m.lin(start, i)
				d.out = rot13(d.out, src[i:e])
				d.mark(start)
				d.pos = e
				found = true
			}
			i = e + 1
		}
	}
	if found {
		d.finish(src)
	}
	return found
}

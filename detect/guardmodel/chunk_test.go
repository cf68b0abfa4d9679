package guardmodel

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func checkChunks(t *testing.T, text string, max int) []chunk {
	t.Helper()
	cs := chunks(text, max)
	if len(cs) == 0 || cs[0].start != 0 {
		t.Fatalf("first chunk %+v", cs)
	}
	covered := 0
	for i, c := range cs {
		if len(c.text) > max || len(c.text) == 0 {
			t.Fatalf("chunk %d has %d bytes (max %d)", i, len(c.text), max)
		}
		if text[c.start:c.start+len(c.text)] != c.text {
			t.Fatalf("chunk %d does not match text at %d", i, c.start)
		}
		if utf8.ValidString(text) && !utf8.ValidString(c.text) {
			t.Fatalf("chunk %d cuts a rune", i)
		}
		if c.start > covered {
			t.Fatalf("gap before chunk %d: covered %d, starts %d", i, covered, c.start)
		}
		if i > 0 && c.start <= cs[i-1].start {
			t.Fatalf("chunk %d does not advance", i)
		}
		covered = c.start + len(c.text)
	}
	if covered != len(text) {
		t.Fatalf("covered %d of %d", covered, len(text))
	}
	return cs
}

func TestChunks(t *testing.T) {
	words := strings.Repeat("alpha beta gamma delta ", 100) // 2300 bytes
	cs := checkChunks(t, words, 256)
	for i, c := range cs[:len(cs)-1] {
		if !strings.HasSuffix(c.text, " ") {
			t.Errorf("chunk %d not cut after a space: %q", i, c.text[len(c.text)-10:])
		}
		if next := cs[i+1]; next.start >= c.start+len(c.text) {
			t.Errorf("chunks %d and %d do not overlap", i, i+1)
		}
	}
	checkChunks(t, strings.Repeat("字", 1000), 256) // no spaces, 3-byte runes
	checkChunks(t, strings.Repeat("x", 1000), 256)
	if cs := checkChunks(t, "short", 256); len(cs) != 1 {
		t.Fatalf("short text split: %+v", cs)
	}
}

func FuzzChunks(f *testing.F) {
	f.Add("alpha beta gamma delta epsilon", 8)
	f.Add(strings.Repeat("字 ", 50), 7)
	f.Fuzz(func(t *testing.T, text string, max int) {
		if max < 4 || max > 1<<16 || len(text) == 0 {
			return
		}
		checkChunks(t, text, max)
	})
}

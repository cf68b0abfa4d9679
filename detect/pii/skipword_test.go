package pii

import (
	"math/rand"
	"testing"
)

// skipWordSlow is skipWord byte by byte.
func skipWordSlow(text string, i int) int {
	for i < len(text) && wordByte[text[i]] {
		i++
	}
	return i
}

// TestSkipWord compares skipWord with the byte loop on every byte value in
// every position of a word, and on random texts at every start.
func TestSkipWord(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 20; pos++ {
			b := []byte("abcdefghijKLMNOPQRST_0123456789xyz")
			b[pos] = byte(c)
			s := string(b)
			for i := 0; i <= len(s); i++ {
				if got, want := skipWord(s, i), skipWordSlow(s, i); got != want {
					t.Fatalf("skipWord(%q, %d) = %d, want %d", s, i, got, want)
				}
			}
		}
	}
	rng := rand.New(rand.NewSource(1))
	alphabet := "aZ09_-@`[{/:\x00\x10\x19\x1f\x7f\x80\xff é中"
	for n := 0; n < 2000; n++ {
		b := make([]byte, rng.Intn(40))
		for k := range b {
			if rng.Intn(3) == 0 {
				b[k] = alphabet[rng.Intn(len(alphabet))]
			} else {
				b[k] = byte(rng.Intn(256))
			}
		}
		s := string(b)
		for i := 0; i <= len(s); i++ {
			if got, want := skipWord(s, i), skipWordSlow(s, i); got != want {
				t.Fatalf("skipWord(%q, %d) = %d, want %d", s, i, got, want)
			}
		}
	}
}

// FuzzSkipWord compares skipWord with the byte loop on arbitrary text.
func FuzzSkipWord(f *testing.F) {
	f.Add("hello_World42 x")
	f.Add("\x80abc")
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i <= len(s); i++ {
			if got, want := skipWord(s, i), skipWordSlow(s, i); got != want {
				t.Fatalf("skipWord(%q, %d) = %d, want %d", s, i, got, want)
			}
		}
	})
}

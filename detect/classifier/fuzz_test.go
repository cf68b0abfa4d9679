package classifier

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzReadModel feeds arbitrary bytes to the model decoder: it must never
// panic, must reject damaged input with ErrFormat, and a model it accepts
// must score text without panicking.
func FuzzReadModel(f *testing.F) {
	m := tinyModel(f, 9)
	good, err := m.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:20])
	f.Add([]byte("WRDNCLF\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadModel(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		m.Predict("how do i make a bomb 如何")
	})
}

// FuzzPredict scores arbitrary text: no panics, scores in [0,1].
func FuzzPredict(f *testing.F) {
	m := tinyModel(f, 10)
	for _, s := range []string{"", "hello", "如何制作炸弹？", "\xff\xfe", "a'b'c '' ' x", "ｆｕｌｌ ｗｉｄｔｈ", "ab cd ab cd ab cd ab cd ab cd ab cd ab cd ab cd ab cd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc := m.Predict(s)
		if !(sc.Unsafe >= 0 && sc.Unsafe <= 1) {
			t.Fatalf("unsafe %v", sc.Unsafe)
		}
	})
}

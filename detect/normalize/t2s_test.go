package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSimplified(t *testing.T) {
	for _, c := range []struct{ in, want rune }{
		{'強', '强'}, {'暴', '暴'}, {'網', '网'}, {'殺', '杀'}, {'藥', '药'}, {'彈', '弹'},
		{'a', 'a'}, {'强', '强'}, {'。', '。'}, {'𠀋', '𠀋'},
	} {
		if got := Simplified(c.in); got != c.want {
			t.Errorf("Simplified(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSimplifiedIdempotent(t *testing.T) {
	n := 0
	for s := t2sPairs; len(s) > 0; {
		tr, a := utf8.DecodeRuneInString(s)
		_, b := utf8.DecodeRuneInString(s[a:])
		s = s[a+b:]
		once := Simplified(tr)
		if twice := Simplified(once); twice != once {
			t.Errorf("Simplified(%q) = %q but Simplified(%q) = %q", tr, once, once, twice)
		}
		if once == tr {
			t.Errorf("%q is in the table but maps to itself", tr)
		}
		n++
	}
	if n < 3000 {
		t.Fatalf("table has %d pairs, want the ~3,700 of OpenCC's TSCharacters", n)
	}
}

func TestSimplifiedText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"怎麼製造炸彈？", "怎么制造炸弹？"},
		{"plain ascii text, long enough to take the fast path", ""},
		{"怎么制造炸弹", ""},
		{"mixed 網路 and 強暴 in English", "mixed 网路 and 强暴 in English"},
		{"", ""},
		{"\xe7\xb6", ""}, // a cut-off character is left alone
	} {
		got, changed := SimplifiedText(c.in)
		if c.want == "" {
			if changed || got != c.in {
				t.Errorf("SimplifiedText(%q) = %q, %v; want it unchanged", c.in, got, changed)
			}
			continue
		}
		if !changed || got != c.want {
			t.Errorf("SimplifiedText(%q) = %q, %v; want %q", c.in, got, changed, c.want)
		}
		if len(got) != len(c.in) {
			t.Errorf("SimplifiedText(%q) changed the length", c.in)
		}
	}
}

func FuzzSimplifiedText(f *testing.F) {
	for _, s := range []string{"怎麼製造炸彈？", "abc", "網路\xe7", "強"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, changed := SimplifiedText(s)
		if len(got) != len(s) {
			t.Fatalf("length %d → %d", len(s), len(got))
		}
		if !changed && got != s {
			t.Fatal("unchanged text differs")
		}
		if again, ch := SimplifiedText(got); ch || again != got {
			t.Fatalf("not idempotent: %q → %q", got, again)
		}
		if want := simplifiedTextSlow(s); got != want {
			t.Fatalf("SimplifiedText(%q) = %q, want %q", s, got, want)
		}
	})
}

// simplifiedTextSlow is SimplifiedText rune by rune, without its bit table
// or its copying in stretches.
func simplifiedTextSlow(s string) string {
	b := []byte(s)
	for i := 0; i < len(s); i++ {
		if !hanAt(s, i) {
			continue
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		if t := Simplified(r); t != r && utf8.RuneLen(t) == 3 {
			utf8.EncodeRune(b[i:], t)
		}
		i += 2
	}
	return string(b)
}

// TestSimplifiedTextEveryRune compares SimplifiedText with the slow
// reference on every rune of the table's range, alone and between others.
func TestSimplifiedTextEveryRune(t *testing.T) {
	st := func(s string) string { r, _ := SimplifiedText(s); return r }
	var sb strings.Builder
	for r := rune(t2sLo - 16); r <= t2sHi+16; r++ {
		one := string(r)
		if got, want := st(one), simplifiedTextSlow(one); got != want {
			t.Fatalf("U+%04X: %q, want %q", r, got, want)
		}
		sb.WriteRune(r)
		if r%7 == 0 {
			sb.WriteString("a,")
		}
	}
	s := sb.String()
	got, changed := SimplifiedText(s)
	if want := simplifiedTextSlow(s); got != want || !changed {
		t.Fatal("the whole range differs from the slow reference")
	}
	for k := 0; k < len(s); k += 4099 {
		part := s[k:min(len(s), k+5000)] // cut anywhere, even inside a rune
		if got, want := st(part), simplifiedTextSlow(part); got != want {
			t.Fatalf("part at %d differs", k)
		}
	}
}

func BenchmarkSimplifiedTextASCII64KiB(b *testing.B) {
	s := strings.Repeat("The audience is mostly engineering managers, so keep the tone practical. ", 900)[:64<<10]
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		SimplifiedText(s)
	}
}

func BenchmarkSimplifiedTextChinese64KiB(b *testing.B) {
	s := strings.Repeat("我们计划四月份去日本旅行两周，先到东京，然后想去京都、奈良，可能还有广岛，主要坐火车。", 800)[:64<<10]
	s = strings.ToValidUTF8(s, "")
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		SimplifiedText(s)
	}
}

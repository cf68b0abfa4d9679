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
	})
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

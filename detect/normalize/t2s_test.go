package normalize

import (
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

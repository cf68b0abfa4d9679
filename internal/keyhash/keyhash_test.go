package keyhash

import "testing"

func TestParseAndMatch(t *testing.T) {
	a, b := Of("alpha"), Of("beta")
	for _, s := range []string{a.String(), "sha256:" + a.String(), "  " + a.String() + "\n"} {
		h, err := Parse(s)
		if err != nil || h != a {
			t.Fatalf("Parse(%q) = %v, %v", s, h, err)
		}
	}
	for _, s := range []string{"", "abc", a.String()[:62], a.String() + "00", "zz" + a.String()[2:]} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
	hs := []Hash{a, b}
	if Match("beta", hs) != 1 || Match("alpha", hs) != 0 || Match("gamma", hs) != -1 || Match("", nil) != -1 {
		t.Fatal("Match picked the wrong hash")
	}
}

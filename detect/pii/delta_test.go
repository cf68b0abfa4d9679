package pii_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/pii"
	"github.com/warden-safety/warden/internal/corpus"
)

func keys(fs []detect.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s@%d-%d", f.Rule, f.Span.Start, f.Span.End))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type deltaChecker struct {
	p            *detect.Pipeline
	delta, whole *pii.Detector
	derived      int // derived views compared
}

func newPIIChecker() *deltaChecker {
	return &deltaChecker{p: detect.NewPipeline(pii.New()), delta: pii.New(), whole: pii.NewWholeViews()}
}

func (c *deltaChecker) check(t testing.TB, text string) {
	t.Helper()
	doc := c.p.NewDocument(text)
	// The original offsets each derived view changes.
	var changed [][2]int
	for i := 1; i < len(doc.Views); i++ {
		name := doc.Views[i].Name
		if k := strings.LastIndexByte(name, '>'); k >= 0 {
			name = name[k+1:]
		}
		switch name {
		case "leet", "leet-l", "joined", "skeleton", "rot13", "reversed":
			continue // views for words, which the detector does not read
		}
		cs, ok := doc.Views[i].Changes(text, nil)
		if !ok {
			continue
		}
		c.derived++
		for _, ch := range cs {
			changed = append(changed, [2]int{ch.OrigStart, ch.OrigEnd})
		}
	}
	got, err := c.delta.Scan(context.Background(), doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := c.whole.Scan(context.Background(), doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing a whole read does not find, and everything it finds on or
	// beside a change (two bytes before a token, one after). A token only
	// a change of case makes, away from other changes, is not read.
	g, w := keys(got), keys(whole)
	for _, k := range g {
		if !slices.Contains(w, k) {
			t.Fatalf("read around changes, %s is found but a whole read does not find it\n got %v\nwhole %v\ntext %q", k, g, w, text)
		}
	}
	for _, f := range whole {
		near := false
		for _, ch := range changed {
			near = near || f.Span.Start-2 <= ch[1] && f.Span.End+1 >= ch[0]
		}
		if k := keys([]detect.Finding{f})[0]; near && !slices.Contains(g, k) {
			t.Fatalf("read around changes, %s (view %s) is missed\n got %v\nwhole %v\ntext %q", k, f.View, g, w, text)
		}
	}
}

var piiItems = []string{
	"jane.doe@example.com", "+1 415 555 2671", "(415) 555-2671", "4111 1111 1111 1111", "4111-1111-1111-1111",
	"DE89 3704 0044 0532 0130 00", "536-22-1234", "11010519491231002X", "192.168.1.1", "2001:db8::1",
	"sk-ant-api03-" + strings.Repeat("Q1w2E3r4T5y6", 4), "AKIA" + strings.Repeat("Z7Q4", 4), "ghp_" + strings.Repeat("a1B2", 9),
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "aws_secret_access_key = " + strings.Repeat("wJalrXUtnF/K7MDENG+b", 2),
	"13800138000", "1,234,567", "v1.2.3", "SK-" + strings.Repeat("ABCD1234", 5), "sk-" + strings.Repeat("abcd1234", 5),
}

var piiFillers = []string{
	"Call me tomorrow about the invoice. ", "The meeting moved to room 4B at 3pm.\n", "请在周五之前回复，谢谢。",
	"Order 66 shipped on 2026-11-29; tracking ref 12-34.\n", "See section 3.2.1 (page 14) for details. ",
}

// Edits folding undoes.
var piiEdits = []string{"１", "２３", "－", "（", "）", "＠", "：", "．", "，", "\u200b", "\u00a0", "Ａ", "ｋ", "\u3000", "①"}

func randomPIIDoc(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		if r.IntN(8) == 0 {
			b.WriteString(piiItems[r.IntN(len(piiItems))])
			b.WriteByte(" \n，"[r.IntN(2)])
		} else {
			b.WriteString(piiFillers[r.IntN(len(piiFillers))])
		}
	}
	text := b.String()
	for k := r.IntN(5); k >= 0; k-- {
		i := r.IntN(len(text) + 1)
		for i < len(text) && text[i]&0xC0 == 0x80 {
			i++
		}
		text = text[:i] + piiEdits[r.IntN(len(piiEdits))] + text[i:]
	}
	return text
}

// TestDeltaScanMatchesWhole checks that reading derived views between the
// barriers around their changes finds what a whole read finds, once the
// view's copied bytes have the original's case.
func TestDeltaScanMatchesWhole(t *testing.T) {
	c := newPIIChecker()
	r := rand.New(rand.NewPCG(5, 6))
	n := 2000
	if testing.Short() {
		n = 200
	}
	for range n {
		c.check(t, randomPIIDoc(r, 200+r.IntN(8000)))
	}
	t.Logf("%d documents, %d derived views compared", n, c.derived)
	if c.derived < n/2 {
		t.Fatalf("only %d derived views: the test checks little", c.derived)
	}
}

// FuzzDeltaScan compares the two reads on arbitrary text inside a longer
// document.
func FuzzDeltaScan(f *testing.F) {
	for _, s := range []string{"４１１１ 1111 1111 1111", "jane＠example.com", "+1 ４15 555 2671", "ＡＫＩＡ" + strings.Repeat("Z7Q4", 4), "192．168.1.1", "2001：db8::1"} {
		f.Add(s, uint16(300), uint16(2000))
	}
	c := newPIIChecker()
	filler := strings.Repeat(piiFillers[0]+piiFillers[1]+piiFillers[3], 60)
	f.Fuzz(func(t *testing.T, text string, before, after uint16) {
		b, a := int(before)%len(filler), int(after)%len(filler)
		c.check(t, filler[:b]+text+filler[len(filler)-a:])
	})
}

// TestDeltaScanOnDatasets compares the two reads on the public datasets'
// texts, one by one and joined into documents of 24 KiB:
//
//	go test ./detect/pii -run DeltaScanOnDatasets -v
//
// It needs ../shared/datasets (or WARDEN_DATASETS).
func TestDeltaScanOnDatasets(t *testing.T) {
	texts := corpus.Public(t, 2)
	one, joined := newPIIChecker(), newPIIChecker()
	for _, e := range texts {
		one.check(t, e.Text)
	}
	docs := corpus.Join(texts, 24<<10)
	for _, d := range docs {
		joined.check(t, d)
	}
	t.Logf("%d texts one by one, %d derived views; joined into %d documents, %d derived views", len(texts), one.derived, len(docs), joined.derived)
}

package detect_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/lexicon"
	"github.com/warden-safety/warden/detect/normalize"
	"github.com/warden-safety/warden/detect/pii"
)

// paragraphs are ordinary prompt text: what the gateway sees most of the
// time. A few carry a term or a phone number so the detectors do real work.
var paragraphs = []string{
	"I'm preparing a presentation for our quarterly business review and need help structuring it. ",
	"The audience is mostly engineering managers, so keep the tone practical and avoid marketing language. ",
	"Please summarize the attached notes into five bullet points, each under twenty words, and suggest a title. ",
	"Our team migrated the billing service from a monolith to three smaller services last month. ",
	"Latency went down by 30 percent, but we saw more timeouts between the invoice and payment services. ",
	"How do I kill a Python process that hangs on a socket read, and how should I set timeouts properly? ",
	"Also explain the history of the Manhattan Project in two sentences for a slide about risk management. ",
	"If you need more context, call me at +1 415 555 2671 or write to the team alias on Monday morning. ",
	"Finally, recommend a reading list on distributed systems that a new graduate could finish in a month. ",
}

func sample(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(paragraphs[i%len(paragraphs)])
	}
	s := b.String()[:n]
	return strings.ToValidUTF8(s, "")
}

// cpuTime is the CPU time the process has used. The benchmarks report it
// per operation ("cpu-ns/op") next to the wall time: on a shared machine
// the wall time includes waiting for a core, the CPU time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs f b.N times and reports its CPU time per operation.
func loop(b *testing.B, f func()) {
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(n), "cpu-ns/op")
}

func benchPipeline(b *testing.B, size int) {
	lex, err := lexicon.New()
	if err != nil {
		b.Fatal(err)
	}
	p := detect.NewPipeline(lex, pii.New())
	text := sample(size)
	ctx := context.Background()
	b.SetBytes(int64(len(text)))
	loop(b, func() {
		if _, err := p.Scan(ctx, text); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkPipeline is the whole scan: normalize, lexicon, pii, combine.
func BenchmarkPipeline1KiB(b *testing.B)  { benchPipeline(b, 1<<10) }
func BenchmarkPipeline64KiB(b *testing.B) { benchPipeline(b, 64<<10) }

func benchNormalize(b *testing.B, size int) {
	text := sample(size)
	b.SetBytes(int64(len(text)))
	loop(b, func() { normalize.Views(text, normalize.Options{}) })
}

// BenchmarkNormalize isolates the views the pipeline builds before any
// detector runs.
func BenchmarkNormalize1KiB(b *testing.B)  { benchNormalize(b, 1<<10) }
func BenchmarkNormalize64KiB(b *testing.B) { benchNormalize(b, 64<<10) }

func benchDetector(b *testing.B, d detect.Detector, size int) {
	doc := detect.NewPipeline().NewDocument(sample(size))
	ctx := context.Background()
	var dst []detect.Finding
	b.SetBytes(int64(len(doc.Text)))
	loop(b, func() {
		var err error
		if dst, err = d.Scan(ctx, doc, dst[:0]); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkLexiconDetector and BenchmarkPIIDetector scan an already
// normalized document (every view).
func BenchmarkLexiconDetector1KiB(b *testing.B)  { benchDetector(b, mustLexicon(b), 1<<10) }
func BenchmarkLexiconDetector64KiB(b *testing.B) { benchDetector(b, mustLexicon(b), 64<<10) }
func BenchmarkPIIDetector1KiB(b *testing.B)      { benchDetector(b, pii.New(), 1<<10) }
func BenchmarkPIIDetector64KiB(b *testing.B)     { benchDetector(b, pii.New(), 64<<10) }

func mustLexicon(b *testing.B) *lexicon.Detector {
	d, err := lexicon.New()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func benchMatcher(b *testing.B, size int) {
	a := mustLexicon(b).Automaton()
	text := sample(size)
	n := 0
	b.SetBytes(int64(len(text)))
	loop(b, func() { a.Scan(text, func(p, s, e int) { n++ }) })
	if n == 0 {
		b.Fatal("no matches")
	}
}

// BenchmarkMatcher is the Aho-Corasick automaton alone over the original
// text (must report 0 allocs/op).
func BenchmarkMatcher1KiB(b *testing.B)  { benchMatcher(b, 1<<10) }
func BenchmarkMatcher64KiB(b *testing.B) { benchMatcher(b, 64<<10) }

// BenchmarkLexiconNew is the one-time cost of compiling the built-in lists.
func BenchmarkLexiconNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lexicon.New(); err != nil {
			b.Fatal(err)
		}
	}
}

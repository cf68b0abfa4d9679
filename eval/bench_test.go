package eval_test

import (
	"math/rand/v2"
	"testing"

	"github.com/warden-safety/warden/eval"
)

// BenchmarkAveragePrecision100k: AUPRC over 100,000 scores with many ties
// (scores rounded to 3 decimals, as calibrated classifiers often are).
func BenchmarkAveragePrecision100k(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	scores := make([]float64, 100_000)
	labels := make([]bool, len(scores))
	for i := range scores {
		labels[i] = r.IntN(3) == 0
		s := r.Float64()
		if labels[i] {
			s = s*0.6 + 0.4
		}
		scores[i] = float64(int(s*1000)) / 1000
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := eval.AveragePrecision(scores, labels); !ok {
			b.Fatal("no positives")
		}
	}
}

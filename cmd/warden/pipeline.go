package main

import (
	"fmt"
	"runtime"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/classifier"
	"github.com/warden-safety/warden/detect/lexicon"
	"github.com/warden-safety/warden/detect/pii"
	"github.com/warden-safety/warden/hazard"
)

// pipelineOptions choose the built-in detectors.
type pipelineOptions struct {
	// NoClassifier leaves the trained model out (lexicon and PII only).
	NoClassifier bool
	// ExtraLists are term-list files that extend the embedded lexicon.
	ExtraLists []string
}

// buildPipeline assembles Warden's built-in detectors. It is the one place
// where detector implementations are chosen.
func buildPipeline(o pipelineOptions) (*detect.Pipeline, error) {
	var lexOpts []lexicon.Option
	if len(o.ExtraLists) > 0 {
		lexOpts = append(lexOpts, lexicon.WithExtraLists(o.ExtraLists...))
	}
	lex, err := lexicon.New(lexOpts...)
	if err != nil {
		return nil, fmt.Errorf("lexicon: %w", err)
	}
	ds := []detect.Detector{lex, pii.New()}
	if !o.NoClassifier {
		clf, err := classifier.New()
		if err != nil {
			return nil, fmt.Errorf("classifier: %w", err)
		}
		ds = append(ds, clf)
	}
	return detect.NewPipeline(ds...), nil
}

func uniformThresholds(t float64) map[hazard.Category]float64 {
	m := map[hazard.Category]float64{}
	for _, c := range hazard.IDs() {
		m[c] = t
	}
	return m
}

func maxProcs() int { return runtime.GOMAXPROCS(0) }

package main

import (
	"fmt"
	"os"
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
	// OnlyClassifier leaves the lexicon and PII detectors out: the
	// trained model alone, as its own quality reports measure it.
	OnlyClassifier bool
	// ModelFile, when set, is a classifier model file (from warden train)
	// used instead of the model embedded in the binary.
	ModelFile string
	// ExtraLists are term-list files that extend the embedded lexicon.
	ExtraLists []string
}

// buildPipeline assembles Warden's built-in detectors. It is the one place
// where detector implementations are chosen.
func buildPipeline(o pipelineOptions) (*detect.Pipeline, error) {
	if o.OnlyClassifier {
		if o.NoClassifier {
			return nil, fmt.Errorf("no detectors: the classifier is both required and left out")
		}
		clf, err := loadClassifier(o.ModelFile)
		if err != nil {
			return nil, err
		}
		return detect.NewPipeline(clf), nil
	}
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
		clf, err := loadClassifier(o.ModelFile)
		if err != nil {
			return nil, err
		}
		ds = append(ds, clf)
	}
	return detect.NewPipeline(ds...), nil
}

// loadClassifier returns the classifier over the model file at path, or
// over the embedded model when path is empty.
func loadClassifier(path string) (*classifier.Detector, error) {
	if path == "" {
		clf, err := classifier.New()
		if err != nil {
			return nil, fmt.Errorf("classifier: %w", err)
		}
		return clf, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("classifier model: %w", err)
	}
	defer f.Close()
	clf, err := classifier.Load(f)
	if err != nil {
		return nil, fmt.Errorf("classifier model %s: %w", path, err)
	}
	return clf, nil
}

func uniformThresholds(t float64) map[hazard.Category]float64 {
	m := map[hazard.Category]float64{}
	for _, c := range hazard.IDs() {
		m[c] = t
	}
	return m
}

func maxProcs() int { return runtime.GOMAXPROCS(0) }

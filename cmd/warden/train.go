package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/warden-safety/warden/detect/classifier"
	"github.com/warden-safety/warden/detect/classifier/data"
	"github.com/warden-safety/warden/detect/classifier/train"
)

func init() {
	register(&command{
		name:  "train",
		usage: "train Warden's safety classifier from the datasets",
		help: `Usage: warden train [flags]

Reads every dataset under --data (read in place, never copied) plus the
project's own examples, de-duplicates them, caps each source, splits them
80/10/10 into train/dev/test by a hash of the normalized text, trains the
classifier on train, calibrates it on dev, and writes the model file to
--out. Metrics on dev, test and any held-out sources are printed (and
written as Markdown to --report). Training is deterministic: the same data
and flags give the same file.

  go run ./cmd/warden train --data ../shared/datasets --out detect/classifier/model/classifier.wcm`,
		run: runTrain,
	})
}

func runTrain(env *cliEnv, args []string) int {
	c := commands["train"]
	fs := newFlagSet(env, c)
	def := train.DefaultOptions()
	dir := fs.String("data", data.DefaultDir, "datasets directory")
	out := fs.String("out", "", "write the model file here (required unless --dry-run)")
	report := fs.String("report", "", "write the Markdown metrics report here")
	epochs := fs.Int("epochs", def.Epochs, "training epochs")
	lr := fs.Float64("lr", def.LR, "initial learning rate (it decays linearly to zero)")
	optimizer := fs.String("optimizer", def.Optimizer, "adagrad or sgd (see package train)")
	bits := fs.Uint("bits", def.Config.Bits, "log2 of the number of hashed feature buckets")
	dim := fs.Int("dim", def.Config.Dim, "embedding width")
	hidden := fs.Int("hidden", def.Config.Hidden, "hidden layer width (0 = none)")
	joint := fs.Bool("joint-heads", !def.Config.CondHeads, "train the category heads on every example (P(category and unsafe)), as models before the ninth session did, instead of on unsafe examples only")
	seed := fs.Uint64("seed", def.Seed, "random seed")
	capRows := fs.Int("cap", data.DefaultCap, "rows kept per public source (-1 = all)")
	sample := fs.Float64("sample", 1, "fraction of the train split to use (for quick experiments)")
	holdout := fs.String("holdout", "", "comma-separated sources left out of training and reported separately")
	unsafeW := fs.Float64("unsafe-weight", def.UnsafeWeight, "loss weight of unsafe examples")
	dropout := fs.Float64("dropout", def.Dropout, "probability of leaving out each feature at each training step")
	augment := fs.Bool("augment", def.Augment, "also train on examples joined with other text (see package train)")
	workers := fs.Int("workers", 0, "goroutines for feature extraction and scoring (0 = all cores)")
	own := fs.Bool("own", true, "include the project's own examples (detect/classifier/data/own)")
	dry := fs.Bool("dry-run", false, "train and report without writing a model file")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if *out == "" && !*dry {
		fmt.Fprintln(env.stderr, "warden train: --out is required (or --dry-run)")
		return 2
	}
	if *sample <= 0 || *sample > 1 {
		fmt.Fprintln(env.stderr, "warden train: --sample must be in (0,1]")
		return 2
	}
	opt := def
	opt.Epochs, opt.LR, opt.Seed, opt.UnsafeWeight, opt.Workers, opt.Augment = *epochs, *lr, *seed, *unsafeW, *workers, *augment
	opt.Dropout, opt.Optimizer = *dropout, *optimizer
	opt.Config.Bits, opt.Config.Dim, opt.Config.Hidden = *bits, *dim, *hidden
	opt.Config.CondHeads = !*joint
	opt.Log = env.stderr
	if err := opt.Validate(); err != nil {
		fmt.Fprintf(env.stderr, "warden train: %v\n", err)
		return 2
	}
	ctx := context.Background()
	start := time.Now()
	set, err := data.Load(ctx, data.Options{Dir: *dir, Cap: *capRows, NoOwn: !*own})
	if err != nil {
		fmt.Fprintf(env.stderr, "warden train: %v\n", err)
		return 1
	}
	held := map[string]bool{}
	known := map[string]bool{}
	for _, s := range set.Stats {
		known[s.Source] = true
	}
	for _, h := range strings.Split(*holdout, ",") {
		if h = strings.TrimSpace(h); h != "" {
			if !known[h] {
				fmt.Fprintf(env.stderr, "warden train: --holdout: unknown source %q\n", h)
				return 2
			}
			held[h] = true
		}
	}
	var trainEx, devEx, testEx, heldEx []data.Example
	for _, e := range set.Examples {
		if held[e.Source] {
			heldEx = append(heldEx, e)
			continue
		}
		switch data.SplitOf(e.Text) {
		case data.Dev:
			devEx = append(devEx, e)
		case data.Test:
			testEx = append(testEx, e)
		default:
			if *sample < 1 && float64(data.Hash("sample:"+data.Canonical(e.Text))%10000) >= *sample*10000 {
				continue
			}
			trainEx = append(trainEx, e)
		}
	}
	fmt.Fprintf(env.stderr, "data: %d examples (train %d, dev %d, test %d, held out %d), %d conflicts dropped, loaded in %s\n",
		len(set.Examples), len(trainEx), len(devEx), len(testEx), len(heldEx), set.Conflicts, time.Since(start).Round(time.Millisecond))
	m, err := train.Train(ctx, trainEx, devEx, opt)
	if err != nil {
		fmt.Fprintf(env.stderr, "warden train: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.stderr, "trained in %s\n", time.Since(start).Round(time.Millisecond))
	var md bytes.Buffer
	type part struct {
		name string
		ex   []data.Example
	}
	info := map[string]any{
		"trainer": "warden train", "optimizer": opt.Optimizer, "epochs": opt.Epochs, "lr": opt.LR, "seed": opt.Seed,
		"unsafe_weight": opt.UnsafeWeight, "augment": opt.Augment, "cap": *capRows, "sample": *sample,
		"train_rows": len(trainEx), "dev_rows": len(devEx), "test_rows": len(testEx),
	}
	if *holdout != "" {
		info["holdout"] = *holdout
	}
	if opt.Dropout > 0 {
		info["dropout"] = opt.Dropout
	}
	for _, p := range []part{{"dev", devEx}, {"test", testEx}, {"held-out sources", heldEx}} {
		if len(p.ex) == 0 {
			continue
		}
		r, err := train.Evaluate(ctx, m, p.ex, 0.5, *workers)
		if err != nil {
			fmt.Fprintf(env.stderr, "warden train: %v\n", err)
			return 1
		}
		pi := r.ByCategory["prompt_injection"]
		zh := r.ByLang["zh"]
		summary := fmt.Sprintf("%s: unsafe F1 %.3f (P %.3f R %.3f) FPR %.3f AUPRC %.3f, hard-negative FPR %.3f",
			p.name, r.Unsafe.F1(), r.Unsafe.Precision(), r.Unsafe.Recall(), r.Unsafe.FPR(), r.AP, r.HardNegatives.FPR())
		if pi != nil {
			summary += fmt.Sprintf(", prompt-injection F1 %.3f", pi.F1())
		}
		if zh != nil {
			summary += fmt.Sprintf(", zh F1 %.3f", zh.F1())
		}
		fmt.Fprintln(env.stdout, summary)
		if p.name != "held-out sources" {
			info[p.name+"_unsafe_f1"] = round3(r.Unsafe.F1())
			info[p.name+"_fpr"] = round3(r.Unsafe.FPR())
		}
		fmt.Fprintf(&md, "### %s (%d rows)\n\n", p.name, len(p.ex))
		r.WriteMarkdown(&md)
		fmt.Fprintln(&md)
	}
	m.SetInfo(info)
	if *report != "" {
		if err := os.WriteFile(*report, md.Bytes(), 0o644); err != nil {
			fmt.Fprintf(env.stderr, "warden train: %v\n", err)
			return 1
		}
	}
	if *dry {
		return 0
	}
	b, err := m.MarshalBinary()
	if err != nil {
		fmt.Fprintf(env.stderr, "warden train: %v\n", err)
		return 1
	}
	if _, err := classifier.ReadModel(bytes.NewReader(b)); err != nil {
		fmt.Fprintf(env.stderr, "warden train: written model does not read back: %v\n", err)
		return 1
	}
	tmp := *out + ".tmp"
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fmt.Fprintf(env.stderr, "warden train: %v\n", err)
		return 1
	}
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		fmt.Fprintf(env.stderr, "warden train: %v\n", err)
		return 1
	}
	if err := os.Rename(tmp, *out); err != nil {
		fmt.Fprintf(env.stderr, "warden train: %v\n", err)
		return 1
	}
	rm, _ := classifier.ReadModel(bytes.NewReader(b))
	fmt.Fprintf(env.stdout, "wrote %s: %d bytes, sha256 %s\n", *out, len(b), rm.Digest())
	return 0
}

func round3(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }

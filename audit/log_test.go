package audit_test

import (
	"context"
	"testing"

	"github.com/warden-safety/warden/audit"
)

func TestAppendVerifyProve(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		cfg.CheckpointEvery = 50
		l := openLog(t, cfg)
		appendN(t, l, 0, 237)
		ctx := context.Background()
		if c := l.Counters(); c.Records != 237 || c.Batches < 1 || c.Batches > 237 || c.CommitErrors != 0 {
			t.Errorf("counters %+v", c)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, cfg, audit.VerifyOptions{})
		if !rep.OK() || rep.Size != 237 || rep.Checked != 237 {
			t.Fatalf("verify: %+v", rep)
		}
		if rep.Checkpoints < 4 {
			t.Errorf("checkpoints = %d, want >= 4 (every 50+ and one at close)", rep.Checkpoints)
		}
		st := openStore(t, cfg)
		r := readerFor(t, cfg, st)
		v, _ := audit.LoadVerifier(cfg.DataDir + "/audit.pub")
		for _, idx := range []int64{0, 1, 117, 236} {
			p, err := r.ProveInclusion(ctx, idx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if p.TreeSize != 237 {
				t.Errorf("proof tree size %d, want 237 (final checkpoint)", p.TreeSize)
			}
			if _, err := audit.VerifyInclusionProof(p, v); err != nil {
				t.Errorf("record %d: %v", idx, err)
			}
			rec, err := audit.DecodeRecord([]byte(p.Record))
			if err != nil || rec.Index != idx {
				t.Errorf("record %d: decoded %+v, %v", idx, rec, err)
			}
			if rec.InputText != "" || rec.InputSHA256 == "" || rec.Privacy != "none" {
				t.Errorf("privacy none not enforced: %+v", rec)
			}
		}
		for _, sz := range [][2]int64{{1, 237}, {2, 237}, {50, 237}, {100, 150}, {237, 237}} {
			p, err := r.ProveConsistency(ctx, sz[0], sz[1])
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyConsistencyProof(p, v); err != nil {
				t.Errorf("consistency %v: %v", sz, err)
			}
		}
	})
}

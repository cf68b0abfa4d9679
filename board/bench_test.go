package board_test

import (
	"context"
	"testing"
	"time"

	"github.com/warden-safety/warden/board"
)

// BenchmarkAdmit is the gateway's per-request cost of the board: a
// released, not halted model.
func BenchmarkAdmit(b *testing.B) {
	f := newFixture(b, 2, "alice", "bob", "carol")
	res, err := f.submit(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), time.Hour)), "alice", "bob"))
	if err != nil || res.Status != "accepted" {
		b.Fatal(res, err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdmitParallel: many gateway goroutines at once.
func BenchmarkAdmitParallel(b *testing.B) {
	f := newFixture(b, 2, "alice", "bob", "carol")
	f.submit(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), time.Hour)), "alice", "bob"))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCheckSignatures verifies a 2-of-3 signed statement.
func BenchmarkCheckSignatures(b *testing.B) {
	f := newFixture(b, 2, "alice", "bob", "carol")
	env := f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), time.Hour)), "alice", "bob")
	b.ReportAllocs()
	for b.Loop() {
		if rep := f.charter.CheckSignatures(env); len(rep.Signers) != 2 {
			b.Fatal(rep)
		}
	}
}

// BenchmarkSubmitHalt: verify, store (file store, fsync) and enforce one
// halt statement.
func BenchmarkSubmitHalt(b *testing.B) {
	f := newFixture(b, 2, "alice", "bob", "carol")
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		var s *board.Statement
		if i%2 == 0 {
			s = haltStmt("*", "bench")
		} else {
			s = resumeStmt("*", "bench")
		}
		env := f.sign(f.propose(s), "alice", "bob")
		b.StartTimer()
		if res, err := f.b.Submit(ctx, env); err != nil || res.Status != "accepted" {
			b.Fatal(res, err)
		}
		i++
	}
}

// BenchmarkHaltSignal is the per-stream cost of asking for the halt
// channel.
func BenchmarkHaltSignal(b *testing.B) {
	f := newFixture(b, 2, "alice", "bob", "carol")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if f.b.HaltSignal("gpt-x", "/v1/chat/completions") == nil {
				b.Error("nil channel")
				return
			}
		}
	})
}

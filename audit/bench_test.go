package audit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/warden-safety/warden/audit"
)

// BenchmarkRecord measures durable appends (synchronous mode: each Record
// returns after its transaction committed) from 64 concurrent writers.
//
//	go test ./audit -run '^$' -bench BenchmarkRecord -benchtime 100000x
func BenchmarkRecord(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			cfg := be.config(b)
			cfg.CheckpointEvery = 10000
			l := openLog(b, cfg)
			defer l.Close()
			const writers = 64
			var next atomic.Int64
			var wg sync.WaitGroup
			ctx := context.Background()
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						if err := l.Record(ctx, decision(int(i))); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "appends/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/append")
			if b.N >= 1000 {
				rep := verify(b, cfg, audit.VerifyOptions{})
				if !rep.OK() || rep.Size != int64(b.N) {
					b.Fatalf("after benchmark: %+v", rep)
				}
			}
		})
	}
}

// cpuTime is the process's user and system CPU time so far (the database
// server's, for PostgreSQL, is not included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package audit_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-safety/warden/audit"
)

func serve(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestWitness follows a log over HTTP as it grows, then catches a server
// that presents a different history under the same key.
func TestWitness(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(t, dir, audit.Config{DataDir: dir, CheckpointEvery: 10})
	l := openLog(t, cfg)
	defer l.Close()
	url := serve(t, l.Handler())
	v := mustVerifier(t, cfg)
	client := &http.Client{}

	appendN(t, l, 0, 15)
	l.Checkpoint(ctx)
	seen, err := audit.Witness(ctx, client, url, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 15, 40)
	l.Checkpoint(ctx)
	if seen, err = audit.Witness(ctx, client, url, v, seen); err != nil {
		t.Fatalf("honest growth: %v", err)
	}
	if seen, err = audit.Witness(ctx, client, url, v, seen); err != nil {
		t.Fatalf("no growth: %v", err)
	}

	// A second log with the same key but other records: a fork.
	dir2 := t.TempDir()
	cfg2 := cfg
	cfg2.DataDir = dir2
	for _, f := range []string{"audit.key", "audit.pub"} {
		copyFile(t, filepath.Join(dir, f), filepath.Join(dir2, f))
	}
	l2 := openLog(t, cfg2)
	defer l2.Close()
	appendN(t, l2, 1000, 80)
	l2.Checkpoint(ctx)
	forkURL := serve(t, l2.Handler())
	if _, err := audit.Witness(ctx, client, forkURL, v, seen); err == nil || !strings.Contains(err.Error(), "forked") {
		t.Fatalf("fork not caught: %v", err)
	}
	// And one that is shorter than what the witness saw.
	dir3 := t.TempDir()
	cfg3 := cfg
	cfg3.DataDir = dir3
	for _, f := range []string{"audit.key", "audit.pub"} {
		copyFile(t, filepath.Join(dir, f), filepath.Join(dir3, f))
	}
	l3 := openLog(t, cfg3)
	defer l3.Close()
	appendN(t, l3, 0, 5)
	l3.Checkpoint(ctx)
	if _, err := audit.Witness(ctx, client, serve(t, l3.Handler()), v, seen); err == nil || !strings.Contains(err.Error(), "shrank") {
		t.Fatalf("rollback not caught: %v", err)
	}
}

package audit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warden-safety/warden/audit"
)

// TestMain doubles as the crash test's server: with WARDEN_AUDIT_CRASH_CONFIG
// set, the test binary serves POST /record on 127.0.0.1 and acknowledges a
// record only after Log.Record returned (durable), until it is killed.
func TestMain(m *testing.M) {
	if cfgJSON := os.Getenv("WARDEN_AUDIT_CRASH_CONFIG"); cfgJSON != "" {
		os.Exit(crashServer(cfgJSON))
	}
	os.Exit(m.Run())
}

func crashServer(cfgJSON string) int {
	var cfg audit.Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := audit.Open(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rec audit.Record
		if err := json.NewDecoder(r.Body).Decode(&rec); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if err := l.Record(r.Context(), rec); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, "ok")
	}))
	return 0
}

func startCrashServer(t *testing.T, cfg audit.Config) (*exec.Cmd, string) {
	b, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WARDEN_AUDIT_CRASH_CONFIG="+string(b))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("crash server did not start: %v", err)
	}
	return cmd, strings.TrimSpace(line)
}

// TestCrash drives concurrent appends over HTTP, SIGKILLs the server in the
// middle, and checks that every acknowledged record is in the log and the
// log verifies; then it restarts the server on the crashed database and
// appends more.
func TestCrash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		cfg.CheckpointEvery = 100
		cfg.Logger = nil
		var acked []string
		var mu sync.Mutex
		for round := range 2 {
			before := len(acked) // no writer runs yet
			cmd, addr := startCrashServer(t, cfg)
			client := &http.Client{Timeout: 5 * time.Second}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for w := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 2000; i++ { // bounded
						select {
						case <-stop:
							return
						default:
						}
						id := fmt.Sprintf("crash-%d-%d-%d", round, w, i)
						rec := decision(i)
						rec.RequestID = id
						body, _ := json.Marshal(rec)
						resp, err := client.Post("http://"+addr+"/record", "application/json", strings.NewReader(string(body)))
						if err != nil {
							return // the server died
						}
						ok := resp.StatusCode == 200
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if ok {
							mu.Lock()
							acked = append(acked, id)
							mu.Unlock()
						}
					}
				}()
			}
			// Kill once a few hundred records were acknowledged (bounded in
			// time), with requests still in flight.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				mu.Lock()
				n := len(acked) - before
				mu.Unlock()
				if n >= 500 {
					break
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			close(stop)
			wg.Wait()
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n == before {
				t.Fatalf("round %d: no record acknowledged before the kill", round)
			}
			st := openStore(t, cfg)
			for _, id := range acked {
				idx, err := st.LookupRequest(context.Background(), id)
				if err != nil || len(idx) != 1 {
					t.Fatalf("round %d: acknowledged record %s: indexes %v, %v", round, id, idx, err)
				}
			}
			rep, err := readerFor(t, cfg, st).Verify(context.Background(), audit.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("round %d: log does not verify after the crash: %v", round, rep.Problems)
			}
			st.Close()
			t.Logf("round %d: %d acknowledged, %d in the log", round, n, rep.Size)
		}
	})
}

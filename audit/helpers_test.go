package audit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/audit/postgres"
	"github.com/warden-safety/warden/audit/sqlite"
	"github.com/warden-safety/warden/audit/store"
)

// backend is one store the shared suite runs against.
type backend struct {
	name string
	// config returns a log configuration on a fresh, empty database.
	config func(t testing.TB) audit.Config
	// exec runs raw SQL on the database of cfg (to tamper with it).
	exec func(t testing.TB, cfg audit.Config, sql string)
	// modifyAction is SQL that changes record idx's body in place.
	modifyAction func(idx int64) string
}

func backends() []backend {
	return []backend{
		{
			name: "sqlite",
			config: func(t testing.TB) audit.Config {
				dir := t.TempDir()
				return testConfig(t, dir, audit.Config{Driver: "sqlite", DataDir: dir})
			},
			exec: func(t testing.TB, cfg audit.Config, sql string) {
				st, err := sqlite.Open(context.Background(), filepath.Join(cfg.DataDir, "audit.db"))
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				if _, err := st.DB().Exec(sql); err != nil {
					t.Fatalf("tamper %q: %v", sql, err)
				}
			},
			modifyAction: func(idx int64) string {
				return fmt.Sprintf(`UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '"action":"allow"', '"action":"block"') AS BLOB) WHERE idx = %d`, idx)
			},
		},
		{
			name: "postgres",
			config: func(t testing.TB) audit.Config {
				dsn := os.Getenv("WARDEN_TEST_POSTGRES")
				if dsn == "" {
					t.Skip("WARDEN_TEST_POSTGRES is not set; skipping the PostgreSQL store (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
				}
				var b [6]byte
				rand.Read(b[:])
				schema := "warden_audit_test_" + hex.EncodeToString(b[:])
				t.Cleanup(func() {
					st, err := postgres.Open(context.Background(), dsn, "")
					if err != nil {
						t.Errorf("drop schema: %v", err)
						return
					}
					defer st.Close()
					if err := st.DropSchema(context.Background(), schema); err != nil {
						t.Error(err)
					}
				})
				dir := t.TempDir()
				return testConfig(t, dir, audit.Config{Driver: "postgres", DataDir: dir, DSN: dsn, Schema: schema})
			},
			exec: func(t testing.TB, cfg audit.Config, sql string) {
				st, err := postgres.Open(context.Background(), cfg.DSN, cfg.Schema)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				if _, err := st.Pool().Exec(context.Background(), sql); err != nil {
					t.Fatalf("tamper %q: %v", sql, err)
				}
			},
			modifyAction: func(idx int64) string {
				return fmt.Sprintf(`UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), '"action":"allow"', '"action":"block"'), 'UTF8') WHERE idx = %d`, idx)
			},
		},
	}
}

// testConfig makes a key pair in dir and fills in quiet test settings.
func testConfig(t testing.TB, dir string, c audit.Config) audit.Config {
	if err := audit.GenerateKey("audit.test.example", filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit.pub")); err != nil {
		t.Fatal(err)
	}
	c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c.CheckpointInterval = audit.Duration(time.Hour)
	return c
}

func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

func openLog(t testing.TB, cfg audit.Config) *audit.Log {
	l, err := audit.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func openStore(t testing.TB, cfg audit.Config) store.Store {
	st, err := audit.OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func decision(i int) audit.Record {
	return audit.Record{
		Kind:         "decision",
		RequestID:    fmt.Sprintf("req-%d", i),
		Time:         time.Date(2026, 11, 29, 9, 0, 0, i*1000, time.UTC),
		Tenant:       "acme",
		Route:        "/v1/chat/completions",
		Model:        "echo",
		Stage:        "input",
		PolicyDigest: strings.Repeat("ab", 32),
		Action:       "allow",
		Scores:       map[string]float64{"cbrn_weapons": 0.01 * float64(i%100)},
		Detectors:    []string{"lexicon@1", "classifier@2"},
		InputText:    fmt.Sprintf("hello number %d", i),
	}
}

// appendN appends n records through the log, concurrently.
func appendN(t testing.TB, l *audit.Log, from, n int) {
	t.Helper()
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := from; i < from+n; i++ {
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem }()
			errs <- l.Record(context.Background(), decision(i))
		}(i)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func readerFor(t testing.TB, cfg audit.Config, st store.Store) *audit.Reader {
	v, err := audit.LoadVerifier(filepath.Join(cfg.DataDir, "audit.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return audit.NewReader(st, v)
}

func verify(t testing.TB, cfg audit.Config, opts audit.VerifyOptions) *audit.VerifyReport {
	t.Helper()
	st := openStore(t, cfg)
	rep, err := readerFor(t, cfg, st).Verify(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func itoa(n int64) string { return fmt.Sprint(n) }

func copyFile(t testing.TB, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

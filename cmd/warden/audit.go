package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/warden-safety/warden/audit"
)

func init() {
	register(&command{
		name:  "audit",
		usage: "verify, prove, export and inspect the tamper-evident audit log",
		help: `Usage: warden audit <subcommand> [flags] [arguments]

Subcommands:
  verify [--checkpoint FILE]...     recompute the Merkle tree from the stored records, check
                                    every stored checkpoint and signature (and the given saved
                                    checkpoints, to catch a rolled-back database); names the
                                    first bad index; exit status 1 when anything is wrong
  checkpoint                        print the latest signed checkpoint (save it to check later)
  proof [--size N] [-o FILE] ID     inclusion proof of a record (ID: index, or request id)
                                    against the latest checkpoint, as a self-contained JSON file
  verify-proof --key PUB FILE       check a proof file offline with the log's public key
  consistency OLD [NEW]             consistency proof between two tree sizes (NEW: latest)
  tail [-n N] [--follow]            the last N records as JSON lines
  export --since TIME|INDEX         records from a time (RFC 3339) or index on, as JSON lines
  stats                             record and checkpoint counts
  witness --url URL --key PUB --state FILE
                                    check a served log from outside: fetch its checkpoint and
                                    prove it extends the one saved in FILE, then save the new one

Store flags (every subcommand but verify-proof and witness):
  --data-dir DIR   data directory (default $WARDEN_DATA_DIR or "data")
  --db DB          SQLite file (default DATA-DIR/audit.db) or a postgres:// DSN
  --schema NAME    PostgreSQL schema of the log's tables
  --key PUB        verifier key (default DATA-DIR/audit.pub)`,
		run: runAudit,
	})
}

func runAudit(env *cliEnv, args []string) int {
	c := commands["audit"]
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := env.stderr
		if len(args) > 0 {
			w = env.stdout
		}
		fmt.Fprintln(w, strings.TrimSpace(c.help))
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	subs := map[string]func(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int{
		"verify":       auditVerify,
		"checkpoint":   auditCheckpoint,
		"proof":        auditProof,
		"verify-proof": auditVerifyProof,
		"consistency":  auditConsistency,
		"tail":         auditTail,
		"export":       auditExport,
		"stats":        auditStats,
		"witness":      auditWitness,
	}
	run, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "warden audit: unknown subcommand %q (run warden audit --help)\n", args[0])
		return 2
	}
	sub := &command{name: "audit " + args[0], help: c.help}
	fs := newFlagSet(env, sub)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, env, fs, args[1:])
}

// storeOpts are the flags that select the log.
type storeOpts struct {
	dataDir, db, schema, key *string
}

func addStoreFlags(env *cliEnv, fs *flag.FlagSet) *storeOpts {
	return &storeOpts{
		dataDir: fs.String("data-dir", auditDefaultDataDir(env), "data directory"),
		db:      fs.String("db", "", "SQLite database file (default DATA-DIR/audit.db) or postgres:// DSN"),
		schema:  fs.String("schema", "", "PostgreSQL schema of the log's tables"),
		key:     fs.String("key", "", "verifier (public) key file (default DATA-DIR/audit.pub)"),
	}
}

// open opens the store and a reader that checks signatures with the key.
func (o *storeOpts) open(ctx context.Context, needKey bool) (*audit.Reader, func(), error) {
	cfg := audit.Config{DataDir: *o.dataDir, Schema: *o.schema}
	switch db := *o.db; {
	case strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://"):
		cfg.Driver, cfg.DSN = "postgres", db
	case db != "":
		cfg.Path = db
		if !filepath.IsAbs(db) {
			cfg.Path, _ = filepath.Abs(db)
		}
		fallthrough
	default:
		p := cfg.Path
		if p == "" {
			p = filepath.Join(cfg.DataDir, "audit.db")
		}
		if _, err := os.Stat(p); err != nil {
			return nil, nil, fmt.Errorf("no audit database at %s (use --data-dir or --db)", p)
		}
	}
	var v note.Verifier
	keyPath := *o.key
	if keyPath == "" {
		keyPath = filepath.Join(*o.dataDir, "audit.pub")
	}
	if vv, err := audit.LoadVerifier(keyPath); err == nil {
		v = vv
	} else if needKey || *o.key != "" {
		return nil, nil, err
	}
	st, err := audit.OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return audit.NewReader(st, v), func() { st.Close() }, nil
}

func auditVerify(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int {
	so := addStoreFlags(env, fs)
	var cps multiFlag
	fs.Var(&cps, "checkpoint", "a signed checkpoint saved earlier (repeatable); the log must contain its tree")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(env.stderr, "warden audit verify: unexpected arguments:", fs.Args())
		return 2
	}
	var opts audit.VerifyOptions
	for _, f := range cps {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(env.stderr, "warden audit verify:", err)
			return 1
		}
		opts.Checkpoints = append(opts.Checkpoints, b)
	}
	r, closeFn, err := so.open(ctx, true)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit verify:", err)
		return 1
	}
	defer closeFn()
	rep, err := r.Verify(ctx, opts)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit verify:", err)
		return 1
	}
	if *asJSON {
		writeIndented(env.stdout, rep)
	} else {
		pruned := ""
		for _, p := range rep.Pruned {
			pruned += fmt.Sprintf(" [%d, %d)", p[0], p[1])
		}
		if pruned != "" {
			pruned = "; bodies pruned by retention:" + pruned
		}
		if rep.OK() {
			fmt.Fprintf(env.stdout, "ok: %d records (%d hashed from their bodies), %d checkpoints verified; root %s%s\n",
				rep.Size, rep.Checked, rep.Checkpoints, rep.Root, pruned)
		} else {
			if rep.FirstBad >= 0 {
				fmt.Fprintf(env.stdout, "FAIL: first bad index %d\n", rep.FirstBad)
			} else {
				fmt.Fprintln(env.stdout, "FAIL")
			}
			for _, p := range rep.Problems {
				fmt.Fprintln(env.stdout, "  "+p)
			}
			if pruned != "" {
				fmt.Fprintln(env.stdout, strings.TrimPrefix(pruned, "; "))
			}
		}
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

func auditCheckpoint(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int {
	so := addStoreFlags(env, fs)
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	r, closeFn, err := so.open(ctx, false)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit checkpoint:", err)
		return 1
	}
	defer closeFn()
	n, err := r.Checkpoint(ctx)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit checkpoint:", err)
		return 1
	}
	env.stdout.Write(n)
	return 0
}

func auditProof(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int {
	so := addStoreFlags(env, fs)
	size := fs.Int64("size", 0, "tree size to prove against (default: the latest checkpoint)")
	byRequest := fs.Bool("request-id", false, "treat ID as a request id even if it is a number")
	out := fs.String("o", "", "write the proof to this file instead of standard output")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.stderr, "warden audit proof: want one ID (a record index or a request id)")
		return 2
	}
	r, closeFn, err := so.open(ctx, false)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit proof:", err)
		return 1
	}
	defer closeFn()
	id := fs.Arg(0)
	index, perr := strconv.ParseInt(id, 10, 64)
	if perr != nil || *byRequest {
		idx, err := r.FindRequest(ctx, id)
		if err != nil {
			fmt.Fprintln(env.stderr, "warden audit proof:", err)
			return 1
		}
		if len(idx) > 1 {
			fmt.Fprintf(env.stderr, "warden audit proof: request %q has %d records %v; proving the first (give an index for another)\n", id, len(idx), idx)
		}
		index = idx[0]
	}
	p, err := r.ProveInclusion(ctx, index, *size)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit proof:", err)
		return 1
	}
	if *out == "" {
		writeIndented(env.stdout, p)
		return 0
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fmt.Fprintln(env.stderr, "warden audit proof:", err)
		return 1
	}
	fmt.Fprintf(env.stdout, "wrote inclusion proof of record %d in the tree of %d records to %s\n", p.Index, p.TreeSize, *out)
	return 0
}

func auditVerifyProof(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int {
	key := fs.String("key", "", "the log's verifier (public) key file (required)")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if *key == "" || fs.NArg() != 1 {
		fmt.Fprintln(env.stderr, "warden audit verify-proof: usage: warden audit verify-proof --key PUB FILE")
		return 2
	}
	v, err := audit.LoadVerifier(*key)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit verify-proof:", err)
		return 1
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit verify-proof:", err)
		return 1
	}
	p, err := audit.ParseInclusionProof(b)
	if err != nil {
		fmt.Fprintf(env.stderr, "warden audit verify-proof: %s: %v\n", fs.Arg(0), err)
		return 1
	}
	cp, err := audit.VerifyInclusionProof(p, v)
	if err != nil {
		fmt.Fprintf(env.stderr, "warden audit verify-proof: %s: %v\n", fs.Arg(0), err)
		return 1
	}
	fmt.Fprintf(env.stdout, "ok: record %d is in the tree of %d records signed by %s\n", p.Index, cp.Size, cp.Origin)
	if p.Record != "" {
		fmt.Fprintln(env.stdout, p.Record)
	} else {
		fmt.Fprintf(env.stdout, "(record body pruned; leaf hash %s)\n", p.LeafHash)
	}
	return 0
}

func auditConsistency(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int {
	so := addStoreFlags(env, fs)
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fmt.Fprintln(env.stderr, "warden audit consistency: usage: warden audit consistency OLD [NEW]")
		return 2
	}
	sizes := make([]int64, 2)
	for i, a := range fs.Args() {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 1 {
			fmt.Fprintf(env.stderr, "warden audit consistency: tree size %q is not a positive integer\n", a)
			return 2
		}
		sizes[i] = n
	}
	r, closeFn, err := so.open(ctx, false)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit consistency:", err)
		return 1
	}
	defer closeFn()
	p, err := r.ProveConsistency(ctx, sizes[0], sizes[1])
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit consistency:", err)
		return 1
	}
	writeIndented(env.stdout, p)
	return 0
}

func auditTail(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int {
	so := addStoreFlags(env, fs)
	n := fs.Int64("n", 10, "number of records")
	follow := fs.Bool("follow", false, "keep printing new records until interrupted")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	r, closeFn, err := so.open(ctx, false)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit tail:", err)
		return 1
	}
	defer closeFn()
	h, err := r.Store().Head(ctx)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit tail:", err)
		return 1
	}
	start := max(h.Size-*n, 0)
	for {
		if _, err := r.Export(ctx, env.stdout, start, h.Size); err != nil {
			if errors.Is(err, context.Canceled) {
				return 0
			}
			fmt.Fprintln(env.stderr, "warden audit tail:", err)
			return 1
		}
		if !*follow {
			return 0
		}
		start = h.Size
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(time.Second):
		}
		if h, err = r.Store().Head(ctx); err != nil {
			if errors.Is(err, context.Canceled) {
				return 0
			}
			fmt.Fprintln(env.stderr, "warden audit tail:", err)
			return 1
		}
	}
}

func auditExport(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int {
	so := addStoreFlags(env, fs)
	since := fs.String("since", "0", "first record: an index, or a time (RFC 3339, e.g. 2026-11-01T00:00:00Z)")
	until := fs.Int64("until", -1, "stop before this index (default: the end)")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	r, closeFn, err := so.open(ctx, false)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit export:", err)
		return 1
	}
	defer closeFn()
	var start int64
	if n, err := strconv.ParseInt(*since, 10, 64); err == nil && n >= 0 {
		start = n
	} else if t, err := time.Parse(time.RFC3339Nano, *since); err == nil {
		if start, err = r.Store().FirstIndexSince(ctx, t.UnixNano()); err != nil {
			fmt.Fprintln(env.stderr, "warden audit export:", err)
			return 1
		}
	} else {
		fmt.Fprintf(env.stderr, "warden audit export: --since %q is neither an index nor an RFC 3339 time\n", *since)
		return 2
	}
	end := int64(math.MaxInt64)
	if *until >= 0 {
		end = *until
	}
	h, err := r.Store().Head(ctx)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit export:", err)
		return 1
	}
	end = min(end, h.Size)
	if _, err := r.Export(ctx, env.stdout, start, end); err != nil {
		fmt.Fprintln(env.stderr, "warden audit export:", err)
		return 1
	}
	return 0
}

func auditStats(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int {
	so := addStoreFlags(env, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	r, closeFn, err := so.open(ctx, false)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit stats:", err)
		return 1
	}
	defer closeFn()
	s, err := r.Stats(ctx)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit stats:", err)
		return 1
	}
	if *asJSON {
		writeIndented(env.stdout, s)
		return 0
	}
	fmt.Fprintf(env.stdout, "records:            %d (%d with pruned bodies)\n", s.Records, s.Pruned)
	for k, n := range s.Kinds {
		fmt.Fprintf(env.stdout, "  %-17s %d\n", k+":", n)
	}
	fmt.Fprintf(env.stdout, "checkpoints:        %d\n", s.Checkpoints)
	if s.Checkpoints > 0 {
		fmt.Fprintf(env.stdout, "latest checkpoint:  size %d at %s\n", s.LatestCheckpoint, s.LatestCheckpointAt.Format(time.RFC3339))
	}
	if s.Records > 0 {
		fmt.Fprintf(env.stdout, "records from:       %s\nrecords to:         %s\n", s.FirstRecordAt.Format(time.RFC3339Nano), s.LastRecordAt.Format(time.RFC3339Nano))
	}
	return 0
}

func writeIndented(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func auditWitness(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) int {
	base := fs.String("url", "", "base URL the log's HTTP endpoints are under (…/audit/checkpoint)")
	key := fs.String("key", "", "the log's verifier (public) key file")
	state := fs.String("state", "", "file holding the last checkpoint seen (created on first use)")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for the check")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if *base == "" || *key == "" || *state == "" || fs.NArg() != 0 {
		fmt.Fprintln(env.stderr, "warden audit witness: usage: warden audit witness --url URL --key PUB --state FILE")
		return 2
	}
	v, err := audit.LoadVerifier(*key)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit witness:", err)
		return 1
	}
	prev, err := os.ReadFile(*state)
	if errors.Is(err, os.ErrNotExist) {
		prev = nil
	} else if err != nil {
		fmt.Fprintln(env.stderr, "warden audit witness:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cur, err := audit.Witness(ctx, &http.Client{}, *base, v, prev)
	if err != nil {
		fmt.Fprintln(env.stderr, "warden audit witness:", err)
		return 1
	}
	tmp := *state + ".tmp"
	if err := os.WriteFile(tmp, cur, 0o644); err != nil {
		fmt.Fprintln(env.stderr, "warden audit witness:", err)
		return 1
	}
	if err := os.Rename(tmp, *state); err != nil {
		fmt.Fprintln(env.stderr, "warden audit witness:", err)
		return 1
	}
	cp, _ := audit.OpenCheckpoint(cur, v)
	if prev == nil {
		fmt.Fprintf(env.stdout, "ok: first checkpoint of %s saved: %d records\n", cp.Origin, cp.Size)
	} else {
		old, _ := audit.OpenCheckpoint(prev, v)
		fmt.Fprintf(env.stdout, "ok: %s grew consistently from %d to %d records\n", cp.Origin, old.Size, cp.Size)
	}
	return 0
}

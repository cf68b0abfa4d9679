package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/warden-safety/warden/audit"
)

func init() {
	register(&command{
		name:  "keygen",
		usage: "create the audit log's checkpoint signing key pair",
		help: `Usage: warden keygen [--name ORIGIN] [--data-dir DIR] [--out PREFIX]

Creates an Ed25519 key pair for signing the audit log's checkpoints (C2SP
signed notes): PREFIX.key, the signer key, readable by its owner only (mode
0600), and PREFIX.pub, the verifier key to hand to auditors and witnesses.
The key's name is the log's origin line in every checkpoint. Existing files
are never overwritten.`,
		run: runKeygen,
	})
}

func runKeygen(env *cliEnv, args []string) int {
	c := commands["keygen"]
	fs := newFlagSet(env, c)
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	name := fs.String("name", host+"/warden-audit", "key name, the checkpoint origin line (no spaces or '+')")
	dataDir := fs.String("data-dir", auditDefaultDataDir(env), "data directory")
	out := fs.String("out", "", "path prefix of the key files (default DATA-DIR/audit)")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(env.stderr, "warden keygen: unexpected arguments:", fs.Args())
		return 2
	}
	prefix := *out
	if prefix == "" {
		if err := os.MkdirAll(*dataDir, 0o700); err != nil {
			fmt.Fprintln(env.stderr, "warden keygen:", err)
			return 1
		}
		prefix = filepath.Join(*dataDir, "audit")
	}
	if err := audit.GenerateKey(*name, prefix+".key", prefix+".pub"); err != nil {
		fmt.Fprintln(env.stderr, "warden keygen:", err)
		return 1
	}
	pub, _ := os.ReadFile(prefix + ".pub")
	fmt.Fprintf(env.stdout, "signer key:   %s (keep secret)\nverifier key: %s\n%s", prefix+".key", prefix+".pub", pub)
	return 0
}

// auditDefaultDataDir is $WARDEN_DATA_DIR, or "data".
func auditDefaultDataDir(env *cliEnv) string {
	if d := env.getenv("WARDEN_DATA_DIR"); d != "" {
		return d
	}
	return "data"
}

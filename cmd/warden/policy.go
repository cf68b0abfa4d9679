package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/warden-safety/warden/policy"
)

func init() {
	register(&command{
		name:  "policy",
		usage: "check, show and compare safety policy documents",
		help: `Usage:
  warden policy check FILE...
  warden policy show [--json] [FILE]
  warden policy stricter CANDIDATE CURRENT

check validates each policy file and prints "ok <digest> version <v>"
(prefixed with "FILE: " when several files are given), or every problem as
FILE:LINE:COL: message on standard error; warnings (a rule that can never
apply) go to standard error too and do not fail the check. It exits 0
when all files are valid, 1 when one is not, 2 on a usage error.

show prints the built-in default policy (the one the gateway enforces when
no file is configured) with the reasoning behind it, or with --json the
effective canonical form of FILE (or of the default) whose SHA-256 is the
policy digest recorded on the audit log.

stricter exits 0 when CANDIDATE is at least as strict as CURRENT for every
request (the safety board lets such changes through unsigned), and 1 with
the reasons otherwise.

See docs/policy.md for the document format.`,
		run: runPolicy,
	})
}

func runPolicy(env *cliEnv, args []string) int {
	c := commands["policy"]
	if len(args) == 0 {
		fmt.Fprintln(env.stderr, "warden policy: missing subcommand (check, show or stricter)")
		newFlagSet(env, c).Usage()
		return 2
	}
	switch args[0] {
	case "check":
		return runPolicyCheck(env, c, args[1:])
	case "show":
		return runPolicyShow(env, c, args[1:])
	case "stricter":
		return runPolicyStricter(env, c, args[1:])
	case "-h", "--help", "-help", "help":
		fs := newFlagSet(env, c)
		fs.SetOutput(env.stdout)
		fs.Usage()
		return 0
	}
	fmt.Fprintf(env.stderr, "warden policy: unknown subcommand %q (want check, show or stricter)\n", args[0])
	return 2
}

func runPolicyCheck(env *cliEnv, c *command, args []string) int {
	fs := newFlagSet(env, c)
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.stderr, "warden policy check: missing FILE")
		return 2
	}
	code := 0
	for _, path := range fs.Args() {
		p, err := policy.Load(path)
		if err != nil {
			code = 1
			var ve *policy.ValidationError
			if errors.As(err, &ve) {
				fmt.Fprintln(env.stderr, ve.Error())
			} else {
				fmt.Fprintf(env.stderr, "%s: %v\n", path, err)
			}
			continue
		}
		for _, w := range p.Warnings() {
			fmt.Fprintf(env.stderr, "%s:%d:%d: warning: %s\n", path, w.Line, w.Column, w.Message)
		}
		if fs.NArg() > 1 {
			fmt.Fprintf(env.stdout, "%s: ", path)
		}
		fmt.Fprintf(env.stdout, "ok %s version %s\n", p.Digest(), p.Version())
	}
	return code
}

func runPolicyShow(env *cliEnv, c *command, args []string) int {
	fs := newFlagSet(env, c)
	asJSON := fs.Bool("json", false, "print the effective canonical form as indented JSON")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(env.stderr, "warden policy show: at most one FILE")
		return 2
	}
	p := policy.Default()
	if fs.NArg() == 1 {
		var err error
		if p, err = policy.Load(fs.Arg(0)); err != nil {
			fmt.Fprintln(env.stderr, err)
			return 1
		}
	}
	if *asJSON {
		var b bytes.Buffer
		if err := json.Indent(&b, p.Canonical(), "", "  "); err != nil {
			fmt.Fprintln(env.stderr, "warden policy show:", err)
			return 1
		}
		b.WriteByte('\n')
		env.stdout.Write(b.Bytes())
		return 0
	}
	fmt.Fprintf(env.stdout, "# %s: digest %s\n", p.Name(), p.Digest())
	env.stdout.Write(p.Source())
	return 0
}

func runPolicyStricter(env *cliEnv, c *command, args []string) int {
	fs := newFlagSet(env, c)
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(env.stderr, "warden policy stricter: want CANDIDATE and CURRENT (a file, or \"default\" for the built-in policy)")
		return 2
	}
	var ps [2]*policy.Policy
	for i, path := range fs.Args() {
		if path == "default" {
			if _, err := os.Stat(path); err != nil {
				ps[i] = policy.Default()
				continue
			}
		}
		p, err := policy.Load(path)
		if err != nil {
			fmt.Fprintln(env.stderr, err)
			return 1
		}
		ps[i] = p
	}
	ok, reasons := policy.Stricter(ps[0], ps[1])
	if ok {
		fmt.Fprintf(env.stdout, "stricter: %s is at least as strict as %s\n", fs.Arg(0), fs.Arg(1))
		return 0
	}
	fmt.Fprintf(env.stdout, "not stricter: %s is weaker than %s:\n", fs.Arg(0), fs.Arg(1))
	for _, r := range reasons {
		fmt.Fprintln(env.stdout, "  "+r)
	}
	return 1
}

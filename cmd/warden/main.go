// Command warden is Warden's command-line interface: the gateway server,
// one-off checks, training and evaluation of the classifier, the audit log,
// the safety board and red-team runs. Each subcommand lives in its own file
// and registers itself in the command table; main only dispatches.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand.
type command struct {
	name  string
	usage string // one line: what it does
	// help is printed by `warden help NAME` and `warden NAME --help` above
	// the flag defaults.
	help string
	// run executes the command with the arguments after its name and
	// returns the process exit code.
	run func(env *cliEnv, args []string) int
}

// cliEnv carries the process's standard streams and environment, so tests
// can run commands in-process.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

var commands = map[string]*command{}

// register adds a command to the table; it is called from init functions in
// the files that define the commands.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

func main() {
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(env, os.Args[1:]))
}

// run dispatches args to a subcommand and returns the exit code.
func run(env *cliEnv, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				c.run(env, []string{"--help"})
				return 0
			}
		}
		usage(env.stdout)
		return 0
	case "version", "--version":
		fmt.Fprintln(env.stdout, "warden", version)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.stderr, "warden: unknown command %q\n\n", name)
		usage(env.stderr)
		return 2
	}
	return c.run(env, args[1:])
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func usage(w io.Writer) {
	fmt.Fprint(w, `Warden is a safety gateway for large language models: it scans every prompt
and every answer for hazardous content, enforces a policy, and records every
decision on a tamper-evident log.

Usage:
  warden <command> [flags] [arguments]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].usage)
	}
	fmt.Fprint(w, `
Run "warden help <command>" or "warden <command> --help" for details.
`)
}

// newFlagSet returns a flag set for c whose usage prints c's help and the
// flag defaults to env.stderr (stdout for an explicit --help).
func newFlagSet(env *cliEnv, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("warden "+c.name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.help))
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs. It returns ok=false and the exit code to
// use when parsing stopped: 0 after --help, 2 after a bad flag.
func parseFlags(env *cliEnv, fs *flag.FlagSet, args []string) (code int, ok bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(env.stdout)
			break
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

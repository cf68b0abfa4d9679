package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/warden-safety/warden/board"
	"github.com/warden-safety/warden/policy"
)

func init() {
	register(&command{
		name:  "board",
		usage: "independent safety board: trustee keys, signed statements, halts",
		help: `Usage: warden board <subcommand> [flags] [arguments]

The safety board holds the powers the operator of the servers must not hold
alone: weakening the policy, releasing a model and resuming a halted one
need k of n trustee signatures; any single trustee can halt.

Subcommands:
  keygen       write a trustee key pair (NAME.key, mode 0600, and NAME.pub)
  init         write the first charter (trustees, thresholds, expiry)
  propose      write an unsigned statement: policy|release|halt|resume|charter
  show         print a statement file in full (what a trustee is asked to sign)
  sign         add one trustee's signature to a statement file (offline)
  submit       send a statement to a running Warden or apply it to a data directory
  status       what is enforced, what is pending, signatures still needed
  halt         propose, sign and submit a halt in one step
  resume       propose, sign and submit a resume in one step
  history      the chain of accepted statements
  commitments  the charter's commitments, promised against measured
  admit        would a request for a model be admitted now?

Where the board lives (for propose, submit, status, halt, resume, history,
commitments, admit), in order of precedence:
  --server URL     a running Warden (env WARDEN_BOARD_SERVER)
  --postgres DSN   the PostgreSQL database of the replicas (env WARDEN_BOARD_POSTGRES)
  --dir DIR        a data directory; statements are files in DIR/board (env WARDEN_DATA_DIR)

Encrypted key files ask for their passphrase on the terminal, or read it
from env WARDEN_TRUSTEE_PASSPHRASE.

Exit codes of submit, halt and resume: 0 accepted and enforced, 3 pending
(more signatures needed), 1 refused or failed, 2 bad usage.

Run "warden board <subcommand> --help" for the flags of each.`,
		run: runBoard,
	})
}

// boardSub is one `warden board` subcommand.
type boardSub struct {
	usage string
	help  string
	run   func(env *cliEnv, c *command, args []string) int
}

var boardSubs = map[string]*boardSub{}

func runBoard(env *cliEnv, args []string) int {
	c := commands["board"]
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := env.stderr
		code := 2
		if len(args) > 0 {
			w, code = env.stdout, 0
		}
		fmt.Fprintln(w, strings.TrimSpace(c.help))
		return code
	}
	sub, ok := boardSubs[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "warden board: unknown subcommand %q (see warden board --help)\n", args[0])
		return 2
	}
	sc := &command{name: "board " + args[0], usage: sub.usage, help: sub.help}
	return sub.run(env, sc, args[1:])
}

// boardTarget holds the flags that say where the board lives.
type boardTarget struct {
	server, postgres, prefix, dir string
	env                           *cliEnv
}

func (t *boardTarget) flags(env *cliEnv, fs *flag.FlagSet) {
	// Environment values are read in open, not used as flag defaults, so
	// --help never prints a DSN that may carry a password.
	t.env = env
	fs.StringVar(&t.server, "server", "", "base URL of a running Warden (env WARDEN_BOARD_SERVER)")
	fs.StringVar(&t.postgres, "postgres", "", "PostgreSQL DSN of the board's store (env WARDEN_BOARD_POSTGRES)")
	fs.StringVar(&t.prefix, "pg-prefix", "warden_", "table prefix in PostgreSQL")
	fs.StringVar(&t.dir, "dir", "", "Warden data directory; the board's files are in DIR/board (env WARDEN_DATA_DIR)")
}

// resolve fills unset flags from the environment. Flags given on the
// command line win over any environment variable.
func (t *boardTarget) resolve() {
	if t.env == nil || t.server != "" || t.postgres != "" || t.dir != "" {
		return
	}
	t.server = t.env.getenv("WARDEN_BOARD_SERVER")
	t.postgres = t.env.getenv("WARDEN_BOARD_POSTGRES")
	t.dir = t.env.getenv("WARDEN_DATA_DIR")
}

// boardBackend is a board reached over HTTP or opened in-process.
type boardBackend interface {
	Status(ctx context.Context) (board.Status, error)
	Submit(ctx context.Context, e *board.Envelope) (*board.Result, error)
	History(ctx context.Context) ([]board.HistoryEntry, error)
	Commitments(ctx context.Context) (board.CommitmentsResponse, error)
	Admit(ctx context.Context, model, route, upstream, upstreamURL string) (board.AdmitResponse, error)
	Close()
}

type boardRemote struct{ c *board.Client }

func (r boardRemote) Status(ctx context.Context) (board.Status, error) { return r.c.Status(ctx) }
func (r boardRemote) Submit(ctx context.Context, e *board.Envelope) (*board.Result, error) {
	return r.c.Submit(ctx, e)
}
func (r boardRemote) History(ctx context.Context) ([]board.HistoryEntry, error) {
	return r.c.History(ctx)
}
func (r boardRemote) Commitments(ctx context.Context) (board.CommitmentsResponse, error) {
	return r.c.Commitments(ctx)
}
func (r boardRemote) Admit(ctx context.Context, model, route, upstream, upstreamURL string) (board.AdmitResponse, error) {
	return r.c.Admit(ctx, model, route, upstream, upstreamURL)
}
func (r boardRemote) Close() {}

type boardLocal struct {
	b     *board.Board
	store board.Store
}

func (l boardLocal) Status(ctx context.Context) (board.Status, error) { return l.b.FullStatus(ctx) }
func (l boardLocal) Submit(ctx context.Context, e *board.Envelope) (*board.Result, error) {
	return l.b.Submit(ctx, e)
}
func (l boardLocal) History(ctx context.Context) ([]board.HistoryEntry, error) {
	return l.b.History(), nil
}
func (l boardLocal) Commitments(ctx context.Context) (board.CommitmentsResponse, error) {
	return board.CommitmentsResponse{Commitments: l.b.Meter().Commitments(), Tokens: l.b.Meter().Totals()}, nil
}
func (l boardLocal) Admit(ctx context.Context, model, route, upstream, upstreamURL string) (board.AdmitResponse, error) {
	ar := board.AdmitResponse{Model: model, Route: route, Upstream: upstream, UpstreamURL: upstreamURL, Admitted: true}
	if err := l.b.Admit(ctx, model, route, upstream, upstreamURL); err != nil {
		ar.Admitted, ar.Reason = false, err.Error()
	}
	return ar, nil
}
func (l boardLocal) Close() {
	l.b.Close()
	if l.store != nil {
		l.store.Close()
	}
}

// open connects to the board. genesis, when set, is installed as the first
// charter if the store has none (only for --dir and --postgres: a server
// never accepts a first charter over HTTP).
func (t *boardTarget) open(ctx context.Context, genesis *board.Envelope) (boardBackend, error) {
	t.resolve()
	switch {
	case t.server != "":
		if genesis != nil {
			return nil, errors.New("a first charter cannot be sent to a server: install it with --dir or --postgres before starting Warden")
		}
		return boardRemote{&board.Client{BaseURL: t.server}}, nil
	case t.postgres != "":
		s, err := board.OpenPGStore(ctx, t.postgres, t.prefix)
		if err != nil {
			return nil, err
		}
		b, err := board.Open(ctx, board.Config{Store: s, Genesis: genesis})
		if err != nil {
			s.Close()
			return nil, err
		}
		return boardLocal{b: b, store: s}, nil
	case t.dir != "":
		b, err := board.Open(ctx, board.Config{Dir: filepath.Join(t.dir, "board"), Genesis: genesis})
		if err != nil {
			return nil, err
		}
		return boardLocal{b: b}, nil
	}
	return nil, errors.New("no board given: use --server URL, --postgres DSN or --dir DIR")
}

// passphrase returns a callback reading a key's passphrase from env
// WARDEN_TRUSTEE_PASSPHRASE or, failing that, the terminal.
func boardPassphrase(env *cliEnv, prompt string) func() ([]byte, error) {
	return func() ([]byte, error) {
		if p := env.getenv("WARDEN_TRUSTEE_PASSPHRASE"); p != "" {
			return []byte(p), nil
		}
		f, ok := env.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil, errors.New("the key is encrypted: set WARDEN_TRUSTEE_PASSPHRASE or run on a terminal")
		}
		fmt.Fprint(env.stderr, prompt)
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.stderr)
		return p, err
	}
}

func boardReadEnvelope(path string) (*board.Envelope, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	e, err := board.ParseEnvelope(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

func boardWriteEnvelope(path string, e *board.Envelope) error {
	return os.WriteFile(path, e.Marshal(), 0o644)
}

func boardFail(env *cliEnv, sub string, err error) int {
	fmt.Fprintf(env.stderr, "warden board %s: %v\n", sub, err)
	return 1
}

// boardList collects a repeated string flag.
type boardList []string

func (m *boardList) String() string     { return strings.Join(*m, ",") }
func (m *boardList) Set(s string) error { *m = append(*m, s); return nil }

// durationFlag parses Go durations plus a "d" suffix for days.
func boardDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(d * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (use e.g. 720h or 30d)", s)
	}
	return d, nil
}

// --- keygen -----------------------------------------------------------------

func init() {
	boardSubs["keygen"] = &boardSub{usage: "write a trustee key pair", help: `Usage: warden board keygen --name NAME [--out NAME.key] [--encrypt]

Writes the trustee's private key to NAME.key (mode 0600, never overwritten)
and the public key to NAME.key's directory as NAME.pub. The private key
stays with the trustee; only NAME.pub goes into the charter. With --encrypt
the key is sealed with a passphrase (scrypt + NaCl secretbox), read from
WARDEN_TRUSTEE_PASSPHRASE or asked twice on the terminal.`, run: boardKeygen}
}

func boardKeygen(env *cliEnv, c *command, args []string) int {
	fs := newFlagSet(env, c)
	name := fs.String("name", "", "trustee name (letters, digits, -_.@)")
	out := fs.String("out", "", "private key file (default NAME.key)")
	encrypt := fs.Bool("encrypt", false, "encrypt the private key with a passphrase")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if *name == "" || fs.NArg() > 0 {
		fmt.Fprintln(env.stderr, "warden board keygen: --name is required and no arguments are taken")
		return 2
	}
	if *out == "" {
		*out = *name + ".key"
	}
	k, err := board.GenerateKey(*name, nil)
	if err != nil {
		return boardFail(env, "keygen", err)
	}
	var pass []byte
	if *encrypt {
		get := boardPassphrase(env, "passphrase for "+*out+": ")
		p1, err := get()
		if err != nil {
			return boardFail(env, "keygen", err)
		}
		if env.getenv("WARDEN_TRUSTEE_PASSPHRASE") == "" {
			p2, err := boardPassphrase(env, "repeat passphrase: ")()
			if err != nil {
				return boardFail(env, "keygen", err)
			}
			if string(p1) != string(p2) {
				return boardFail(env, "keygen", errors.New("passphrases differ"))
			}
		}
		if len(p1) < 8 {
			return boardFail(env, "keygen", errors.New("passphrase shorter than 8 characters"))
		}
		pass = p1
	}
	pubPath := strings.TrimSuffix(*out, ".key") + ".pub"
	if _, err := os.Stat(pubPath); err == nil {
		return boardFail(env, "keygen", fmt.Errorf("%s exists; not overwriting", pubPath))
	}
	if err := board.WriteKeyFile(*out, k, pass); err != nil {
		return boardFail(env, "keygen", err)
	}
	if err := os.WriteFile(pubPath, board.MarshalPublicKey(k.Public), 0o644); err != nil {
		return boardFail(env, "keygen", err)
	}
	fmt.Fprintf(env.stdout, "trustee %s\n  private key: %s (mode 0600%s; keep it offline)\n  public key:  %s\n  key id:      %s\n",
		*name, *out, map[bool]string{true: ", encrypted", false: ""}[*encrypt], pubPath, k.Public.KeyID())
	return 0
}

// --- init and charter flags ---------------------------------------------------

// boardCharterFlags are shared by init and propose charter.
type boardCharterFlags struct {
	trustees    boardList
	k           int
	th          map[board.Kind]*int
	expires     string
	maxRisk     string
	commitments boardList
}

func (cf *boardCharterFlags) register(fs *flag.FlagSet) {
	fs.Var(&cf.trustees, "trustee", "trustee public key file NAME.pub (repeat for each trustee)")
	fs.IntVar(&cf.k, "threshold", 0, "signatures needed for policy, release, resume and charter (default: a majority)")
	cf.th = map[board.Kind]*int{}
	for _, k := range board.Kinds() {
		def := 0
		if k == board.KindHalt {
			def = 1
		}
		cf.th[k] = fs.Int(string(k)+"-threshold", def, "signatures needed for "+string(k)+" (overrides --threshold)")
	}
	fs.StringVar(&cf.expires, "expires", "365d", "how long the charter holds (e.g. 365d, 8760h)")
	fs.StringVar(&cf.maxRisk, "max-risk", "high", "highest risk level a release may carry (low, medium, high, critical)")
	fs.Var(&cf.commitments, "commitment", `a commitment "NAME:KINDS:MIN_SHARE[:DESCRIPTION]", KINDS of served,guard,eval joined by '+', e.g. "safety-compute:guard+eval:0.2:at least 20% of model tokens go to safety evaluation and guard models"`)
}

func (cf *boardCharterFlags) charter(deployment string, now time.Time) (*board.Charter, error) {
	if len(cf.trustees) == 0 {
		return nil, errors.New("at least one --trustee NAME.pub is required")
	}
	c := &board.Charter{Deployment: deployment, MaxReleaseRisk: cf.maxRisk}
	for _, p := range cf.trustees {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		pk, err := board.ParsePublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		c.Trustees = append(c.Trustees, pk)
	}
	k := cf.k
	if k == 0 {
		k = len(c.Trustees)/2 + 1
	}
	c.Thresholds = board.DefaultThresholds(k)
	for kind, v := range cf.th {
		if *v > 0 && (kind != board.KindHalt || *v != 1) {
			c.Thresholds[kind] = *v
		}
	}
	d, err := boardDuration(cf.expires)
	if err != nil {
		return nil, fmt.Errorf("--expires: %w", err)
	}
	c.Expires = now.Add(d).UTC().Truncate(time.Second)
	for _, s := range cf.commitments {
		parts := strings.SplitN(s, ":", 4)
		if len(parts) < 3 {
			return nil, fmt.Errorf("--commitment %q: want NAME:KINDS:MIN_SHARE[:DESCRIPTION]", s)
		}
		share, err := strconv.ParseFloat(strings.TrimSuffix(parts[2], "%"), 64)
		if err != nil {
			return nil, fmt.Errorf("--commitment %q: bad share %q", s, parts[2])
		}
		if strings.HasSuffix(parts[2], "%") {
			share /= 100
		}
		cm := board.Commitment{Name: parts[0], Kinds: strings.Split(parts[1], "+"), MinShare: share}
		if len(parts) == 4 {
			cm.Description = parts[3]
		}
		c.Commitments = append(c.Commitments, cm)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func init() {
	boardSubs["init"] = &boardSub{usage: "write the first charter", help: `Usage: warden board init --deployment ID --trustee A.pub --trustee B.pub ... [flags] -o charter.json

Writes the first charter as a statement file. Every trustee it lists must
sign it (warden board sign, or --key here for keys at hand); then install it
with "warden board submit --dir DATA charter.json" (or --postgres) before
starting Warden. The server never accepts a first charter over HTTP.`, run: boardInit}
}

func boardInit(env *cliEnv, c *command, args []string) int {
	fs := newFlagSet(env, c)
	dep := fs.String("deployment", "", "deployment ID every statement is bound to")
	out := fs.String("o", "charter.json", "output statement file")
	note := fs.String("note", "", "note for the trustees")
	var keys boardList
	fs.Var(&keys, "key", "sign with this trustee key file too (repeatable)")
	var cf boardCharterFlags
	cf.register(fs)
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if *dep == "" {
		fmt.Fprintln(env.stderr, "warden board init: --deployment is required")
		return 2
	}
	now := time.Now()
	ch, err := cf.charter(*dep, now)
	if err != nil {
		return boardFail(env, "init", err)
	}
	s := board.NewCharterStatement(ch, now)
	s.Note = *note
	e, err := s.Envelope()
	if err != nil {
		return boardFail(env, "init", err)
	}
	for _, kp := range keys {
		k, err := board.ReadKeyFile(kp, boardPassphrase(env, "passphrase for "+kp+": "))
		if err != nil {
			return boardFail(env, "init", err)
		}
		if err := e.AddSignature(k); err != nil {
			return boardFail(env, "init", err)
		}
	}
	if err := boardWriteEnvelope(*out, e); err != nil {
		return boardFail(env, "init", err)
	}
	rep := ch.CheckSignatures(e)
	fmt.Fprintf(env.stdout, "wrote %s: %s\n  signed by %d of %d trustees (%s); all must sign before it can be installed\n",
		*out, board.Summarize(s), len(rep.Signers), len(ch.Trustees), boardOrNone(rep.Signers))
	return 0
}

func boardOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// --- propose ------------------------------------------------------------------

func init() {
	boardSubs["propose"] = &boardSub{usage: "write an unsigned statement", help: `Usage: warden board propose policy|release|halt|resume|charter [flags] -o FILE

Writes an unsigned statement bound to the deployment and to the current head
of its chain (read from --server, --postgres or --dir), ready to be signed
by the trustees with "warden board sign".

  policy   --policy FILE                       approve a policy document (its digest, version and source)
  release  --model M --upstream U --scorecard FILE --risk RISK=LEVEL:RATIONALE ... [--route R] [--expires 90d]
           risks: cbrn, cyber, persuasion, autonomy (all four required); levels: low, medium, high, critical
  halt     --scope SCOPE --reason TEXT         SCOPE is "*", model:NAME or route:/PATH
  resume   --scope SCOPE --reason TEXT
  charter  --trustee A.pub ... [--threshold K] rotate the charter (k of the current and k of the new charter)`, run: boardPropose}
}

// boardStatementFlags parses the flags of one statement kind.
type boardStatementFlags struct {
	kind                    board.Kind
	policyFile              string
	model, route, upstream  string
	scorecard, scorecardDig string
	risks                   boardList
	expires, riskExpires    string
	scope, reason, note     string
	cf                      boardCharterFlags
	noSource                bool
}

func (sf *boardStatementFlags) register(fs *flag.FlagSet) {
	switch sf.kind {
	case board.KindPolicy:
		fs.StringVar(&sf.policyFile, "policy", "", "policy file to approve")
		fs.BoolVar(&sf.noSource, "no-source", false, "do not embed the policy document (then only that exact digest is approved, and local tightening after a restart needs a new bundle)")
	case board.KindRelease:
		fs.StringVar(&sf.model, "model", "", "model name as clients request it")
		fs.StringVar(&sf.route, "route", "*", `gateway route the release covers ("*" for all)`)
		fs.StringVar(&sf.upstream, "upstream", "", "upstream provider endpoint serving the model")
		fs.StringVar(&sf.scorecard, "scorecard", "", "evaluation scorecard file (its SHA-256 is signed)")
		fs.StringVar(&sf.scorecardDig, "scorecard-digest", "", "sha256:... of the scorecard (instead of --scorecard)")
		fs.Var(&sf.risks, "risk", "RISK=LEVEL:RATIONALE, once for each of cbrn, cyber, persuasion, autonomy")
		fs.StringVar(&sf.expires, "expires", "90d", "how long the release holds")
		fs.StringVar(&sf.riskExpires, "risk-expires", "", "how long the risk assessments hold (default: --expires)")
	case board.KindHalt, board.KindResume:
		fs.StringVar(&sf.scope, "scope", "", `"*", model:NAME or route:/PATH`)
		fs.StringVar(&sf.reason, "reason", "", "why (recorded on the audit log)")
	case board.KindCharter:
		sf.cf.register(fs)
	}
	fs.StringVar(&sf.note, "note", "", "note for the trustees")
}

func (sf *boardStatementFlags) statement(now time.Time) (*board.Statement, error) {
	s := &board.Statement{Type: sf.kind, Note: sf.note}
	switch sf.kind {
	case board.KindPolicy:
		if sf.policyFile == "" {
			return nil, errors.New("--policy FILE is required")
		}
		p, err := policy.Load(sf.policyFile)
		if err != nil {
			return nil, err
		}
		s.Policy = &board.PolicyBundle{Digest: p.Digest(), PolicyVersion: p.Version()}
		if !sf.noSource {
			s.Policy.Source = p.Source()
		}
	case board.KindRelease:
		if sf.model == "" || sf.upstream == "" {
			return nil, errors.New("--model and --upstream are required")
		}
		r := &board.Release{Model: sf.model, Route: sf.route, Upstream: sf.upstream, ScorecardDigest: sf.scorecardDig}
		if sf.scorecard != "" {
			data, err := os.ReadFile(sf.scorecard)
			if err != nil {
				return nil, err
			}
			r.ScorecardDigest = board.DigestBytes(data)
		}
		if r.ScorecardDigest == "" {
			return nil, errors.New("--scorecard FILE or --scorecard-digest is required")
		}
		d, err := boardDuration(sf.expires)
		if err != nil {
			return nil, fmt.Errorf("--expires: %w", err)
		}
		r.Expires = now.Add(d).UTC().Truncate(time.Second)
		rexp := r.Expires
		if sf.riskExpires != "" {
			rd, err := boardDuration(sf.riskExpires)
			if err != nil {
				return nil, fmt.Errorf("--risk-expires: %w", err)
			}
			rexp = now.Add(rd).UTC().Truncate(time.Second)
		}
		for _, rs := range sf.risks {
			name, rest, ok1 := strings.Cut(rs, "=")
			level, why, ok2 := strings.Cut(rest, ":")
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("--risk %q: want RISK=LEVEL:RATIONALE", rs)
			}
			r.Risks = append(r.Risks, board.RiskAssessment{Risk: strings.ToLower(strings.TrimSpace(name)), Level: strings.ToLower(strings.TrimSpace(level)), Rationale: strings.TrimSpace(why), Expires: rexp})
		}
		s.Release = r
	case board.KindHalt:
		s.Halt = &board.Control{Scope: sf.scope, Reason: sf.reason}
	case board.KindResume:
		s.Resume = &board.Control{Scope: sf.scope, Reason: sf.reason}
	case board.KindCharter:
		c, err := sf.cf.charter("placeholder", now)
		if err != nil {
			return nil, err
		}
		s.Charter = c
	}
	return s, nil
}

func boardKind(s string) (board.Kind, bool) {
	for _, k := range board.Kinds() {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

func boardPropose(env *cliEnv, c *command, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(env.stdout, strings.TrimSpace(c.help))
			return 0
		}
		fmt.Fprintln(env.stderr, "warden board propose: which statement? policy, release, halt, resume or charter")
		return 2
	}
	kind, ok := boardKind(args[0])
	if !ok {
		fmt.Fprintf(env.stderr, "warden board propose: unknown statement %q (policy, release, halt, resume, charter)\n", args[0])
		return 2
	}
	c.name += " " + args[0]
	fs := newFlagSet(env, c)
	sf := &boardStatementFlags{kind: kind}
	sf.register(fs)
	out := fs.String("o", "", "output statement file (required)")
	var t boardTarget
	t.flags(env, fs)
	if code, ok := parseFlags(env, fs, args[1:]); !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(env.stderr, "warden board propose: -o FILE is required")
		return 2
	}
	ctx := context.Background()
	now := time.Now()
	s, err := sf.statement(now)
	if err != nil {
		return boardFail(env, "propose "+string(kind), err)
	}
	be, err := t.open(ctx, nil)
	if err != nil {
		return boardFail(env, "propose", err)
	}
	defer be.Close()
	st, err := be.Status(ctx)
	if err != nil {
		return boardFail(env, "propose", err)
	}
	if kind == board.KindCharter {
		// A rotation keeps what it does not restate.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["commitment"] {
			s.Charter.Commitments = st.Charter.Commitments
		}
		if !set["max-risk"] {
			s.Charter.MaxReleaseRisk = st.Charter.MaxReleaseRisk
		}
	}
	st.Prepare(s, now)
	e, err := s.Envelope()
	if err != nil {
		return boardFail(env, "propose "+string(kind), err)
	}
	if err := boardWriteEnvelope(*out, e); err != nil {
		return boardFail(env, "propose", err)
	}
	fmt.Fprintf(env.stdout, "wrote %s: %s\n  %s version %d; needs %d trustee signatures (warden board sign --key KEY %s)\n",
		*out, board.Summarize(s), s.Subject(), s.Version, st.Charter.Thresholds[kind], *out)
	return 0
}

// --- sign ---------------------------------------------------------------------

func init() {
	boardSubs["sign"] = &boardSub{usage: "add one trustee's signature to a statement file", help: `Usage: warden board sign --key KEYFILE [-o OUT] FILE

Shows what FILE states and adds the trustee's signature (in place, or to
OUT). Works offline: the key never leaves the trustee's machine. A trustee
signing twice replaces their earlier signature.`, run: boardSign}
}

func boardSign(env *cliEnv, c *command, args []string) int {
	fs := newFlagSet(env, c)
	keyPath := fs.String("key", "", "trustee key file")
	out := fs.String("o", "", "write the signed statement here instead of FILE")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if *keyPath == "" || fs.NArg() != 1 {
		fmt.Fprintln(env.stderr, "warden board sign: want --key KEYFILE and one statement FILE")
		return 2
	}
	file := fs.Arg(0)
	e, err := boardReadEnvelope(file)
	if err != nil {
		return boardFail(env, "sign", err)
	}
	s, err := e.Statement()
	if err != nil {
		return boardFail(env, "sign", fmt.Errorf("%s: %w", file, err))
	}
	k, err := board.ReadKeyFile(*keyPath, boardPassphrase(env, "passphrase for "+*keyPath+": "))
	if err != nil {
		return boardFail(env, "sign", err)
	}
	if err := e.AddSignature(k); err != nil {
		return boardFail(env, "sign", err)
	}
	if *out == "" {
		*out = file
	}
	if err := boardWriteEnvelope(*out, e); err != nil {
		return boardFail(env, "sign", err)
	}
	d, _ := e.Digest()
	fmt.Fprintf(env.stdout, "%s signed %s (%s)\n  deployment %s, %s version %d, %s\n  %d signature(s) on the file\n",
		k.Public.Name, *out, board.Summarize(s), s.Deployment, s.Subject(), s.Version, d, len(e.Signatures))
	return 0
}

// --- show ---------------------------------------------------------------------

func init() {
	boardSubs["show"] = &boardSub{usage: "print a statement file in full", help: `Usage: warden board show FILE

Prints the statement a file carries (decoded from its DSSE envelope), its
digest and the key IDs of its signatures. Read it before you sign. Works
offline.`, run: boardShow}
}

func boardShow(env *cliEnv, c *command, args []string) int {
	fs := newFlagSet(env, c)
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.stderr, "warden board show: want one statement FILE")
		return 2
	}
	e, err := boardReadEnvelope(fs.Arg(0))
	if err != nil {
		return boardFail(env, "show", err)
	}
	s, err := e.Statement()
	if err != nil {
		return boardFail(env, "show", fmt.Errorf("%s: %w", fs.Arg(0), err))
	}
	if s.Policy != nil && len(s.Policy.Source) > 0 {
		// Show the policy as text, not base64.
		fmt.Fprintf(env.stdout, "policy source (%d bytes):\n%s\n", len(s.Policy.Source), strings.TrimRight(string(s.Policy.Source), "\n"))
		s.Policy.Source = nil
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	d, _ := e.Digest()
	fmt.Fprintf(env.stdout, "%s\n\n%s\ndigest %s\n%d signature(s):\n", board.Summarize(s), b, d, len(e.Signatures))
	for _, sg := range e.Signatures {
		fmt.Fprintf(env.stdout, "  key %s\n", sg.KeyID)
	}
	return 0
}

// --- submit, halt, resume -------------------------------------------------------

func init() {
	boardSubs["submit"] = &boardSub{usage: "send a statement to Warden or apply it to a data directory", help: `Usage: warden board submit [--server URL | --postgres DSN | --dir DIR] FILE

Submits a signed statement. With enough signatures it is enforced at once;
with too few it is kept as pending (signatures submitted separately for the
same statement are merged). A first charter can only be installed with
--dir or --postgres. Exit code 0 accepted, 3 pending, 1 refused.`, run: boardSubmit}
	boardSubs["halt"] = &boardSub{usage: "halt a scope now (propose, sign, submit)", help: `Usage: warden board halt --key KEYFILE --scope SCOPE --reason TEXT [--server URL | --postgres DSN | --dir DIR]

Any single trustee can halt (unless the charter says otherwise). SCOPE is
"*" (everything), model:NAME or route:/PATH. New requests are refused at
once and streams in flight end cleanly.`, run: func(env *cliEnv, c *command, args []string) int {
		return boardShortcut(env, c, board.KindHalt, args)
	}}
	boardSubs["resume"] = &boardSub{usage: "resume a halted scope (propose, sign, submit)", help: `Usage: warden board resume --key KEYFILE [--key KEYFILE ...] --scope SCOPE --reason TEXT [-o FILE] [--server URL | --postgres DSN | --dir DIR]

Resuming needs k trustee signatures. With fewer keys the statement is
submitted as pending (exit 3) and written to -o FILE (default
resume-<scope>.json) for the other trustees to sign and submit.`, run: func(env *cliEnv, c *command, args []string) int {
		return boardShortcut(env, c, board.KindResume, args)
	}}
}

func boardPrintResult(env *cliEnv, res *board.Result) int {
	switch res.Status {
	case "accepted":
		fmt.Fprintf(env.stdout, "accepted: %s\n  %s version %d, %s, signed by %s\n", res.Message, res.Subject, res.Version, res.Digest, boardOrNone(res.Signers))
		return 0
	default:
		fmt.Fprintf(env.stdout, "not yet enforced: %s\n  %s version %d, %s\n", res.Message, res.Subject, res.Version, res.Digest)
		for _, r := range res.Rejected {
			fmt.Fprintf(env.stdout, "  not counted: %s\n", r)
		}
		return 3
	}
}

func boardSubmitErr(env *cliEnv, sub string, err error) int {
	var be *board.Error
	if errors.As(err, &be) {
		fmt.Fprintf(env.stderr, "warden board %s: refused (%s): %s\n", sub, be.Code, be.Msg)
		return 1
	}
	return boardFail(env, sub, err)
}

func boardSubmit(env *cliEnv, c *command, args []string) int {
	fs := newFlagSet(env, c)
	var t boardTarget
	t.flags(env, fs)
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.stderr, "warden board submit: want one statement FILE")
		return 2
	}
	e, err := boardReadEnvelope(fs.Arg(0))
	if err != nil {
		return boardFail(env, "submit", err)
	}
	ctx := context.Background()
	t.resolve()
	var genesis *board.Envelope
	if s, err := e.Statement(); err == nil && s.Type == board.KindCharter && s.Version == 1 {
		genesis = e
	}
	be, err := t.open(ctx, genesis)
	if err != nil {
		return boardSubmitErr(env, "submit", err)
	}
	defer be.Close()
	if genesis != nil {
		// Open installed it (or it was already installed).
		st, err := be.Status(ctx)
		if err != nil {
			return boardFail(env, "submit", err)
		}
		d, _ := e.Digest()
		if st.Charter.Digest == d || (len(st.Heads) > 0 && st.Heads["charter"].Version >= 1) {
			fmt.Fprintf(env.stdout, "charter installed: deployment %s, %d trustees, %s\n", st.Deployment, len(st.Charter.Trustees), st.Charter.Digest)
			if st.Charter.Digest != d {
				fmt.Fprintln(env.stdout, "  (a charter was already installed; this file was not applied)")
				return 1
			}
			return 0
		}
	}
	res, err := be.Submit(ctx, e)
	if err != nil {
		return boardSubmitErr(env, "submit", err)
	}
	return boardPrintResult(env, res)
}

func boardShortcut(env *cliEnv, c *command, kind board.Kind, args []string) int {
	fs := newFlagSet(env, c)
	var keys boardList
	fs.Var(&keys, "key", "trustee key file (repeatable)")
	sf := &boardStatementFlags{kind: kind}
	sf.register(fs)
	out := fs.String("o", "", "also write the signed statement to this file")
	var t boardTarget
	t.flags(env, fs)
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	sub := string(kind)
	if len(keys) == 0 || sf.scope == "" || sf.reason == "" {
		fmt.Fprintf(env.stderr, "warden board %s: --key, --scope and --reason are required\n", sub)
		return 2
	}
	var ks []*board.PrivateKey
	for _, kp := range keys {
		k, err := board.ReadKeyFile(kp, boardPassphrase(env, "passphrase for "+kp+": "))
		if err != nil {
			return boardFail(env, sub, err)
		}
		ks = append(ks, k)
	}
	ctx := context.Background()
	be, err := t.open(ctx, nil)
	if err != nil {
		return boardFail(env, sub, err)
	}
	defer be.Close()
	if kind == board.KindResume && *out == "" {
		*out = "resume-" + strings.NewReplacer(":", "-", "/", "_", "*", "all").Replace(sf.scope) + ".json"
	}
	for attempt := 0; ; attempt++ {
		now := time.Now()
		s, err := sf.statement(now)
		if err != nil {
			return boardFail(env, sub, err)
		}
		st, err := be.Status(ctx)
		if err != nil {
			return boardFail(env, sub, err)
		}
		st.Prepare(s, now)
		e, err := s.Envelope()
		if err != nil {
			return boardFail(env, sub, err)
		}
		for _, k := range ks {
			if err := e.AddSignature(k); err != nil {
				return boardFail(env, sub, err)
			}
		}
		if *out != "" {
			if err := boardWriteEnvelope(*out, e); err != nil {
				return boardFail(env, sub, err)
			}
		}
		res, err := be.Submit(ctx, e)
		var bErr *board.Error
		if errors.As(err, &bErr) && bErr.Code == "stale" && attempt == 0 {
			// Someone else moved the chain meanwhile: propose again on
			// the new head.
			continue
		}
		if err != nil {
			return boardSubmitErr(env, sub, err)
		}
		code := boardPrintResult(env, res)
		if code == 3 && *out != "" {
			fmt.Fprintf(env.stdout, "  the statement is in %s: other trustees run \"warden board sign --key KEY %s\" and submit it\n", *out, *out)
		}
		return code
	}
}

// --- status, history, commitments, admit ------------------------------------------

func init() {
	boardSubs["status"] = &boardSub{usage: "what is enforced and what is pending", help: `Usage: warden board status [--server URL | --postgres DSN | --dir DIR] [--json] [FILE ...]

Without FILE: the charter, the approved policy, releases, halts in force, and
the pending statements with the number of signatures each still needs.
With FILEs: for each statement file, who signed it validly under the charter
in force and how many signatures it still needs.`, run: boardStatus}
	boardSubs["history"] = &boardSub{usage: "the chain of accepted statements", help: `Usage: warden board history [--server URL | --postgres DSN | --dir DIR] [--json]`, run: boardHistory}
	boardSubs["commitments"] = &boardSub{usage: "commitments, promised against measured", help: `Usage: warden board commitments [--server URL | --postgres DSN | --dir DIR] [--json]

Measured shares add up the token totals every replica and run saved to the
board's store (every 30 s and on shutdown) and, with --server, the server's
live counts.`, run: boardCommitments}
	boardSubs["admit"] = &boardSub{usage: "would a request for a model be admitted now?", help: `Usage: warden board admit --model M [--route R] [--server URL | --postgres DSN | --dir DIR]

Exit code 0 when admitted, 1 when refused (the reason is printed).`, run: boardAdmit}
}

func boardJSON(env *cliEnv, v any) int {
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return 1
	}
	return 0
}

func boardOpenForRead(env *cliEnv, c *command, args []string) (boardBackend, *flag.FlagSet, bool, int) {
	fs := newFlagSet(env, c)
	var t boardTarget
	t.flags(env, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := parseFlags(env, fs, args); !ok {
		return nil, nil, false, code
	}
	be, err := t.open(context.Background(), nil)
	if err != nil {
		return nil, nil, false, boardFail(env, strings.TrimPrefix(c.name, "board "), err)
	}
	return be, fs, *asJSON, -1
}

func boardStatus(env *cliEnv, c *command, args []string) int {
	be, fs, asJSON, code := boardOpenForRead(env, c, args)
	if be == nil {
		return code
	}
	defer be.Close()
	ctx := context.Background()
	st, err := be.Status(ctx)
	if err != nil {
		return boardFail(env, "status", err)
	}
	if fs.NArg() > 0 {
		return boardStatusOfFiles(env, st, fs.Args(), asJSON)
	}
	if asJSON {
		return boardJSON(env, st)
	}
	w := env.stdout
	ch := st.Charter
	fmt.Fprintf(w, "deployment %s — charter version %d, expires %s%s\n", st.Deployment, ch.Version, ch.Expires.Format(time.RFC3339),
		map[bool]string{true: " (EXPIRED: only halts and a charter rotation are accepted)", false: ""}[ch.Expired])
	names := make([]string, len(ch.Trustees))
	for i, t := range ch.Trustees {
		names[i] = t.Name
	}
	fmt.Fprintf(w, "trustees: %s\n", strings.Join(names, ", "))
	fmt.Fprintf(w, "signatures needed: policy %d, release %d, halt %d, resume %d, charter %d (of %d)\n",
		ch.Thresholds[board.KindPolicy], ch.Thresholds[board.KindRelease], ch.Thresholds[board.KindHalt],
		ch.Thresholds[board.KindResume], ch.Thresholds[board.KindCharter], len(ch.Trustees))
	if st.Policy != nil {
		fmt.Fprintf(w, "policy: %s (version %q, bundle %d)\n", st.Policy.Digest, st.Policy.PolicyVersion, st.Policy.Version)
	} else {
		fmt.Fprintln(w, "policy: none approved by the board yet")
	}
	fmt.Fprintf(w, "halts in force: %d\n", len(st.Halts))
	for _, h := range st.Halts {
		fmt.Fprintf(w, "  %s — %s (by %s, %s)\n", h.Scope, h.Reason, boardOrNone(h.Signers), h.At.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "releases: %d\n", len(st.Releases))
	for _, r := range st.Releases {
		state := "valid until " + r.Expires.Format(time.RFC3339)
		if !r.Valid {
			state = "NOT VALID: " + strings.Join(r.Expired, "; ")
		}
		route := r.Route
		if route == "" {
			route = "*"
		}
		var risks []string
		for _, a := range r.Risks {
			risks = append(risks, a.Risk+"="+a.Level)
		}
		fmt.Fprintf(w, "  %s on %s via %s — %s; risks %s; signed by %s\n", r.Model, route, r.Upstream, state, strings.Join(risks, " "), boardOrNone(r.Signers))
	}
	fmt.Fprintf(w, "pending: %d\n", len(st.Pending))
	for _, p := range st.Pending {
		fmt.Fprintf(w, "  %s — signed by %s; %d more signature(s) needed\n    %s\n", p.Summary, boardOrNone(p.Signers), p.Needed, p.Digest)
	}
	return 0
}

// boardFileStatus is the status of one statement file under the charter in force.
type boardFileStatus struct {
	File    string   `json:"file"`
	Summary string   `json:"summary,omitempty"`
	Digest  string   `json:"digest,omitempty"`
	Signers []string `json:"signers"`
	Needed  int      `json:"needed"`
	Problem string   `json:"problem,omitempty"`
	Notes   []string `json:"not_counted,omitempty"`
}

func boardStatusOfFiles(env *cliEnv, st board.Status, files []string, asJSON bool) int {
	ch := board.Charter{Deployment: st.Charter.Deployment, Trustees: st.Charter.Trustees, Thresholds: st.Charter.Thresholds, Expires: st.Charter.Expires}
	var out []boardFileStatus
	code := 0
	for _, f := range files {
		fsr := boardFileStatus{File: f, Signers: []string{}}
		e, err := boardReadEnvelope(f)
		var s *board.Statement
		if err == nil {
			s, err = e.Statement()
		}
		if err != nil {
			fsr.Problem = err.Error()
			out = append(out, fsr)
			code = 1
			continue
		}
		fsr.Summary = board.Summarize(s)
		fsr.Digest, _ = e.Digest()
		rep := ch.CheckSignatures(e)
		fsr.Signers, fsr.Notes = rep.Signers, rep.Rejected
		if fsr.Signers == nil {
			fsr.Signers = []string{}
		}
		fsr.Needed = max(0, ch.Thresholds[s.Type]-len(rep.Signers))
		head := st.Heads[s.Subject()]
		switch {
		case s.Deployment != st.Deployment:
			fsr.Problem = fmt.Sprintf("for deployment %q, not %q", s.Deployment, st.Deployment)
		case s.Version <= head.Version:
			fsr.Problem = fmt.Sprintf("stale: %s is at version %d already", s.Subject(), head.Version)
		case s.Version != head.Version+1 || s.Previous != head.Digest:
			fsr.Problem = fmt.Sprintf("does not follow the current %s (version %d); propose it again", s.Subject(), head.Version)
		}
		out = append(out, fsr)
	}
	if asJSON {
		boardJSON(env, out)
		return code
	}
	for _, f := range out {
		fmt.Fprintf(env.stdout, "%s: %s\n", f.File, f.Summary)
		if f.Problem != "" {
			fmt.Fprintf(env.stdout, "  PROBLEM: %s\n", f.Problem)
		}
		if f.Summary != "" {
			fmt.Fprintf(env.stdout, "  signed by %s; %d more signature(s) needed\n", boardOrNone(f.Signers), f.Needed)
		}
		for _, n := range f.Notes {
			fmt.Fprintf(env.stdout, "  not counted: %s\n", n)
		}
	}
	return code
}

func boardHistory(env *cliEnv, c *command, args []string) int {
	be, _, asJSON, code := boardOpenForRead(env, c, args)
	if be == nil {
		return code
	}
	defer be.Close()
	h, err := be.History(context.Background())
	if err != nil {
		return boardFail(env, "history", err)
	}
	if asJSON {
		return boardJSON(env, h)
	}
	for _, e := range h {
		fmt.Fprintf(env.stdout, "#%d %s %-8s %s v%d — %s\n    signed by %s; %s\n", e.Seq, e.AcceptedAt.Format(time.RFC3339), e.Type, e.Subject, e.Version, e.Summary, boardOrNone(e.Signers), e.Digest)
		if e.Previous != "" {
			fmt.Fprintf(env.stdout, "    follows %s\n", e.Previous)
		}
	}
	return 0
}

func boardCommitments(env *cliEnv, c *command, args []string) int {
	be, _, asJSON, code := boardOpenForRead(env, c, args)
	if be == nil {
		return code
	}
	defer be.Close()
	cr, err := be.Commitments(context.Background())
	if err != nil {
		return boardFail(env, "commitments", err)
	}
	if asJSON {
		return boardJSON(env, cr)
	}
	if len(cr.Commitments) == 0 {
		fmt.Fprintln(env.stdout, "the charter declares no commitments")
	}
	for _, r := range cr.Commitments {
		measured := "no tokens metered yet"
		if r.TotalTokens > 0 {
			verdict := "NOT MET"
			if r.Met {
				verdict = "met"
			}
			measured = fmt.Sprintf("measured %.1f%% (%d of %d tokens) — %s", 100*r.Measured, r.KindTokens, r.TotalTokens, verdict)
		}
		fmt.Fprintf(env.stdout, "%s: promised at least %.1f%% of model tokens to %s; %s\n", r.Name, 100*r.Promised, strings.Join(r.Kinds, "+"), measured)
		if r.Description != "" {
			fmt.Fprintf(env.stdout, "  %s\n", r.Description)
		}
	}
	sort.Slice(cr.Tokens, func(i, j int) bool { return cr.Tokens[i].Model < cr.Tokens[j].Model })
	for _, t := range cr.Tokens {
		fmt.Fprintf(env.stdout, "  %-24s %-7s prompt %d, completion %d\n", t.Model, t.Kind, t.Prompt, t.Completion)
	}
	return 0
}

func boardAdmit(env *cliEnv, c *command, args []string) int {
	fs := newFlagSet(env, c)
	var t boardTarget
	t.flags(env, fs)
	model := fs.String("model", "", "model name")
	route := fs.String("route", "/v1/chat/completions", "gateway route")
	upstream := fs.String("upstream", "", "name of the upstream the gateway would send the request to")
	upstreamURL := fs.String("upstream-url", "", "that upstream's base URL")
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if *model == "" {
		fmt.Fprintln(env.stderr, "warden board admit: --model is required")
		return 2
	}
	be, err := t.open(context.Background(), nil)
	if err != nil {
		return boardFail(env, "admit", err)
	}
	defer be.Close()
	ar, err := be.Admit(context.Background(), *model, *route, *upstream, *upstreamURL)
	if err != nil {
		return boardFail(env, "admit", err)
	}
	if ar.Admitted {
		fmt.Fprintf(env.stdout, "admitted: %s on %s\n", ar.Model, ar.Route)
		return 0
	}
	fmt.Fprintf(env.stdout, "refused (403): %s\n", ar.Reason)
	return 1
}

// Package pii finds personal data and secrets in text: email addresses,
// phone numbers, payment cards, IBANs, US social security numbers, Chinese
// resident identity numbers, IP addresses, and credentials (OpenAI,
// Anthropic, AWS, GitHub, Slack, Google and Stripe keys, private-key blocks,
// JWTs).
//
// Each type has a small hand-written scanner instead of a regular
// expression: one linear pass per family, with the checks that make the
// findings precise — Luhn and issuer prefixes for cards, mod-97 for IBANs,
// ISO 7064 MOD 11-2 and a real birth date for Chinese IDs, the excluded
// ranges for SSNs, net/netip for IP addresses, a JSON header with "alg" for
// JWTs. Findings carry the type in upper case as their Rule (EMAIL,
// CREDIT_CARD, AWS_ACCESS_KEY ...), so detect.Redaction replaces them with
// placeholders such as [EMAIL_1].
//
// The original text is scanned, and so are views that decode it (base64,
// hex, percent-encoding ...) and the folded view (full-width digits), with
// spans mapped back to the original; look-alike views made for words (leet,
// joined letters, skeletons) are skipped. The token scanners read a derived
// view only near where it differs from the original (scanDerived).
package pii

import (
	"context"
	"math/bits"
	"strings"
	"sync"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/normalize"
	"github.com/warden-safety/warden/hazard"
)

// Name is the detector's name in findings.
const Name = "pii"

// Version identifies the scanners' code; bump it when what they find changes.
const Version = "pii/2026.11.29"

// Types, used as Finding.Rule.
const (
	Email         = "EMAIL"
	Phone         = "PHONE"
	CreditCard    = "CREDIT_CARD"
	IBAN          = "IBAN"
	USSSN         = "US_SSN"
	CNResidentID  = "CN_RESIDENT_ID"
	IPAddress     = "IP_ADDRESS"
	OpenAIKey     = "OPENAI_KEY"
	AnthropicKey  = "ANTHROPIC_KEY"
	AWSAccessKey  = "AWS_ACCESS_KEY"
	AWSSecretKey  = "AWS_SECRET_KEY"
	GitHubToken   = "GITHUB_TOKEN"
	SlackToken    = "SLACK_TOKEN"
	GoogleAPIKey  = "GOOGLE_API_KEY"
	StripeKey     = "STRIPE_KEY"
	PrivateKey    = "PRIVATE_KEY"
	JWT           = "JWT"
	maxFindings   = 4096
	maxViewsToRun = 16
)

type kind struct {
	cat   hazard.Category
	score float64
	expl  string
}

var kinds = map[string]kind{
	Email:        {hazard.PII, 0.95, "email address"},
	Phone:        {hazard.PII, 0.8, "phone number"},
	CreditCard:   {hazard.PII, 0.97, "payment card number (issuer prefix and Luhn check digit valid)"},
	IBAN:         {hazard.PII, 0.98, "IBAN (country length and mod-97 check valid)"},
	USSSN:        {hazard.PII, 0.9, "US social security number (valid area, group and serial)"},
	CNResidentID: {hazard.PII, 0.98, "Chinese resident identity number (region, birth date and check digit valid)"},
	IPAddress:    {hazard.PII, 0.7, "IP address"},
	OpenAIKey:    {hazard.Secrets, 0.95, "OpenAI API key"},
	AnthropicKey: {hazard.Secrets, 0.97, "Anthropic API key"},
	AWSAccessKey: {hazard.Secrets, 0.95, "AWS access key ID"},
	AWSSecretKey: {hazard.Secrets, 0.95, "AWS secret access key (labelled)"},
	GitHubToken:  {hazard.Secrets, 0.97, "GitHub token"},
	SlackToken:   {hazard.Secrets, 0.95, "Slack token"},
	GoogleAPIKey: {hazard.Secrets, 0.95, "Google API key"},
	StripeKey:    {hazard.Secrets, 0.95, "Stripe secret key"},
	PrivateKey:   {hazard.Secrets, 0.99, "private key block"},
	JWT:          {hazard.Secrets, 0.9, "JSON Web Token"},
}

// Detector is the PII and secrets detector. It is stateless and safe for
// concurrent use.
type Detector struct {
	wholeViews bool // read derived views whole (tests compare)
}

var _ detect.Detector = (*Detector)(nil)

// New returns a detector.
func New() *Detector { return &Detector{} }

// Name implements detect.Detector.
func (*Detector) Name() string { return Name }

// Version implements detect.Detector.
func (*Detector) Version() string { return Version }

// Scan implements detect.Detector.
func (d *Detector) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	if len(doc.Views) == 0 {
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		return scanText(doc.Text, "original", func(s, e int) (int, int) { return s, e }, dst), nil
	}
	n := 0
	for i := range doc.Views {
		v := &doc.Views[i]
		if skipView(v.Name) || i > 0 && normalize.CaseOnly(v) {
			continue
		}
		if n++; n > maxViewsToRun {
			break
		}
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		if i == 0 || d.wholeViews {
			dst = scanText(v.Text, v.Name, v.Original, dst)
			continue
		}
		dst = scanDerived(doc.Text, v, dst)
	}
	return dst, nil
}

// A derived view is mostly a copy of the original: folding a long prompt
// may change one full-width digit and lower its capitals. The token
// scanners (numbers, IBANs, IPv4 addresses, keys: scanStarts) read a
// derived view only from the barrier before each change to just past it.
//
// A barrier is a newline or a byte of a non-ASCII character: no token holds
// one, so a scan that starts right after one visits the token starts a scan
// of the whole text visits. A token that touches a change, or whose context
// does (the two bytes before it, the byte after), starts after the barrier
// before the change and at most one byte past it. Any other token stands on
// bytes the original has at the mapped offsets, up to ASCII case, and the
// original's scan found it; a token only a change of case makes is read
// only beside another change, as Scan does not read a view that only
// changes case. The other scanners (emails, IPv6, private keys) look for
// one byte or string first and read the whole view.

// derivedBuf holds a view's changes and the ranges to read, kept for the
// next view.
type derivedBuf struct {
	changes []normalize.Change
	ranges  [][2]int
}

var changesPool = sync.Pool{New: func() any { return new(derivedBuf) }}

// scanDerived scans view v of original.
func scanDerived(original string, v *normalize.View, dst []detect.Finding) []detect.Finding {
	buf := changesPool.Get().(*derivedBuf)
	ranges := buf.ranges[:0]
	defer func() {
		buf.ranges = ranges[:0]
		if cap(buf.changes) > 1<<14 || cap(buf.ranges) > 1<<14 {
			// do not keep a huge text's changes alive
			buf.changes, buf.ranges = nil, nil
		}
		changesPool.Put(buf)
	}()
	changes, ok := v.Changes(original, buf.changes[:0])
	buf.changes = changes
	if !ok {
		return scanText(v.Text, v.Name, v.Original, dst)
	}
	text := v.Text
	covered := 0
	for _, c := range changes {
		from, to := max(c.Start-2, 0), min(c.End+1, len(text))
		last := -1
		if k := len(ranges); k > 0 {
			last = ranges[k-1][1]
		}
		for from > last && from > 0 && !barrier(text[from-1]) {
			from--
		}
		if last >= 0 && from <= last {
			// No barrier since the last range: read on from there.
			if to > last {
				covered += to - last
				ranges[len(ranges)-1][1] = to
			}
		} else {
			covered += to - from
			ranges = append(ranges, [2]int{from, to})
		}
		if covered > len(text)/2 {
			return scanText(text, v.Name, v.Original, dst)
		}
	}
	if ranges == nil {
		ranges = [][2]int{} // no token to read again
	}
	return scanRanges(text, v.Name, v.Original, ranges, dst)
}

// barrier reports whether no token holds c: a newline or a byte of a
// non-ASCII character.
func barrier(c byte) bool { return c == '\n' || c >= 0x80 }

// skipView reports views that rewrite words rather than decode data: in
// them digits and symbols no longer mean what they meant.
func skipView(name string) bool {
	last := name
	if i := strings.LastIndexByte(name, '>'); i >= 0 {
		last = name[i+1:]
	}
	switch last {
	case "leet", "leet-l", "joined", "skeleton", "rot13", "reversed":
		return true
	}
	return false
}

// Find returns the findings in text alone (as the original view).
func Find(text string) []detect.Finding {
	return scanText(text, "original", func(s, e int) (int, int) { return s, e }, nil)
}

func scanText(text, view string, orig func(int, int) (int, int), dst []detect.Finding) []detect.Finding {
	return scanRanges(text, view, orig, nil, dst)
}

// scanRanges is scanText with the token scanners started only in ranges
// of text, or everywhere when ranges is nil.
func scanRanges(text, view string, orig func(int, int) (int, int), ranges [][2]int, dst []detect.Finding) []detect.Finding {
	start := len(dst)
	emit := func(typ string, s, e int) {
		if len(dst)-start >= maxFindings {
			return
		}
		k := kinds[typ]
		os, oe := orig(s, e)
		dst = append(dst, detect.Finding{
			Category: k.cat, Score: k.score, Span: detect.Span{Start: os, End: oe},
			Detector: Name, View: view, Rule: typ, Explanation: k.expl,
		})
	}
	scanEmails(text, emit)
	if ranges == nil {
		scanStarts(text, 0, len(text), emit)
	}
	for _, r := range ranges {
		scanStarts(text, r[0], r[1], emit)
	}
	scanIPv6(text, emit)
	scanPrivateKeys(text, emit)
	return dst
}

// scanStarts visits the start of every token once and lets each scanner
// that can begin with its first byte read from there: numbers (cards,
// phones, IDs), IPv4 addresses, IBANs and prefixed credentials. It visits
// the starts in text[from:to]; a token may run past to.
func scanStarts(text string, from, to int, emit func(string, int, int)) {
	for i := from; i < to; {
		c := text[i]
		if !startByte[c] {
			i++
			if c >= 0x80 {
				// text in another script: no token starts before the
				// next ASCII byte
				i = skipHigh(text, i, to)
			}
			continue
		}
		if i > 0 && wordByte[text[i-1]] || quietStart[c] {
			// Inside a word, or at the start of a lower-case word whose
			// first letter no scanner begins with (most words): no token
			// starts before its end.
			i = skipWord(text, i+1)
			continue
		}
		next := i + 1
		if isDigit(c) || c == '+' || c == '(' {
			next = max(next, numberAt(text, i, emit))
		}
		if isDigit(c) {
			next = max(next, ipv4At(text, i, emit))
		}
		if isUpper(c) {
			if e := ibanAt(text, i, emit); e > i+1 {
				next = max(next, e)
			} else {
				next = max(next, tokenAt(text, i, emit))
			}
		} else if isLower(c) {
			next = max(next, tokenAt(text, i, emit))
		}
		if c == 'a' || c == 'A' || c == 's' || c == 'S' {
			next = max(next, awsSecretAt(text, i, emit))
		}
		i = next
	}
}

// skipHigh returns the index of the first byte below 0x80 in text[i:end],
// or end. It reads eight bytes at a time: in Chinese text most are the
// bytes of ideographs, which no scanner starts with.
func skipHigh(text string, i, end int) int {
	const highs = 0x8080808080808080
	for i+8 <= end {
		b := text[i : i+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if low := ^w & highs; low != 0 {
			return i + bits.TrailingZeros64(low)>>3
		}
		i += 8
	}
	for i < end && text[i] >= 0x80 {
		i++
	}
	return i
}

// skipWord returns the index of the first byte of text[i:] that is not a
// word byte (wordByte), or len(text). Most words end within the first
// eight bytes it reads at once, so it rarely loops and the end of a word
// costs no mispredicted branch.
func skipWord(text string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// inRange sets the high bit of each byte of w in [lo, hi]; exact for
	// bytes below 0x80, and a byte of 0x80 or more disturbs only the bytes
	// after it.
	inRange := func(w uint64, lo, hi byte) uint64 {
		return (w + ones*uint64(0x80-lo)) &^ (w + ones*uint64(0x7f-hi)) & highs
	}
	for i+8 <= len(text) {
		b := text[i : i+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		word := inRange(w|ones*0x20, 'a', 'z') | inRange(w, '0', '9') | inRange(w^ones*'_', 0, 0)
		if not := (^word | w) & highs; not != 0 {
			return i + bits.TrailingZeros64(not)>>3
		}
		i += 8
	}
	for i < len(text) && wordByte[text[i]] {
		i++
	}
	return i
}

// quietStart marks the lower-case letters that begin no token scanner:
// tokenAt starts at s, r, g, x and e, awsSecretAt at a and s.
var quietStart = func() (q [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		q[c] = !strings.ContainsRune("srgxea", c)
	}
	return
}()

var startByte, wordByte = func() (s, w [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		s[c] = isAlnum(b) || b == '+' || b == '('
		w[c] = isAlnum(b) || b == '_'
	}
	return
}()

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlpha(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// tokenByte is a byte of an identifier-like token (keys, tokens, IBANs).
func tokenByte(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

func before(text string, i int) byte {
	if i <= 0 {
		return 0
	}
	return text[i-1]
}

func at(text string, i int) byte {
	if i >= len(text) {
		return 0
	}
	return text[i]
}

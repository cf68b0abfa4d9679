package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a tree head in the C2SP tlog-checkpoint format: the
// origin line, the tree size in decimal, the base64 root hash, each ending
// in a newline, optionally followed by extension lines. A checkpoint is
// published as the body of a C2SP signed note.
type Checkpoint struct {
	Origin string
	Size   int64
	Hash   tlog.Hash
	// Extensions are optional extra lines, kept as they are.
	Extensions []string
}

// Text returns the checkpoint body.
func (c Checkpoint) Text() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash[:]))
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ParseCheckpoint parses a checkpoint body (the text of a signed note,
// without signatures).
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	var c Checkpoint
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return c, errors.New("parse checkpoint: does not end in a newline")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return c, errors.New("parse checkpoint: want origin, size and hash lines")
	}
	c.Origin = lines[0]
	if c.Origin == "" || strings.ContainsAny(c.Origin, "\r\t") {
		return c, errors.New("parse checkpoint: bad origin line")
	}
	sz := lines[1]
	n, err := strconv.ParseInt(sz, 10, 64)
	if err != nil || n < 0 || sz != strconv.FormatInt(n, 10) {
		return c, fmt.Errorf("parse checkpoint: bad tree size %q", sz)
	}
	c.Size = n
	h, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return c, errors.New("parse checkpoint: bad root hash (want 32 bytes in base64)")
	}
	copy(c.Hash[:], h)
	for _, e := range lines[3:] {
		if e == "" {
			return c, errors.New("parse checkpoint: empty extension line")
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// SignCheckpoint returns c as a signed note.
func SignCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, s)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return msg, nil
}

// OpenCheckpoint verifies a signed checkpoint note with v and parses it. The
// checkpoint's origin must be the verifier's key name.
func OpenCheckpoint(msg []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("open checkpoint: %w", err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("open checkpoint: origin %q is not the key's name %q", c.Origin, v.Name())
	}
	return c, nil
}

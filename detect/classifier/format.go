package classifier

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/warden-safety/warden/internal/hugepage"
)

// The model file format (all integers little-endian):
//
//	magic    [8]byte  "WRDNCLF\x00"
//	version  uint32   2
//	metaLen  uint32   length of the JSON metadata
//	meta     []byte   JSON: config, table scale, calibration, info
//	table    []int8   Buckets × inner (inner = Hidden, or Dim without one)
//	b1       []float32 Hidden
//	w2, b2   []float32 heads × inner, heads
//	sum      [32]byte SHA-256 of every byte before it
//
// The file is read whole, its checksum verified, and every size checked
// against the config before anything is allocated from it.
const (
	formatVersion = 2
	maxModelBytes = 256 << 20
	maxMetaBytes  = 1 << 20
)

var magic = [8]byte{'W', 'R', 'D', 'N', 'C', 'L', 'F', 0}

// meta is the JSON header.
type meta struct {
	Config   Config         `json:"config"`
	TabScale float32        `json:"table_scale"`
	Cal      []Platt        `json:"calibration"`
	Info     map[string]any `json:"info,omitempty"`
}

// WriteTo writes the model in the binary format.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	b, err := m.MarshalBinary()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// MarshalBinary encodes the model.
func (m *Model) MarshalBinary() ([]byte, error) {
	mt, err := json.Marshal(meta{Config: m.cfg, TabScale: m.tabScale, Cal: m.cal, Info: m.info})
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(len(m.tab) + 4*(len(m.b1)+len(m.w2)+len(m.b2)) + len(mt) + 64)
	buf.Write(magic[:])
	le := binary.LittleEndian
	buf.Write(le.AppendUint32(nil, formatVersion))
	buf.Write(le.AppendUint32(nil, uint32(len(mt))))
	buf.Write(mt)
	buf.Write(flipBias(m.tab))
	for _, s := range [][]float32{m.b1, m.w2, m.b2} {
		for _, v := range s {
			buf.Write(le.AppendUint32(nil, math.Float32bits(v)))
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes(), nil
}

// ErrFormat is wrapped by every error about a malformed model file.
var ErrFormat = errors.New("malformed model file")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// ReadModel reads and verifies a model file.
func ReadModel(r io.Reader) (*Model, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if len(b) > maxModelBytes {
		return nil, formatErr("larger than %d bytes", maxModelBytes)
	}
	return decodeModel(b)
}

func decodeModel(b []byte) (*Model, error) {
	if len(b) < 16+32 {
		return nil, formatErr("%d bytes is too short", len(b))
	}
	if !bytes.Equal(b[:8], magic[:]) {
		return nil, formatErr("bad magic")
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[8:12]); v != formatVersion {
		return nil, formatErr("version %d, this build reads %d", v, formatVersion)
	}
	body, sum := b[:len(b)-32], b[len(b)-32:]
	want := sha256.Sum256(body)
	if !bytes.Equal(want[:], sum) {
		return nil, formatErr("checksum mismatch")
	}
	ml := int(le.Uint32(b[12:16]))
	if ml > maxMetaBytes || 16+ml > len(body) {
		return nil, formatErr("metadata length %d out of range", ml)
	}
	var mt meta
	if err := json.Unmarshal(body[16:16+ml], &mt); err != nil {
		return nil, formatErr("metadata: %v", err)
	}
	c := mt.Config
	if err := c.Validate(); err != nil {
		return nil, formatErr("config: %v", err)
	}
	if !(mt.TabScale > 0) || math.IsInf(float64(mt.TabScale), 0) {
		return nil, formatErr("table scale %v", mt.TabScale)
	}
	nh := len(c.Heads)
	if len(mt.Cal) != nh {
		return nil, formatErr("%d calibrations for %d heads", len(mt.Cal), nh)
	}
	for _, p := range mt.Cal {
		if math.IsNaN(p.A) || math.IsInf(p.A, 0) || math.IsNaN(p.B) || math.IsInf(p.B, 0) {
			return nil, formatErr("calibration is not finite")
		}
	}
	nTab := c.Buckets() * c.inner()
	nB1 := c.Hidden
	nW2, nB2 := nh*c.inner(), nh
	payload := body[16+ml:]
	if len(payload) != nTab+4*(nB1+nW2+nB2) {
		return nil, formatErr("payload is %d bytes, config needs %d", len(payload), nTab+4*(nB1+nW2+nB2))
	}
	m := &Model{cfg: c, tabScale: mt.TabScale, cal: mt.Cal, info: mt.Info, size: len(b)}
	// The table is read at random, a row per feature: in huge pages where
	// the system has them (see package hugepage).
	m.tab = flipBiasTo(hugepage.Make[byte](nTab), payload[:nTab])
	hugepage.Advise(m.tab)
	off := nTab
	read := func(n int) ([]float32, error) {
		out := make([]float32, n)
		for i := range out {
			v := math.Float32frombits(le.Uint32(payload[off+4*i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, formatErr("weight is not finite")
			}
			out[i] = v
		}
		off += 4 * n
		return out, nil
	}
	var err error
	if m.b1, err = read(nB1); err != nil {
		return nil, err
	}
	if m.w2, err = read(nW2); err != nil {
		return nil, err
	}
	if m.b2, err = read(nB2); err != nil {
		return nil, err
	}
	m.digest = hex.EncodeToString(sum)
	m.init()
	return m, nil
}

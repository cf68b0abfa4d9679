package audit

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes as text in YAML and
// JSON: Go syntax ("90s", "12h") plus whole days ("183d").
type Duration time.Duration

// ParseDuration parses Go duration syntax or a number of days ("183d").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < -106751 || n > 106751 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return Duration(d), nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// DefaultRetention is how long record bodies are kept: six months, the
// minimum the EU AI Act (Art. 19, 26(6)) asks for automatically generated
// logs of high-risk systems.
const DefaultRetention = Duration(183 * 24 * time.Hour)

// Config configures an audit log.
type Config struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `yaml:"driver" json:"driver"`
	// DataDir is the data directory; relative Path and KeyFile are inside it.
	DataDir string `yaml:"data_dir" json:"data_dir"`
	// Path is the SQLite database file (default "audit.db").
	Path string `yaml:"path" json:"path"`
	// DSN is the PostgreSQL connection string (postgres driver). It may hold
	// a password: it is never logged or put in errors.
	DSN string `yaml:"dsn" json:"dsn"`
	// Schema is the PostgreSQL schema of the tables (default: search_path).
	Schema string `yaml:"schema" json:"schema"`
	// Privacy is how much text records keep: none (default), redacted, full.
	Privacy PrivacyMode `yaml:"privacy" json:"privacy"`
	// CheckpointEvery issues a checkpoint when this many records were added
	// since the last one (default 1000).
	CheckpointEvery int64 `yaml:"checkpoint_every" json:"checkpoint_every"`
	// CheckpointInterval issues a checkpoint this often when records were
	// added (default 10s).
	CheckpointInterval Duration `yaml:"checkpoint_interval" json:"checkpoint_interval"`
	// KeyFile is the note signer key made by `warden keygen` (default
	// "audit.key"); the checkpoint origin is the key's name.
	KeyFile string `yaml:"key_file" json:"key_file"`
	// Async acknowledges records once queued, before they are durable. Off
	// by default; when on, Ready/Status and the logs say so.
	Async bool `yaml:"async" json:"async"`
	// QueueSize bounds the queue of records waiting to be written (default
	// 10000); a full queue makes Record wait (backpressure).
	QueueSize int `yaml:"queue_size" json:"queue_size"`
	// MaxBatch is the most records one transaction writes (default 1024).
	MaxBatch int `yaml:"max_batch" json:"max_batch"`
	// Linger is the longest the writer waits for more records before a
	// commit when the previous commit was a group (default 1ms; negative
	// disables). It trades a little latency for fewer fsyncs under load.
	Linger Duration `yaml:"linger" json:"linger"`
	// Retention is how long record bodies are kept (default 183d); older
	// bodies are pruned, their hashes stay. Negative keeps them forever.
	Retention Duration `yaml:"retention" json:"retention"`

	// Logger receives operational messages (never record text); default
	// slog.Default().
	Logger *slog.Logger `yaml:"-" json:"-"`
	// Redact is the redactor of the redacted privacy mode (default
	// RedactText). The gateway may pass one built on its PII detector.
	Redact func(string) string `yaml:"-" json:"-"`
	// Now is the clock (default time.Now).
	Now func() time.Time `yaml:"-" json:"-"`
}

// DefaultConfig returns the defaults: SQLite in ./data, no text, a
// checkpoint every 1000 records or 10 s, synchronous, 6 months retention.
func DefaultConfig() Config {
	c := Config{DataDir: "data"}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if c.Driver == "" {
		c.Driver = "sqlite"
	}
	if c.Path == "" {
		c.Path = "audit.db"
	}
	if c.Privacy == "" {
		c.Privacy = PrivacyNone
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 1000
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = Duration(10 * time.Second)
	}
	if c.KeyFile == "" {
		c.KeyFile = "audit.key"
	}
	if c.QueueSize == 0 {
		c.QueueSize = 10000
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 1024
	}
	if c.Linger == 0 {
		c.Linger = Duration(time.Millisecond)
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Redact == nil {
		c.Redact = RedactText
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate checks the configuration; errors name the field.
func (c *Config) Validate() error {
	var errs []error
	switch c.Driver {
	case "", "sqlite":
	case "postgres":
		if c.DSN == "" {
			errs = append(errs, errors.New("audit.dsn: required for the postgres driver"))
		}
	default:
		errs = append(errs, fmt.Errorf("audit.driver: unknown driver %q (want sqlite or postgres)", c.Driver))
	}
	if c.Privacy != "" {
		if _, err := ParsePrivacyMode(string(c.Privacy)); err != nil {
			errs = append(errs, fmt.Errorf("audit.privacy: %w", err))
		}
	}
	if c.CheckpointEvery < 0 {
		errs = append(errs, errors.New("audit.checkpoint_every: must not be negative"))
	}
	if c.CheckpointInterval < 0 {
		errs = append(errs, errors.New("audit.checkpoint_interval: must not be negative"))
	}
	if c.QueueSize < 0 {
		errs = append(errs, errors.New("audit.queue_size: must not be negative"))
	}
	if c.MaxBatch < 0 {
		errs = append(errs, errors.New("audit.max_batch: must not be negative"))
	}
	return errors.Join(errs...)
}

func (c *Config) inDataDir(p string) string {
	if p == "" || filepath.IsAbs(p) || c.DataDir == "" {
		return p
	}
	return filepath.Join(c.DataDir, p)
}

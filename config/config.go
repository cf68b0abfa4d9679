// Package config reads Warden's server configuration: one YAML file (see
// examples/warden.yaml) with environment-variable overrides. Each part of
// Warden has its own section; this package only parses and validates, and
// cmd/warden wires the values into the packages that use them.
//
// Secrets: an upstream's API key is best given as api_key_env (the name of
// an environment variable); api_key in the file also works. Keys are never
// printed: String and errors show them as "REDACTED".
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/internal/keyhash"
)

// DefaultAddr is where `warden serve` listens by default.
const DefaultAddr = "127.0.0.1:8080"

// MaxFileSize bounds a configuration file.
const MaxFileSize = 1 << 20

// Config is the whole configuration file.
type Config struct {
	// DataDir holds the audit database and keys and the safety board's
	// statements (WARDEN_DATA_DIR; default "data").
	DataDir   string     `yaml:"data_dir"`
	Server    Server     `yaml:"server"`
	Policy    Policy     `yaml:"policy"`
	Detect    Detect     `yaml:"detect"`
	Auth      Auth       `yaml:"auth"`
	Upstreams []Upstream `yaml:"upstreams"`
	Routes    []Route    `yaml:"routes"`
	Audit     Audit      `yaml:"audit"`
	Board     Board      `yaml:"board"`
	// Guards are the guard models a policy may escalate to by name.
	Guards []guardmodel.Config `yaml:"guards"`
}

// DefaultDataDir is the data directory when none is configured.
const DefaultDataDir = "data"

// Server is the HTTP server and gateway behaviour.
type Server struct {
	// Addr is host:port to listen on (WARDEN_ADDR; default 127.0.0.1:8080).
	Addr string `yaml:"addr"`
	// MaxBodyBytes bounds a request body (WARDEN_MAX_BODY_BYTES; 4 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ScanTimeout bounds one scan stage (default 5s).
	ScanTimeout Duration `yaml:"scan_timeout"`
	// RestoreRedacted puts values redacted from a request back into the
	// answer where the model repeated their placeholders (default true).
	RestoreRedacted *bool `yaml:"restore_redacted"`
	// MetadataHeaders are request headers given to the policy as metadata.
	MetadataHeaders []string `yaml:"metadata_headers"`
	// ShutdownTimeout is how long in-flight requests get on shutdown (30s).
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// GCPercent is the garbage collector's GOGC (default 400: a gateway's
	// latency tail is its collector); the GOGC environment variable wins.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimitMB is a soft memory limit in MiB (default 256; -1 for
	// none); the GOMEMLIMIT environment variable wins.
	MemoryLimitMB int `yaml:"memory_limit_mb"`
	// LogLevel is debug, info, warn or error (WARDEN_LOG_LEVEL; info).
	LogLevel string `yaml:"log_level"`
	// LogFormat is json or text (json).
	LogFormat string `yaml:"log_format"`
}

// Policy says where the policy comes from.
type Policy struct {
	// Path of the policy file (WARDEN_POLICY); empty uses the built-in
	// default policy. The file is watched and reloaded when it changes and
	// on SIGHUP.
	Path string `yaml:"path"`
	// ReloadInterval is how often the file is checked (default 2s).
	ReloadInterval Duration `yaml:"reload_interval"`
}

// Detect chooses the detectors.
type Detect struct {
	// Classifier enables the trained classifier (default true).
	Classifier *bool `yaml:"classifier"`
	// ExtraLists are term-list files added to the built-in lexicon.
	ExtraLists []string `yaml:"extra_lists"`
}

// Auth is how clients authenticate.
type Auth struct {
	// Mode is none, keys or passthrough (WARDEN_AUTH_MODE). Default: keys
	// when tenants are listed, none otherwise.
	Mode    string   `yaml:"mode"`
	Tenants []Tenant `yaml:"tenants"`
}

// Tenant is a client identity; its keys are stored as SHA-256 hex
// (`printf %s KEY | sha256sum`), never in clear.
type Tenant struct {
	Name      string   `yaml:"name"`
	KeySHA256 []string `yaml:"key_sha256"`
}

// Upstream is a model provider.
type Upstream struct {
	Name string `yaml:"name"`
	// Kind: openai, anthropic, azure, openai-compatible (vLLM, Ollama,
	// llama.cpp) or echo.
	Kind    string `yaml:"kind"`
	BaseURL string `yaml:"base_url"`
	// APIKeyEnv names the environment variable holding the key; APIKey
	// holds it directly (discouraged). WARDEN_UPSTREAM_<NAME>_API_KEY
	// overrides both.
	APIKeyEnv string `yaml:"api_key_env"`
	APIKey    Secret `yaml:"api_key"`
	// APIVersion is Azure's api-version.
	APIVersion string `yaml:"api_version"`
	// Deployments maps model names to Azure deployment names.
	Deployments map[string]string `yaml:"deployments"`
	// AnthropicVersion is sent when the client sends none (2023-06-01).
	AnthropicVersion string   `yaml:"anthropic_version"`
	Models           []string `yaml:"models"`
	Timeout          Duration `yaml:"timeout"`
	StreamIdle       Duration `yaml:"stream_idle"`
	Retries          int      `yaml:"retries"`
}

// Route sends models matching a pattern (exact or glob) to an upstream.
type Route struct {
	Model    string `yaml:"model"`
	Upstream string `yaml:"upstream"`
}

// Audit is the audit log's section: the fields of audit.Config (driver,
// dsn, privacy, checkpoint_every, checkpoint_interval, async, retention, …)
// plus a switch.
type Audit struct {
	// Enabled turns the audit log on (default true). Off, decisions are
	// not recorded: only for tests and local experiments.
	Enabled *bool `yaml:"enabled"`
	// ReaderKeySHA256 lists the SHA-256 (hex) of the keys that may read
	// records over HTTP (/audit/records/N, proofs looked up by request ID),
	// sent as Authorization: Bearer KEY. Without it, records are served
	// to anyone only when auth.mode is none (a loopback default) and to
	// no one otherwise; checkpoints and proofs by index are always public.
	ReaderKeySHA256 []string `yaml:"reader_key_sha256"`
	audit.Config    `yaml:",inline"`
}

// On reports whether the audit log is enabled.
func (a Audit) On() bool { return a.Enabled == nil || *a.Enabled }

// Board is the safety board's section. The board is enforced when a charter
// has been installed (`warden board init`) in DataDir/board or when
// PostgreSQL is configured.
type Board struct {
	// Postgres is a PostgreSQL connection string; statements are then
	// shared by every replica. It may hold a password: never logged.
	Postgres string `yaml:"postgres"`
	// Prefix of the board's PostgreSQL tables (default "warden_board").
	Prefix string `yaml:"prefix"`
	// Deployment, when set, must equal the charter's deployment ID.
	Deployment string `yaml:"deployment"`
	// Required makes serve refuse to start without a board charter.
	Required bool `yaml:"required"`
}

// Duration is a time.Duration written as "1.5s", "200ms", "2m".
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as \"30s\"", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration (want e.g. \"30s\", \"500ms\")", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Secret is a string that never prints.
type Secret string

func (Secret) String() string { return "REDACTED" }

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) {
	if s == "" {
		return "", nil
	}
	return "REDACTED", nil
}

// Default returns the configuration used when no file is given: listen on
// 127.0.0.1:8080, built-in policy, no upstream (the echo model serves).
func Default() *Config {
	return &Config{DataDir: DefaultDataDir, Server: Server{Addr: DefaultAddr}}
}

// Parse reads a configuration document. Unknown fields are errors (a typo
// must not silently disable a setting); errors name the line.
func Parse(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config: larger than %d bytes", MaxFileSize)
	}
	c := Default()
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// ReadFile parses the file at path.
func ReadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ApplyEnv applies the environment overrides: WARDEN_ADDR, WARDEN_POLICY,
// WARDEN_PRIVACY, WARDEN_AUTH_MODE, WARDEN_MAX_BODY_BYTES, WARDEN_LOG_LEVEL
// and WARDEN_UPSTREAM_<NAME>_API_KEY (NAME upper-cased, '-' as '_').
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if v := getenv("WARDEN_ADDR"); v != "" {
		c.Server.Addr = v
	}
	if v := getenv("WARDEN_POLICY"); v != "" {
		c.Policy.Path = v
	}
	if v := getenv("WARDEN_PRIVACY"); v != "" {
		c.Audit.Privacy = audit.PrivacyMode(v)
	}
	if v := getenv("WARDEN_DATA_DIR"); v != "" {
		c.DataDir = v
	}
	if v := getenv("WARDEN_AUTH_MODE"); v != "" {
		c.Auth.Mode = v
	}
	if v := getenv("WARDEN_LOG_LEVEL"); v != "" {
		c.Server.LogLevel = v
	}
	if v := getenv("WARDEN_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("config: WARDEN_MAX_BODY_BYTES=%q is not a positive number", v)
		}
		c.Server.MaxBodyBytes = n
	}
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		if u.APIKeyEnv != "" {
			if v := getenv(u.APIKeyEnv); v != "" {
				u.APIKey = Secret(v)
			}
		}
		if v := getenv(EnvKeyName(u.Name)); v != "" {
			u.APIKey = Secret(v)
		}
	}
	return nil
}

// EnvKeyName is the variable that overrides an upstream's key.
func EnvKeyName(upstream string) string {
	return "WARDEN_UPSTREAM_" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, upstream) + "_API_KEY"
}

// Validate checks the values; the error names every bad field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Server.Addr == "" {
		bad("server.addr", "is empty")
	}
	if c.Server.MaxBodyBytes < 0 {
		bad("server.max_body_bytes", "must be positive")
	}
	switch c.Server.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		bad("server.log_level", "%q: want debug, info, warn or error", c.Server.LogLevel)
	}
	switch c.Server.LogFormat {
	case "", "json", "text":
	default:
		bad("server.log_format", "%q: want json or text", c.Server.LogFormat)
	}
	if c.Audit.On() {
		ac := c.Audit.Config
		if ac.DataDir == "" {
			ac.DataDir = c.DataDir
		}
		if err := ac.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	for i, g := range c.Guards {
		if g.Name == "" {
			bad(fmt.Sprintf("guards[%d].name", i), "is empty")
		}
	}
	for i, k := range c.Audit.ReaderKeySHA256 {
		if _, err := keyhash.Parse(k); err != nil {
			bad(fmt.Sprintf("audit.reader_key_sha256[%d]", i), "%v", err)
		}
	}
	switch c.Audit.Privacy {
	case "", "none", "redacted", "full":
	default:
		bad("audit.privacy", "%q: want none, redacted or full", c.Audit.Privacy)
	}
	switch c.Auth.Mode {
	case "", "none", "passthrough":
	case "keys":
		if len(c.Auth.Tenants) == 0 {
			bad("auth.tenants", "mode keys needs at least one tenant")
		}
	default:
		bad("auth.mode", "%q: want none, keys or passthrough", c.Auth.Mode)
	}
	for i, t := range c.Auth.Tenants {
		f := fmt.Sprintf("auth.tenants[%d]", i)
		if t.Name == "" {
			bad(f+".name", "is empty")
		}
		if len(t.KeySHA256) == 0 {
			bad(f+".key_sha256", "lists no keys")
		}
		for j, k := range t.KeySHA256 {
			if _, err := keyhash.Parse(k); err != nil {
				bad(fmt.Sprintf("%s.key_sha256[%d]", f, j), "%v", err)
			}
		}
	}
	names := map[string]bool{}
	for i, u := range c.Upstreams {
		f := fmt.Sprintf("upstreams[%d]", i)
		if u.Name == "" {
			bad(f+".name", "is empty")
		} else if names[u.Name] {
			bad(f+".name", "%q is used twice", u.Name)
		}
		names[u.Name] = true
		switch u.Kind {
		case "openai", "anthropic":
		case "azure":
			if u.APIVersion == "" {
				bad(f+".api_version", "is required for azure")
			}
			if u.BaseURL == "" {
				bad(f+".base_url", "is required for azure (https://NAME.openai.azure.com)")
			}
		case "openai-compatible":
			if u.BaseURL == "" {
				bad(f+".base_url", "is required for openai-compatible (e.g. http://127.0.0.1:8000)")
			}
		case "echo":
		default:
			bad(f+".kind", "%q: want openai, anthropic, azure, openai-compatible or echo", u.Kind)
		}
		if u.BaseURL != "" && !strings.HasPrefix(u.BaseURL, "http://") && !strings.HasPrefix(u.BaseURL, "https://") {
			bad(f+".base_url", "must start with http:// or https://")
		}
		if u.Retries < 0 || u.Retries > 5 {
			bad(f+".retries", "must be between 0 and 5")
		}
	}
	for i, r := range c.Routes {
		f := fmt.Sprintf("routes[%d]", i)
		if r.Model == "" {
			bad(f+".model", "is empty")
		}
		if !names[r.Upstream] {
			bad(f+".upstream", "%q is not a configured upstream", r.Upstream)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// Restore reports the effective restore_redacted setting.
func (s Server) Restore() bool { return s.RestoreRedacted == nil || *s.RestoreRedacted }

// ClassifierOn reports the effective classifier setting.
func (d Detect) ClassifierOn() bool { return d.Classifier == nil || *d.Classifier }

package config_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/warden-safety/warden/config"
)

func TestExampleParses(t *testing.T) {
	c, err := config.ReadFile("../examples/warden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Upstreams) != 5 || c.Upstreams[2].Deployments["azure-gpt-4o"] != "prod-gpt-4o" ||
		time.Duration(c.Upstreams[0].Timeout) != 120*time.Second || !c.Server.Restore() || !c.Detect.ClassifierOn() {
		t.Fatalf("%+v", c)
	}
}

func TestEnvOverrides(t *testing.T) {
	c, err := config.Parse(strings.NewReader("upstreams:\n  - {name: my-openai, kind: openai, api_key_env: MY_KEY}\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"WARDEN_ADDR": "127.0.0.1:9", "MY_KEY": "k1", "WARDEN_PRIVACY": "full", "WARDEN_MAX_BODY_BYTES": "77"}
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Server.Addr != "127.0.0.1:9" || c.Upstreams[0].APIKey != "k1" || c.Audit.Privacy != "full" || c.Server.MaxBodyBytes != 77 {
		t.Fatalf("%+v", c)
	}
	env[config.EnvKeyName("my-openai")] = "k2"
	_ = c.ApplyEnv(func(k string) string { return env[k] })
	if config.EnvKeyName("my-openai") != "WARDEN_UPSTREAM_MY_OPENAI_API_KEY" || c.Upstreams[0].APIKey != "k2" {
		t.Fatalf("override: %q", config.EnvKeyName("my-openai"))
	}
	env["WARDEN_MAX_BODY_BYTES"] = "lots"
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "WARDEN_MAX_BODY_BYTES") {
		t.Fatalf("bad number: %v", err)
	}
}

func TestErrorsNameTheField(t *testing.T) {
	for src, want := range map[string]string{
		"server:\n  adr: x\n":                                        "field adr not found",
		"upstreams:\n  - {name: a, kind: nope}\n":                    "upstreams[0].kind",
		"upstreams:\n  - {name: a, kind: azure, base_url: http://x}": "upstreams[0].api_version",
		"routes:\n  - {model: m, upstream: ghost}\n":                 "routes[0].upstream",
		"auth:\n  mode: keys\n":                                      "auth.tenants",
		"auth:\n  tenants: [{name: a, key_sha256: [abc]}]\n":         "auth.tenants[0].key_sha256[0]",
		"audit:\n  reader_key_sha256: [not-a-hash]\n":                "audit.reader_key_sha256[0]",
		"server:\n  scan_timeout: soon\n":                            "not a duration",
		"audit:\n  privacy: everything\n":                            "audit.privacy",
	} {
		c, err := config.Parse(strings.NewReader(src))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to mention %q", src, err, want)
		}
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	c, err := config.Parse(strings.NewReader("upstreams:\n  - {name: a, kind: openai, api_key: sk-very-secret}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Upstreams[0].APIKey.String(); s != "REDACTED" {
		t.Fatal(s)
	}
	if string(c.Upstreams[0].APIKey) != "sk-very-secret" {
		t.Fatal("value lost")
	}
}

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../examples/warden.yaml"); err == nil {
		f.Add(string(b))
	}
	f.Add("server: {addr: ':1'}\nroutes: [{model: 'a*', upstream: x}]\n")
	f.Fuzz(func(t *testing.T, src string) {
		c, err := config.Parse(strings.NewReader(src))
		if err != nil {
			return
		}
		_ = c.Validate()
		_ = c.ApplyEnv(func(string) string { return "" })
	})
}

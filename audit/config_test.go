package audit_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/warden-safety/warden/audit"
)

func TestConfigFiles(t *testing.T) {
	src := `
driver: postgres
dsn: postgres://warden@db/warden
privacy: redacted
checkpoint_every: 500
checkpoint_interval: 30s
key_file: keys/audit.key
async: true
queue_size: 2000
retention: 365d
`
	var c audit.Config
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	if c.Driver != "postgres" || c.Privacy != audit.PrivacyRedacted || c.CheckpointEvery != 500 ||
		time.Duration(c.CheckpointInterval) != 30*time.Second || !c.Async || c.QueueSize != 2000 ||
		time.Duration(c.Retention) != 365*24*time.Hour {
		t.Fatalf("yaml: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var j audit.Config
	if err := json.Unmarshal([]byte(`{"driver":"sqlite","retention":"-1s","linger":"500us"}`), &j); err != nil {
		t.Fatal(err)
	}
	if time.Duration(j.Retention) != -time.Second || time.Duration(j.Linger) != 500*time.Microsecond {
		t.Fatalf("json: %+v", j)
	}
	bad := audit.Config{Driver: "mysql", Privacy: "most", CheckpointEvery: -1}
	err := bad.Validate()
	for _, field := range []string{"audit.driver", "audit.privacy", "audit.checkpoint_every"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("validation error %v does not name %s", err, field)
		}
	}
	if err := yaml.Unmarshal([]byte("retention: soon\n"), &c); err == nil {
		t.Error("accepted a bad duration")
	}
	if d := audit.DefaultConfig(); d.Driver != "sqlite" || d.Privacy != audit.PrivacyNone || d.Retention != audit.DefaultRetention || d.Async {
		t.Errorf("defaults: %+v", d)
	}
}

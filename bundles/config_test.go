package bundles

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/snowgate/snowgate/engine"
)

func TestConfig_YAML(t *testing.T) {
	var c Config
	err := yaml.Unmarshal([]byte(`
oci: registry.example.com/snowgate/policy:prod
username: snowgate
password_env: REG_PW
keys:
  - {id: policy-2026, file: /etc/snowgate/policy.pem, scope: prod}
persist_dir: /var/lib/snowgate/bundles
interval: 15s
pin: r41
`), &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval != 15*time.Second || c.Keys[0].Scope != "prod" || c.Pin != "r41" || c.PasswordEnv != "REG_PW" {
		t.Errorf("decoded %+v", c)
	}
}

func TestNew_Errors(t *testing.T) {
	key := newKey(t, "rsa", "k")
	eng := newEngine(t)
	keys := []KeyConfig{{ID: "k", File: key.pubFile}}
	for name, tc := range map[string]struct {
		cfg   Config
		field string
	}{
		"no source":        {cfg: Config{Keys: keys}, field: "oci"},
		"two sources":      {cfg: Config{OCI: "r/p:t", URL: "http://x", Keys: keys}, field: "oci"},
		"no keys":          {cfg: Config{OCI: "r/p:t"}, field: "keys"},
		"missing key file": {cfg: Config{OCI: "r/p:t", Keys: []KeyConfig{{ID: "k", File: "/nonexistent.pem"}}}, field: "keys[0]"},
		"private key":      {cfg: Config{OCI: "r/p:t", Keys: []KeyConfig{{ID: "k", PEM: key.signing.PEM}}}, field: "keys[0]"},
		"unset password":   {cfg: Config{OCI: "r/p:t", Keys: keys, Username: "u", PasswordEnv: "SNOWGATE_TEST_UNSET_PW"}, field: "password_env"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.cfg, eng, nil)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("New: %v, want a ConfigError on %s", err, tc.field)
			}
		})
	}
	if _, err := New(Config{OCI: "r/p:t"}, eng, nil); !errors.Is(err, ErrNoKeys) {
		t.Errorf("New without keys: %v, want ErrNoKeys", err)
	}
	if _, err := New(Config{OCI: "r/p:t", AllowUnsigned: true}, eng, nil); err != nil {
		t.Errorf("New with allow_unsigned: %v", err)
	}
}

// The config the gateway reads, end to end: a registry with Basic auth
// (password from the environment), a key file, persistence, a callback.
func TestNew_Registry(t *testing.T) {
	reg := startRegistry(t)
	key := newKey(t, "ec", "policy-2026")
	if _, err := reg.repo("snowgate/policy:prod").Push(context.Background(), signedBundle(t, "allow", "c1", key)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SNOWGATE_TEST_REGISTRY_PW", reg.pass)
	activated := make(chan Status, 4)
	eng := newEngine(t)
	p, err := New(Config{
		OCI: reg.addr + "/snowgate/policy:prod", Username: reg.user, PasswordEnv: "SNOWGATE_TEST_REGISTRY_PW",
		Keys:       []KeyConfig{{ID: "policy-2026", File: key.pubFile}},
		PersistDir: t.TempDir(), Interval: time.Hour,
		OnActivate: func(s Status) { activated <- s },
	}, eng, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-activated:
		if s.Revision != "c1" || !strings.HasPrefix(s.Digest, "sha256:") || s.Activations != 1 {
			t.Errorf("OnActivate got %+v", s)
		}
	default:
		t.Error("OnActivate was not called")
	}
	if d := decide(eng); d.Revision != "c1" || d.Action != engine.ActionAllow {
		t.Errorf("engine decides %+v, want allow at c1", d)
	}
}

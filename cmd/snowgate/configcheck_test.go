package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// env is a fake environment for checkConfig.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// writeConfig writes text (with DIR replaced by dir) as dir/snowgate.yaml.
func writeConfig(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "snowgate.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// problemLines are the problems of the config at path, without the file
// name, or nil when it is valid.
func problemLines(t *testing.T, path string, lookup func(string) (string, bool)) []string {
	t.Helper()
	_, err := checkConfig(path, lookup)
	if err == nil {
		return nil
	}
	var ce *configError
	if !errors.As(err, &ce) {
		t.Fatalf("checkConfig: %v, want a *configError", err)
	}
	lines := ce.Lines()
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, path+":")
	}
	return lines
}

const minimalConfig = `issuers:
  - url: https://login.example.com/realms/data
    audience: snowgate
upstream:
  account: xy12345
credentials:
  static: {user: SVC_SNOWGATE}
approvals:
  store: DIR/approvals.db
audit:
  dsn: DIR/audit.db
`

func TestCheckConfig_valid(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "audit-ed25519.pem")
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.MkdirAll(filepath.Join(dir, "policy"), 0o755)
	os.WriteFile(filepath.Join(dir, "policy", "p.rego"), []byte("package snowgate\n\ndecision := {\"action\": \"allow\"}\n"), 0o644)
	path := writeConfig(t, dir, `listen: 0.0.0.0:8765
admin_listen: 127.0.0.1:8766
issuers:
  - url: https://login.example.com/realms/data
    audience: snowgate
    agent_claim: azp
clock_skew: 1m
upstream:
  account: xy12345
  port: 443
  fold_quoted_identifiers: true
credentials:
  static: {user: SVC_SNOWGATE, password_env: SNOWGATE_UPSTREAM_PASSWORD}
policy:
  dir: DIR/policy
approvals:
  mode: ticket
  store: postgres://snowgate:${SNOWGATE_DB_PASSWORD}@db/snowgate
  webhook_url: ${SNOWGATE_WEBHOOK:-https://hooks.example.com/default}
audit:
  dsn: sqlite://DIR/audit.db
  signing_key_file: DIR/audit-ed25519.pem
`)
	l, err := checkConfig(path, env("SNOWGATE_UPSTREAM_PASSWORD", "pw", "SNOWGATE_DB_PASSWORD", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	c := l.config
	if c.Approvals.Store != "postgres://snowgate:s3cret@db/snowgate" || c.Approvals.WebhookURL != "https://hooks.example.com/default" {
		t.Errorf("expanded: store %q, webhook %q", c.Approvals.Store, c.Approvals.WebhookURL)
	}
	if c.Classifications.Store != c.Approvals.Store {
		t.Errorf("classifications.store = %q, want the approvals store's database", c.Classifications.Store)
	}
	if want := []string{"SNOWGATE_DB_PASSWORD", "SNOWGATE_UPSTREAM_PASSWORD", "SNOWGATE_WEBHOOK"}; !slices.Equal(l.vars, want) {
		t.Errorf("vars = %v, want %v", l.vars, want)
	}
	sum := l.summary()
	if strings.Contains(sum, "s3cret") || !strings.Contains(sum, "${SNOWGATE_DB_PASSWORD}") {
		t.Errorf("summary shows a secret or not its variable:\n%s", sum)
	}
}

func TestCheckConfig_problems(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		env        []string
		want       []string // line:column: key: message
	}{{
		name: "empty file",
		text: "",
		want: []string{"1:1: issuers: is required", "1:1: upstream.account: is required", "1:1: credentials: is required: configure static or vault"},
	}, {
		name: "unknown keys",
		text: "listn: 0.0.0.0:1\n" + minimalConfig + "upstream2: {}\n",
		want: []string{`1:1: listn: unknown key (did you mean listen?)`, `13:1: upstream2: unknown key (did you mean upstream?)`},
	}, {
		name: "unknown key in a list item",
		text: strings.Replace(minimalConfig, "audience:", "audiance:", 1),
		want: []string{"2:5: issuers[0].audience: is required", "3:5: issuers[0].audiance: unknown key (did you mean audience?)"},
	}, {
		name: "bad values",
		text: minimalConfig + `listen: 8765
clock_skew: 30
log_level: loud
session: {token_ttl: -1h}
approvals2: x
`,
		want: []string{
			`12:9: listen: "8765": want host:port, e.g. 0.0.0.0:8765`,
			`13:13: clock_skew: "30" is not a duration like 90s, 5m or 4h`,
			`14:12: log_level: "loud": want debug, info, warn or error`,
			`15:22: session.token_ttl: "-1h": must not be negative`,
			`16:1: approvals2: unknown key (did you mean approvals?)`,
		},
	}, {
		name: "enum, port, URL",
		text: strings.Replace(minimalConfig, "  store: DIR/approvals.db\n", "  store: DIR/approvals.db\n  mode: later\n  webhook_url: hooks.example.com\n", 1) +
			"upstream: {account: a, port: 70000, protocol: ftp}\n",
		want: []string{
			`10:9: approvals.mode: "later": want hold or ticket`,
			`11:16: approvals.webhook_url: "hooks.example.com": want an http:// or https:// URL`,
			`14:1: upstream: set twice (first at line 4)`,
		},
	}, {
		name: "numbers out of range and of the wrong type",
		text: strings.Replace(minimalConfig, "  account: xy12345\n", "  account: xy12345\n  port: 70000\n  protocol: ftp\n  fold_quoted_identifiers: maybe\n", 1),
		want: []string{
			`6:9: upstream.port: 70000 is out of range: want 1 to 65535`,
			`7:13: upstream.protocol: "ftp": want https or http`,
			`8:28: upstream.fold_quoted_identifiers: "maybe" is not true or false`,
		},
	}, {
		name: "missing files",
		text: minimalConfig + `policy:
  bundle:
    oci: registry.example.com/snowgate/policy:prod
    keys: [{id: k1, file: DIR/missing.pem}]
    persist_dir: DIR/bundles
spool_dir: DIR/nowhere
`,
		want: []string{
			`15:27: policy.bundle.keys[0].file: "DIR/missing.pem": no such file`,
			`17:12: spool_dir: "DIR/nowhere": no such directory`,
		},
	}, {
		name: "missing policy dir and audit key and store directory",
		text: strings.Replace(minimalConfig, "  dsn: DIR/audit.db\n", "  dsn: DIR/nowhere/audit.db\n  signing_key_file: DIR/audit.pem\n", 1) + "policy: {dir: DIR/policy}\n",
		want: []string{
			`11:8: audit.dsn: "DIR/nowhere/audit.db": directory DIR/nowhere does not exist`,
			`12:21: audit.signing_key_file: "DIR/audit.pem": no such file`,
			`13:15: policy.dir: "DIR/policy": no such directory`,
		},
	}, {
		name: "unset environment variables",
		text: strings.Replace(minimalConfig, "static: {user: SVC_SNOWGATE}", "static: {user: \"${SNOWGATE_USER}\", password_env: SNOWGATE_PW}", 1) +
			"  redact_literals: ${REDACT}\n",
		want: []string{
			`7:18: credentials.static.user: environment variable SNOWGATE_USER is not set`,
			`7:52: credentials.static.password_env: "SNOWGATE_PW": environment variable SNOWGATE_PW is not set`,
			`12:20: audit.redact_literals: "${REDACT}" is not true or false (environment variables are expanded in strings only)`,
		},
	}, {
		name: "bad variable reference",
		text: strings.Replace(minimalConfig, "xy12345", "${ACCOUNT", 1),
		want: []string{`5:12: upstream.account: unterminated ${ (write $${ for a literal ${)`},
	}, {
		name: "either or",
		text: strings.Replace(minimalConfig, "  static: {user: SVC_SNOWGATE}\n", "  vault:\n    address: https://vault.example.com\n    auth: {method: approle}\n", 1) +
			"policy: {bundle: {url: https://b.example.com/b.tar.gz, allow_unsigned: true}, dir: DIR}\n",
		want: []string{
			`7:3: credentials.vault: configure database (dynamic credentials per session) or kv (a static secret)`,
			`9:5: credentials.vault.auth.role_id: is required when method is approle`,
			`9:5: credentials.vault.auth.secret_id_file: is required when method is approle`,
			`14:10: policy: set dir or bundle, not both`,
		},
	}, {
		name: "issuers",
		text: strings.Replace(minimalConfig, "    audience: snowgate\n", "    audience: snowgate\n  - url: https://login.example.com/realms/data\n    audience: other\n    algorithms: [HS256]\n", 1),
		want: []string{
			`4:10: issuers[1].url: https://login.example.com/realms/data is configured twice (also issuers[0])`,
			`6:18: issuers[1].algorithms[0]: "HS256": want RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512 or EdDSA`,
		},
	}, {
		name: "wrong shapes",
		text: strings.Replace(minimalConfig, "upstream:\n  account: xy12345\n", "upstream: xy12345\n", 1) + "classifications: {forget_groups: stewards}\n",
		want: []string{
			`4:11: upstream: want a mapping of keys (account, host, port, protocol, database, schema, warehouse, role, fold_quoted_identifiers), got "xy12345"`,
			`11:34: classifications.forget_groups: want a list, got "stewards"`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeConfig(t, dir, tc.text)
			got := problemLines(t, path, env(tc.env...))
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = strings.ReplaceAll(w, "DIR", dir)
			}
			if !slices.Equal(got, want) {
				t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
		})
	}
}

// TestCheckConfig_policyDir: a policy that does not compile is a problem
// of policy.dir, one per error, with the Rego file's position.
func TestCheckConfig_policyDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "policy"), 0o755)
	os.WriteFile(filepath.Join(dir, "policy", "p.rego"), []byte("package snowgate\n\ndecision := {\"action\": undefined_fn(1)}\n"), 0o644)
	path := writeConfig(t, dir, minimalConfig+"policy: {dir: DIR/policy}\n")
	got := problemLines(t, path, env())
	want := []string{"12:15: policy.dir: " + filepath.Join(dir, "policy", "p.rego") + ":3:24: undefined function undefined_fn (rego_type_error)"}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}

// TestCheckConfig_secrets: no problem shows a value that came from the
// environment, nor a URL's password.
func TestCheckConfig_secrets(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, strings.Replace(minimalConfig, "  store: DIR/approvals.db\n",
		"  store: postgres://snowgate:literal-pw@/snowgate\n  webhook_url: \"${HOOK}\"\n", 1))
	_, err := checkConfig(path, env("HOOK", "not a url s3cret"))
	if err == nil {
		t.Fatal("no problems")
	}
	msg := err.Error()
	for _, secret := range []string{"s3cret", "literal-pw"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the problems show %q:\n%s", secret, msg)
		}
	}
	if !strings.Contains(msg, `approvals.webhook_url: "${HOOK}": want an http:// or https:// URL`) {
		t.Errorf("the problems do not name the variable:\n%s", msg)
	}
}

func TestExpandEnv(t *testing.T) {
	lookup := env("A", "a", "EMPTY", "")
	for _, tc := range []struct {
		in, want string
		unset    []string
		err      bool
	}{
		{in: "plain $A text", want: "plain $A text"},
		{in: "${A}", want: "a"},
		{in: "x${A}y${A}", want: "xaya"},
		{in: "${B}", want: "", unset: []string{"B"}},
		{in: "${B:-dflt}", want: "dflt"},
		{in: "${EMPTY:-dflt}", want: "dflt"},
		{in: "${EMPTY}", want: ""},
		{in: "$${A}", want: "${A}"},
		{in: "${A", err: true},
		{in: "${1A}", err: true},
		{in: "${A B}", err: true},
	} {
		got, _, unset, err := expandEnv(tc.in, lookup)
		if (err != nil) != tc.err || got != tc.want || !slices.Equal(unset, tc.unset) {
			t.Errorf("expandEnv(%q) = %q, unset %v, err %v; want %q, unset %v, error %v", tc.in, got, unset, err, tc.want, tc.unset, tc.err)
		}
	}
}

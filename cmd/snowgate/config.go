package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/snowgate/snowgate/bundles"
	"github.com/snowgate/snowgate/proxy/identity"
)

// config is the file `snowgate serve --config` reads (YAML).
type config struct {
	Listen      string            `yaml:"listen"`       // the Snowflake-facing address; default 127.0.0.1:8765
	AdminListen string            `yaml:"admin_listen"` // health and admin API; default 127.0.0.1:8766
	Issuers     []identity.Issuer `yaml:"issuers"`      // trusted OIDC issuers; at least one
	ClockSkew   duration          `yaml:"clock_skew"`   // leeway on token exp/nbf; default 30s
	Upstream    struct {
		Account   string `yaml:"account"`  // required
		Host      string `yaml:"host"`     // default <account>.snowflakecomputing.com
		Port      int    `yaml:"port"`     // default 443
		Protocol  string `yaml:"protocol"` // https (default) or http
		Database  string `yaml:"database"` // used when the client names none
		Schema    string `yaml:"schema"`
		Warehouse string `yaml:"warehouse"`
		Role      string `yaml:"role"`
		// FoldQuotedIdentifiers: the account ignores the case of quoted
		// identifiers too (QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE), so
		// "demo" names DEMO. Default false, Snowflake's default: unquoted
		// names are upper-cased, quoted ones kept exactly.
		FoldQuotedIdentifiers bool `yaml:"fold_quoted_identifiers"`
	} `yaml:"upstream"`
	Credentials struct {
		Static *struct {
			User        string `yaml:"user"`
			PasswordEnv string `yaml:"password_env"` // the environment variable holding the password
		} `yaml:"static"`
		Vault *vaultConfig `yaml:"vault"` // dynamic credentials per session (or static ones from KV)
	} `yaml:"credentials"`
	Policy struct {
		Dir    string          `yaml:"dir"`    // default: the embedded library
		Bundle *bundles.Config `yaml:"bundle"` // signed bundles from an OCI registry or HTTP server, instead of dir
	} `yaml:"policy"`
	Session struct {
		TokenTTL    duration `yaml:"token_ttl"`    // default 1h
		IdleTimeout duration `yaml:"idle_timeout"` // default 4h
		MaxLife     duration `yaml:"max_life"`     // default 24h
	} `yaml:"session"`
	Approvals struct {
		Store      string `yaml:"store"`       // SQLite file (default approvals.db), or postgres:// for several replicas
		Mode       string `yaml:"mode"`        // hold (default) or ticket
		WebhookURL string `yaml:"webhook_url"` // Slack-compatible webhook told about new requests
		PageURL    string `yaml:"page_url"`    // the approvals page as approvers reach it
	} `yaml:"approvals"`
	// Classifications: what copies of classified columns inherit.
	Classifications struct {
		Store        string   `yaml:"store"`         // SQLite file, or postgres:// shared by replicas; default beside approvals.store (the same PostgreSQL database)
		PollInterval duration `yaml:"poll_interval"` // how often a replica looks for the others' records; default 2s
		ForgetGroups []string `yaml:"forget_groups"` // who may forget one; default data-stewards and platform-admins
	} `yaml:"classifications"`
	Audit struct {
		DSN            string `yaml:"dsn"`              // sqlite path or postgres:// URL; default audit.db
		Replica        string `yaml:"replica"`          // this replica's chain name; default the host name
		SigningKeyFile string `yaml:"signing_key_file"` // Ed25519 private key (PEM, PKCS#8) that signs checkpoints
		RedactLiterals bool   `yaml:"redact_literals"`  // store statements with their literals replaced
	} `yaml:"audit"`
	SpoolDir string `yaml:"spool_dir"` // where large results are spooled; default the system temp dir
	LogLevel string `yaml:"log_level"` // debug, info (default), warn, error
}

// duration reads "90s", "4h" and the like.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 90s or 4h", n.Line, n.Value)
	}
	*d = duration(v)
	return nil
}

func loadConfig(path string) (*config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var c config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if c.Listen == "" {
		c.Listen = defaultAddr
	}
	if c.AdminListen == "" {
		c.AdminListen = defaultAdminAddr
	}
	if c.Approvals.Store == "" {
		c.Approvals.Store = "approvals.db"
	}
	if c.Classifications.Store == "" {
		c.Classifications.Store = c.Approvals.Store // one PostgreSQL database for the shared state
		if !strings.HasPrefix(c.Approvals.Store, "postgres://") && !strings.HasPrefix(c.Approvals.Store, "postgresql://") {
			c.Classifications.Store = filepath.Join(filepath.Dir(c.Approvals.Store), "classifications.db")
		}
	}
	if c.Audit.DSN == "" {
		c.Audit.DSN = "audit.db"
	}
	if c.Audit.Replica == "" {
		c.Audit.Replica, _ = os.Hostname()
	}
	if c.Policy.Bundle != nil && c.Policy.Dir != "" {
		return nil, fmt.Errorf("config %s: policy: set dir or bundle, not both", path)
	}
	if m := c.Approvals.Mode; m != "" && m != "hold" && m != "ticket" {
		return nil, fmt.Errorf("config %s: approvals.mode %q: want hold or ticket", path, m)
	}
	switch {
	case len(c.Issuers) == 0:
		return nil, fmt.Errorf("config %s: issuers: at least one OIDC issuer is required", path)
	case c.Upstream.Account == "":
		return nil, fmt.Errorf("config %s: upstream.account is required", path)
	case (c.Credentials.Static == nil) == (c.Credentials.Vault == nil):
		return nil, fmt.Errorf("config %s: credentials: configure either static or vault", path)
	case c.Credentials.Static != nil && c.Credentials.Static.User == "":
		return nil, fmt.Errorf("config %s: credentials.static.user is required", path)
	}
	return &c, nil
}

// vaultConfig is credentials.vault: where Vault is, how the gateway logs in,
// and which secrets engine hands out the upstream credentials.
type vaultConfig struct {
	Address        string   `yaml:"address"`
	Namespace      string   `yaml:"namespace"`
	CACertFile     string   `yaml:"ca_cert_file"`
	RequestTimeout duration `yaml:"request_timeout"`
	Auth           struct {
		Method       string `yaml:"method"`         // token, approle or kubernetes
		TokenEnv     string `yaml:"token_env"`      // token: the environment variable holding it
		Mount        string `yaml:"mount"`          // approle, kubernetes: the auth mount
		RoleID       string `yaml:"role_id"`        // approle
		SecretIDFile string `yaml:"secret_id_file"` // approle
		Role         string `yaml:"role"`           // kubernetes
		TokenPath    string `yaml:"token_path"`     // kubernetes: the service account token
	} `yaml:"auth"`
	Database *struct {
		Mount string `yaml:"mount"` // default database
		Role  string `yaml:"role"`  // used when the connect decision names none
	} `yaml:"database"`
	KV *struct {
		Mount   string `yaml:"mount"`
		Path    string `yaml:"path"`
		Version int    `yaml:"version"`
	} `yaml:"kv"`
}

package main

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/snowgate/snowgate/bundles"
	"github.com/snowgate/snowgate/proxy/identity"
)

//go:generate go test -run TestConfigReference -update .

// config is the file `snowgate serve --config` reads (YAML).
//
// The field comments and tags are the configuration reference: the test
// TestConfigReference writes docs/config.md from them (go generate), and
// the validator (configcheck.go) enforces the tags:
//
//	default:"…"   the value used when the key is absent (documentation)
//	required:"…"  "yes", or the condition under which the key is required;
//	              "yes" is enforced whenever the enclosing section is present
//	enum:"a,b"    the accepted values (of a string, or of each list item)
//	format:"…"    what a string must be: hostport, url, file, dir, env (the
//	              name of a set environment variable), store (a PostgreSQL
//	              URL or an SQLite path), dsn (the same, or sqlite://PATH)
//	range:"lo..hi" the accepted range of a number
//	example:"…"   a value for the reference
//
// Keys of types declared elsewhere (identity.Issuer, bundles.Config) take
// these from foreignKeys (configmeta.go).
type config struct {
	// The address the Snowflake-facing server listens on, as host:port.
	// Clients connect here.
	Listen string `yaml:"listen" default:"127.0.0.1:8765" format:"hostport" example:"0.0.0.0:8765"`
	// The address of the admin server: health, metrics, the approvals page
	// and API. Keep it off the clients' network.
	AdminListen string `yaml:"admin_listen" default:"127.0.0.1:8766" format:"hostport" example:"127.0.0.1:8766"`
	// The OIDC issuers whose tokens the gateway accepts, tried by the
	// token's iss claim. Reloaded on SIGHUP.
	Issuers []identity.Issuer `yaml:"issuers" required:"yes"`
	// The leeway allowed on a token's exp and nbf claims. Reloaded on SIGHUP.
	ClockSkew duration `yaml:"clock_skew" default:"30s" example:"1m"`
	// The Snowflake account statements are run in.
	Upstream upstreamConfig `yaml:"upstream"`
	// Where the gateway's upstream credentials come from: set static or vault.
	Credentials credentialsConfig `yaml:"credentials"`
	// Where the policy comes from. Reloaded on SIGHUP.
	Policy policyConfig `yaml:"policy"`
	// Lifetimes of client sessions.
	Session sessionConfig `yaml:"session"`
	// How statements that need an approval are held and announced.
	Approvals approvalsConfig `yaml:"approvals"`
	// What copies of classified columns inherit.
	Classifications classificationsConfig `yaml:"classifications"`
	// What each caller does, counted for the policy's quotas.
	Quotas quotasConfig `yaml:"quotas"`
	// The tamper-evident audit trail.
	Audit auditConfig `yaml:"audit"`
	// The directory large results are spooled to while they are sent.
	SpoolDir string `yaml:"spool_dir" default:"the system's temporary directory" format:"dir" example:"/var/lib/snowgate/spool"`
	// How much the gateway logs (JSON on standard error).
	LogLevel string `yaml:"log_level" default:"info" enum:"debug,info,warn,error" example:"debug"`
}

// upstreamConfig is upstream: the Snowflake account.
type upstreamConfig struct {
	// The account identifier, as in <account>.snowflakecomputing.com.
	Account string `yaml:"account" required:"yes" example:"xy12345"`
	// The account's host name.
	Host string `yaml:"host" default:"<account>.snowflakecomputing.com" example:"xy12345.eu-central-1.snowflakecomputing.com"`
	// The account's port.
	Port int `yaml:"port" default:"443" range:"1..65535" example:"443"`
	// The scheme the gateway speaks to the account.
	Protocol string `yaml:"protocol" default:"https" enum:"https,http" example:"https"`
	// The database of sessions whose client names none.
	Database string `yaml:"database" example:"ANALYTICS"`
	// The schema of sessions whose client names none.
	Schema string `yaml:"schema" example:"PUBLIC"`
	// The warehouse of sessions whose client names none.
	Warehouse string `yaml:"warehouse" example:"COMPUTE_WH"`
	// The role of sessions whose client and connect decision name none.
	Role string `yaml:"role" example:"ANALYST"`
	// The account ignores the case of quoted identifiers too
	// (QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE), so "demo" names DEMO. When
	// false, Snowflake's default, unquoted names are upper-cased and quoted
	// ones kept exactly.
	FoldQuotedIdentifiers bool `yaml:"fold_quoted_identifiers" default:"false" example:"true"`
}

// credentialsConfig is credentials: exactly one of its sections.
type credentialsConfig struct {
	// One service user's credentials for every session.
	Static *staticCredentials `yaml:"static" required:"unless vault is set"`
	// Credentials from HashiCorp Vault: dynamic ones per session (database)
	// or static ones from KV (kv).
	Vault *vaultConfig `yaml:"vault" required:"unless static is set"`
}

// staticCredentials is credentials.static.
type staticCredentials struct {
	// The Snowflake user the gateway logs in as.
	User string `yaml:"user" required:"yes" example:"SVC_SNOWGATE"`
	// The name of the environment variable holding the user's password
	// (the name, not the password).
	PasswordEnv string `yaml:"password_env" format:"env" example:"SNOWGATE_UPSTREAM_PASSWORD"`
}

// vaultConfig is credentials.vault: where Vault is, how the gateway logs in,
// and which secrets engine hands out the upstream credentials.
type vaultConfig struct {
	// Vault's address.
	Address string `yaml:"address" required:"yes" format:"url" example:"https://vault.example.com:8200"`
	// The Vault Enterprise namespace.
	Namespace string `yaml:"namespace" example:"data-platform"`
	// A PEM file of the CA certificates that Vault's certificate is checked
	// against.
	CACertFile string `yaml:"ca_cert_file" default:"the system's roots" format:"file" example:"/etc/snowgate/vault-ca.pem"`
	// The bound on each request to Vault.
	RequestTimeout duration `yaml:"request_timeout" default:"10s" example:"5s"`
	// How the gateway logs in to Vault.
	Auth vaultAuth `yaml:"auth"`
	// Dynamic credentials per session from a database secrets engine.
	Database *vaultDatabase `yaml:"database" required:"unless kv is set"`
	// Static credentials read from a KV secret.
	KV *vaultKV `yaml:"kv" required:"unless database is set"`
}

// vaultAuth is credentials.vault.auth.
type vaultAuth struct {
	// The auth method.
	Method string `yaml:"method" required:"yes" enum:"token,approle,kubernetes" example:"kubernetes"`
	// For the token method: the name of the environment variable holding
	// the Vault token.
	TokenEnv string `yaml:"token_env" required:"when method is token" format:"env" example:"VAULT_TOKEN"`
	// For the approle and kubernetes methods: the auth method's mount.
	Mount string `yaml:"mount" default:"approle or kubernetes (the method)" example:"kubernetes-prod"`
	// For the approle method: the role id.
	RoleID string `yaml:"role_id" required:"when method is approle" example:"${VAULT_ROLE_ID}"`
	// For the approle method: the file holding the secret id, read at each
	// login.
	SecretIDFile string `yaml:"secret_id_file" required:"when method is approle" format:"file" example:"/etc/snowgate/vault-secret-id"`
	// For the kubernetes method: the Vault role to log in as.
	Role string `yaml:"role" required:"when method is kubernetes" example:"snowgate"`
	// For the kubernetes method: the service account token file, read at
	// each login.
	TokenPath string `yaml:"token_path" default:"/var/run/secrets/kubernetes.io/serviceaccount/token" format:"file" example:"/var/run/secrets/tokens/vault"`
}

// vaultDatabase is credentials.vault.database.
type vaultDatabase struct {
	// The database secrets engine's mount.
	Mount string `yaml:"mount" default:"database" example:"database"`
	// The Vault role used when the connect decision names none.
	Role string `yaml:"role" example:"snowgate-analyst"`
	// How often each session's lease is looked up in Vault, so that a lease
	// revoked there (vault lease revoke) ends its session within that time;
	// the gateway's Vault policy needs "update" on sys/leases/lookup. A
	// negative value turns lookups off: the session ends at its next
	// renewal.
	LeaseCheck duration `yaml:"lease_check" default:"1m" example:"30s"`
}

// vaultKV is credentials.vault.kv.
type vaultKV struct {
	// The KV secrets engine's mount.
	Mount string `yaml:"mount" default:"secret" example:"secret"`
	// The secret's path inside the mount; it holds user and password.
	Path string `yaml:"path" required:"yes" example:"snowgate/upstream"`
	// The KV engine's version.
	Version int `yaml:"version" default:"2" range:"1..2" example:"1"`
}

// policyConfig is policy: a directory, a bundle source, or neither (the
// embedded library).
type policyConfig struct {
	// A directory of policy (*.rego) and data (data.json) files, laid out as
	// for opa test; *_test.rego files are skipped. Re-read on SIGHUP.
	Dir string `yaml:"dir" default:"the embedded library" format:"dir" example:"/etc/snowgate/policy"`
	// Signed bundles from an OCI registry or an HTTP bundle server, instead
	// of dir. Until a trusted bundle is restored or pulled, every statement
	// is denied. SIGHUP polls at once.
	Bundle *bundles.Config `yaml:"bundle"`
}

// sessionConfig is session.
type sessionConfig struct {
	// The lifetime of the session token a client gets at login.
	TokenTTL duration `yaml:"token_ttl" default:"1h" example:"30m"`
	// How long a session may stay unused before it ends.
	IdleTimeout duration `yaml:"idle_timeout" default:"4h" example:"1h"`
	// The longest a session lives, used or not.
	MaxLife duration `yaml:"max_life" default:"24h" example:"12h"`
}

// approvalsConfig is approvals.
type approvalsConfig struct {
	// Where approval requests are kept: an SQLite file for one replica, a
	// PostgreSQL URL shared by several.
	Store string `yaml:"store" default:"approvals.db" format:"store" example:"postgres://snowgate:${SNOWGATE_DB_PASSWORD}@db/snowgate"`
	// What a client waiting for an approval sees: hold keeps its statement
	// waiting; ticket answers at once with the request's id, and the
	// statement runs when sent again after the approval.
	Mode string `yaml:"mode" default:"hold" enum:"hold,ticket" example:"ticket"`
	// A Slack-compatible webhook told about new requests.
	WebhookURL string `yaml:"webhook_url" format:"url" example:"${SNOWGATE_SLACK_WEBHOOK}"`
	// The approvals page as approvers reach it, for links in messages.
	PageURL string `yaml:"page_url" format:"url" example:"https://snowgate-admin.example.com/"`
}

// classificationsConfig is classifications.
type classificationsConfig struct {
	// Where classification records are kept: an SQLite file, or a
	// PostgreSQL URL shared by replicas.
	Store string `yaml:"store" default:"approvals.store's PostgreSQL database, or classifications.db beside its SQLite file" format:"store" example:"postgres://snowgate@db/snowgate"`
	// How often a replica looks for the other replicas' records.
	PollInterval duration `yaml:"poll_interval" default:"2s" example:"10s"`
	// The groups whose members may forget a classification.
	ForgetGroups []string `yaml:"forget_groups" default:"[data-stewards, platform-admins]" example:"[data-stewards]"`
}

// quotasConfig is quotas.
type quotasConfig struct {
	// Where the counters (statements a minute, rows an hour, bytes a day,
	// sessions open, per caller, agent and group) are kept: an SQLite
	// file, or a PostgreSQL URL shared by replicas, which sync with it
	// every second.
	Store string `yaml:"store" default:"approvals.store's PostgreSQL database, or quotas.db beside its SQLite file" format:"store" example:"postgres://snowgate@db/snowgate"`
}

// auditConfig is audit.
type auditConfig struct {
	// Where the trail is kept: an SQLite path (or sqlite://PATH), or a
	// PostgreSQL URL.
	DSN string `yaml:"dsn" default:"audit.db" format:"dsn" example:"postgres://snowgate@db/snowgate"`
	// This replica's chain name in the trail.
	Replica string `yaml:"replica" default:"the host name" example:"snowgate-0"`
	// The Ed25519 private key (PEM, PKCS#8) that signs checkpoints.
	SigningKeyFile string `yaml:"signing_key_file" format:"file" example:"/etc/snowgate/audit-ed25519.pem"`
	// Store statements with their literals replaced.
	RedactLiterals bool `yaml:"redact_literals" default:"false" example:"true"`
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

// loadConfig reads, expands and validates the config file at path. Its
// error lists every problem found (see configError).
func loadConfig(path string) (*config, error) {
	c, err := checkConfig(path, lookupEnv)
	if err != nil {
		return nil, err
	}
	return c.config, nil
}

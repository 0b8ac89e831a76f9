package vault_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/identity"
	"github.com/snowgate/snowgate/proxy/snowflake"
)

func TestMain(m *testing.M) {
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	os.Setenv("SF_DISABLE_MINICORE", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	os.Exit(m.Run())
}

// The stand-in's administrator, whom Vault's plugin connects as.
const (
	standinAdmin    = "ADMIN"
	standinPassword = "snowgate-dev"
	allowAll        = "../proxy/testdata/allow-all"
	vaultRoleName   = "VAULT_ANALYST" // the Snowflake role Vault's users get
)

// vaultServer is a real `vault server -dev` on a free loopback port.
type vaultServer struct {
	Addr      string // http://127.0.0.1:PORT
	RootToken string
	Admin     *api.Client // carries the root token; for setting Vault up only
	out       *syncBuffer
}

// startVault runs the Vault binary named by SNOWGATE_VAULT in dev mode.
func startVault(t testing.TB) *vaultServer {
	t.Helper()
	bin := os.Getenv("SNOWGATE_VAULT")
	if bin == "" {
		t.Fatal("SNOWGATE_VAULT is not set: build Vault with `.ci/build-vault.sh` (it prints the binary's path) and run the tests with SNOWGATE_VAULT=$(.ci/build-vault.sh)")
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	root := "root-" + randomHex(t, 16)
	v := &vaultServer{Addr: "http://" + addr, RootToken: root, out: &syncBuffer{}}
	cmd := exec.Command(bin, "server", "-dev", "-dev-listen-address="+addr, "-dev-root-token-id="+root, "-dev-no-store-token", "-log-level=warn")
	// A clean environment: no VAULT_* settings from outside, and the
	// Snowflake driver inside Vault must not probe cloud metadata servers.
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true", "SF_DISABLE_MINICORE=true"}
	cmd.Stdout, cmd.Stderr = v.out, v.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start vault %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("vault server output:\n%s", v.out)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(v.Addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("vault exited at start:\n%s", v.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vault did not become healthy within 60s:\n%s", v.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cfg := api.DefaultConfig()
	cfg.Address = v.Addr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(root)
	v.Admin = c
	return v
}

// write is a Vault write that must succeed.
func (v *vaultServer) write(t testing.TB, path string, data map[string]any) *api.Secret {
	t.Helper()
	sec, err := v.Admin.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("vault write %s: %v", path, err)
	}
	return sec
}

// roleTTL sets the lease TTLs of the Vault roles the tests create.
type roleTTL struct{ def, max string }

// setupDatabase enables the database secrets engine with the built-in
// snowflake-database-plugin managing users in the stand-in at standinAddr,
// and creates the roles: analyst (password), analyst-key (rsa_private_key)
// and analyst-short (password, short TTL, for renewal).
func (v *vaultServer) setupDatabase(t testing.TB, standinAddr string) {
	t.Helper()
	if err := v.Admin.Sys().Mount("database", &api.MountInput{Type: "database"}); err != nil {
		t.Fatalf("enable database engine: %v", err)
	}
	v.write(t, "database/config/standin", map[string]any{
		"plugin_name":       "snowflake-database-plugin",
		"connection_url":    "{{username}}:{{password}}@" + standinAddr + "/DEMO/PUBLIC?account=standin&protocol=http&loginTimeout=20",
		"username":          standinAdmin,
		"password":          standinPassword,
		"allowed_roles":     "*",
		"verify_connection": true,
	})
	grant := "GRANT ROLE " + vaultRoleName + " TO USER {{name}};"
	for name, r := range map[string]struct {
		ttl      roleTTL
		keyPair  bool
		creation string
	}{
		"analyst":       {roleTTL{"10m", "1h"}, false, "CREATE USER {{name}} PASSWORD='{{password}}' DEFAULT_ROLE=" + vaultRoleName + "; " + grant},
		"analyst-key":   {roleTTL{"10m", "1h"}, true, "CREATE USER {{name}} RSA_PUBLIC_KEY='{{public_key}}' DEFAULT_ROLE=" + vaultRoleName + "; " + grant},
		"analyst-short": {roleTTL{"4s", "10m"}, false, "CREATE USER {{name}} PASSWORD='{{password}}' DEFAULT_ROLE=" + vaultRoleName + "; " + grant},
	} {
		data := map[string]any{
			"db_name":             "standin",
			"creation_statements": []string{r.creation},
			"default_ttl":         r.ttl.def,
			"max_ttl":             r.ttl.max,
		}
		if r.keyPair {
			data["credential_type"] = "rsa_private_key"
			data["credential_config"] = map[string]any{"key_bits": 2048}
		}
		v.write(t, "database/roles/"+name, data)
	}
}

// gatewayPolicy is what the gateway's Vault identity may do.
const gatewayPolicy = `
path "database/creds/*" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
`

// setupAppRole creates the gateway's AppRole and returns its role and
// secret IDs.
func (v *vaultServer) setupAppRole(t testing.TB) (roleID, secretID string) {
	t.Helper()
	if err := v.Admin.Sys().PutPolicy("snowgate", gatewayPolicy); err != nil {
		t.Fatal(err)
	}
	if err := v.Admin.Sys().EnableAuthWithOptions("approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	v.write(t, "auth/approle/role/gateway", map[string]any{"token_policies": []string{"snowgate"}, "token_ttl": "20m", "token_max_ttl": "1h"})
	sec, err := v.Admin.Logical().Read("auth/approle/role/gateway/role-id")
	if err != nil {
		t.Fatal(err)
	}
	roleID, _ = sec.Data["role_id"].(string)
	secretID, _ = v.write(t, "auth/approle/role/gateway/secret-id", nil).Data["secret_id"].(string)
	if roleID == "" || secretID == "" {
		t.Fatal("approle: no role or secret ID")
	}
	return roleID, secretID
}

// gatewayToken creates a token with the gateway's policy.
func (v *vaultServer) gatewayToken(t testing.TB) string {
	t.Helper()
	if err := v.Admin.Sys().PutPolicy("snowgate", gatewayPolicy); err != nil {
		t.Fatal(err)
	}
	sec, err := v.Admin.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"snowgate"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	return sec.Auth.ClientToken
}

// leases lists the live leases of a database role.
func (v *vaultServer) leases(t testing.TB, role string) []string {
	t.Helper()
	sec, err := v.Admin.Logical().List("sys/leases/lookup/database/creds/" + role)
	if err != nil {
		t.Fatalf("list leases: %v", err)
	}
	if sec == nil {
		return nil
	}
	keys, _ := sec.Data["keys"].([]any)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprint(k)
	}
	return out
}

// env is the dev stack, a real Vault managing the stand-in's users, and an
// administrative connection to the stand-in.
type env struct {
	Stack *devstack.Stack
	Vault *vaultServer
	admin *sql.DB // ADMIN on the stand-in's own port
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := newStandinEnv(t)
	e.Vault = startVault(t)
	e.Vault.setupDatabase(t, e.Stack.StandinAddr)
	return e
}

// newStandinEnv is the dev stack and the stand-in's administrator, without
// Vault.
func newStandinEnv(t testing.TB) *env {
	t.Helper()
	st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: allowAll, StandinPassword: standinPassword})
	if err != nil {
		t.Fatalf("start dev stack: %v", err)
	}
	t.Cleanup(st.Close)
	host, port := splitAddr(t, st.StandinAddr)
	cfg := &sf.Config{Account: "standin", User: standinAdmin, Password: standinPassword, Host: host, Port: port, Protocol: "http",
		Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 20 * time.Second, DisableTelemetry: true}
	admin := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	t.Cleanup(func() { admin.Close() })
	return &env{Stack: st, admin: admin}
}

// standinUser is a row of the stand-in's SHOW USERS.
type standinUser struct {
	Name         string
	HasPassword  bool
	HasPublicKey bool
	DefaultRole  string
}

// vaultUsers lists the stand-in's users that Vault created: the plugin
// names them v_<display name>_<role>_..., which the stand-in upper-cases.
func (e *env) vaultUsers(t testing.TB) []standinUser {
	t.Helper()
	return e.users(t, "V_")
}

// users lists the stand-in's users whose names start with prefix.
func (e *env) users(t testing.TB, prefix string) []standinUser {
	t.Helper()
	rows, err := e.admin.Query(`SHOW USERS`)
	if err != nil {
		t.Fatalf("SHOW USERS on the stand-in: %v", err)
	}
	defer rows.Close()
	var out []standinUser
	for rows.Next() {
		var u standinUser
		var login string
		var role sql.NullString
		var disabled bool
		if err := rows.Scan(&u.Name, &login, &role, &disabled, &u.HasPassword, &u.HasPublicKey); err != nil {
			t.Fatal(err)
		}
		u.DefaultRole = role.String
		if strings.HasPrefix(u.Name, prefix) {
			out = append(out, u)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// startGateway runs a gateway whose upstream is the stand-in, reached with
// gosnowflake, and whose credentials come from src. Clients log in with
// tokens from the stack's dev issuer.
func startGateway(t testing.TB, e *env, src proxy.CredentialSource, log *slog.Logger, tune func(*proxy.Config)) string {
	t.Helper()
	verifier, err := identity.New([]identity.Issuer{{URL: e.Stack.Issuer.URL(), Audience: devidp.Audience}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(context.Background(), engine.Options{Dir: allowAll, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	host, port := splitAddr(t, e.Stack.StandinAddr)
	cfg := proxy.Config{
		Name: "vaulted", Auth: verifier, Decider: eng, Logger: log,
		Upstream:    &snowflake.Upstream{Account: "standin", Host: host, Port: port, Protocol: "http", LoginTimeout: 20 * time.Second},
		Credentials: src,
		Defaults:    proxy.OpenParams{Database: "DEMO", Schema: "PUBLIC"},
	}
	if tune != nil {
		tune(&cfg)
	}
	gw, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); gw.Close() })
	return ln.Addr().String()
}

// clientDB is gosnowflake logging in to the gateway at addr with an OIDC
// token for the demo identity `as`; it returns the token too.
func clientDB(t testing.TB, e *env, addr, as string) (*sql.DB, string) {
	t.Helper()
	tok, err := e.Stack.Issuer.Token(as)
	if err != nil {
		t.Fatal(err)
	}
	return tokenDB(t, addr, tok), tok
}

// tokenDB is gosnowflake logging in to the gateway at addr with token.
func tokenDB(t testing.TB, addr, token string) *sql.DB {
	t.Helper()
	host, port := splitAddr(t, addr)
	cfg := &sf.Config{Account: "snowgate", Host: host, Port: port, Protocol: "http", Authenticator: sf.AuthTypeOAuth, Token: token,
		Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 20 * time.Second, DisableTelemetry: true}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	db.SetMaxIdleConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func splitAddr(t testing.TB, addr string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer collects output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func captureLog() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// eventually polls cond until it holds or the time is up.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// faultProxy sits between the gateway and Vault and can make Vault look
// down (connections dropped) or slow (connections held, never answered).
type faultProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  string // "pass", "drop", "hang"
	conns map[net.Conn]struct{}
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: strings.TrimPrefix(target, "http://"), mode: "pass", conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.set("drop") })
	return p
}

func (p *faultProxy) URL() string { return "http://" + p.ln.Addr().String() }

// set switches the mode; leaving "pass" cuts the connections in flight, as
// Vault going away would.
func (p *faultProxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if mode != "pass" {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		if mode != "drop" {
			p.conns[c] = struct{}{}
		}
		p.mu.Unlock()
		switch mode {
		case "drop":
			c.Close()
		case "hang":
			// Held open, never answered, until the mode changes.
		default:
			go p.pipe(c)
		}
	}
}

func (p *faultProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

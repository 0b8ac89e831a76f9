package vault_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

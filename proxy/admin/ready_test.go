package admin_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/internal/pgtest"
	adminapi "github.com/snowgate/snowgate/proxy/admin"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/snowflake"
)

func TestMain(m *testing.M) {
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	os.Setenv("SF_DISABLE_MINICORE", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

type readyBody struct {
	Ready  bool
	Failed []string
	Checks map[string]string
}

func readyz(t *testing.T, base string) (int, readyBody) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b readyBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	return resp.StatusCode, b
}

// notReady waits for /readyz to answer 503 naming exactly part, with a
// reason containing why.
func notReady(t *testing.T, base, part, why string) readyBody {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, b := readyz(t, base)
		if code == http.StatusServiceUnavailable && !b.Ready && slices.Equal(b.Failed, []string{part}) && strings.Contains(b.Checks[part], why) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz: %d %+v; want 503 naming %s (%q)", code, b, part, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func startStack(t *testing.T) *devstack.Stack {
	t.Helper()
	st, err := devstack.Start(context.Background(), devstack.Options{})
	if err != nil {
		t.Fatalf("start dev stack: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func serve(t *testing.T, cfg adminapi.Config) string {
	t.Helper()
	if cfg.ReadyCache == 0 {
		cfg.ReadyCache = time.Nanosecond // every request checks again
	}
	srv := httptest.NewServer(adminapi.New(cfg))
	t.Cleanup(srv.Close)
	return srv.URL
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestReadyz_devStack: the dev stack is ready (policy, audit trail and
// stand-in); once the stand-in is closed, /readyz names the upstream.
func TestReadyz_devStack(t *testing.T) {
	st := startStack(t)
	base := "http://" + st.AdminAddr
	code, b := readyz(t, base)
	want := map[string]string{"policy": "ok", "audit": "ok", "upstream": "ok", "gateway": "ok"}
	if code != http.StatusOK || !b.Ready || len(b.Failed) != 0 || !mapsEqual(b.Checks, want) {
		t.Fatalf("/readyz: %d %+v; want 200 with %v", code, b, want)
	}
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	st.Standin.Close()
	notReady(t, base, "upstream", "database is closed")
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz with the upstream down: %v %v; the process still serves", resp, err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestReadyz_gosnowflakeUpstream: a gosnowflake upstream is ready when its
// account answers (the dev stand-in's own protocol server), and not when
// nothing listens at its port.
func TestReadyz_gosnowflakeUpstream(t *testing.T) {
	st := startStack(t)
	host, port, _ := net.SplitHostPort(st.StandinAddr)
	p, _ := strconv.Atoi(port)
	up := serve(t, adminapi.Config{Upstream: &snowflake.Upstream{Account: "standin", Host: host, Port: p, Protocol: "http"}})
	if code, b := readyz(t, up); code != http.StatusOK || b.Checks["upstream"] != "ok" {
		t.Fatalf("/readyz with the account answering: %d %+v", code, b)
	}
	down := serve(t, adminapi.Config{Upstream: &snowflake.Upstream{Account: "standin", Host: "127.0.0.1", Port: closedPort(t), Protocol: "http"}})
	notReady(t, down, "upstream", "connection refused")
}

// TestReadyz_auditSQLiteLocked: a SQLite trail whose write lock another
// connection holds cannot record a statement; /readyz names the audit
// trail until the lock is released.
func TestReadyz_auditSQLiteLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	trail, err := audit.Open(context.Background(), audit.Config{DSN: path, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { trail.Close() })
	base := serve(t, adminapi.Config{Audit: trail, ReadyTimeout: 500 * time.Millisecond})
	if code, b := readyz(t, base); code != http.StatusOK || b.Checks["audit"] != "ok" {
		t.Fatalf("/readyz: %d %+v", code, b)
	}

	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(100)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	notReady(t, base, "audit", "cannot take the write lock: database is locked")
	// The trail cannot record meanwhile: the gateway would refuse statements.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = trail.Record(ctx, audit.Event{Type: audit.TypeSessionStart, SessionID: "1"})
	cancel()
	if err == nil {
		t.Fatal("a record was written while another connection held the write lock")
	}

	if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for code, b := readyz(t, base); code != http.StatusOK; code, b = readyz(t, base) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the lock was released: %d %+v", code, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReadyz_auditPostgres: a PostgreSQL trail is not ready when its
// database turns read-only (as a standby is) or stops taking connections
// (as a stopped server does); /readyz names the audit trail and why.
func TestReadyz_auditPostgres(t *testing.T) {
	dsn := pgtest.DSN(t, "ready")
	ctx := context.Background()
	trail, err := audit.Open(ctx, audit.Config{DSN: dsn, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { trail.Close() })
	base := serve(t, adminapi.Config{Audit: trail})
	if code, b := readyz(t, base); code != http.StatusOK || b.Checks["audit"] != "ok" {
		t.Fatalf("/readyz: %d %+v", code, b)
	}

	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	su, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := su.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	dropSessions := "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "' AND pid <> pg_backend_pid()"

	exec("ALTER DATABASE " + name + " SET default_transaction_read_only = on")
	exec(dropSessions) // the pool's next connections are read-only
	notReady(t, base, "audit", "read-only")

	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	exec(dropSessions)
	notReady(t, base, "audit", "not currently accepting connections")

	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	exec("ALTER DATABASE " + name + " RESET default_transaction_read_only")
	deadline := time.Now().Add(15 * time.Second)
	for code, b := readyz(t, base); code != http.StatusOK; code, b = readyz(t, base) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz once the database takes writes again: %d %+v", code, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pinger is a part whose answers the test controls.
type pinger struct {
	calls atomic.Int64
	err   error
	block chan struct{} // when set, Ping waits for it to close, ignoring ctx
}

func (p *pinger) Ping(ctx context.Context) error {
	p.calls.Add(1)
	if p.block != nil {
		<-p.block
	}
	return p.err
}

// TestReadyz_cachedAndBounded: a burst of probes costs the part one check;
// a part that does not answer within the timeout is not ready, and is not
// asked again until its check returns.
func TestReadyz_cachedAndBounded(t *testing.T) {
	p := &pinger{}
	base := serve(t, adminapi.Config{Vault: p, ReadyCache: time.Minute})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if code, _ := readyz(t, base); code != http.StatusOK {
				t.Errorf("/readyz: %d", code)
			}
		})
	}
	wg.Wait()
	if n := p.calls.Load(); n != 1 {
		t.Errorf("50 probes within the cache's life pinged Vault %d times, want 1", n)
	}

	hung := &pinger{block: make(chan struct{})}
	base = serve(t, adminapi.Config{Vault: hung, ReadyTimeout: 200 * time.Millisecond})
	start := time.Now()
	notReady(t, base, "vault", "no answer within 200ms")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("/readyz took %s with a part that does not answer", took)
	}
	notReady(t, base, "vault", "previous check has not returned")
	if n := hung.calls.Load(); n != 1 {
		t.Errorf("a hung check was started %d times, want 1", n)
	}
	close(hung.block)
}

// TestReadyz_noSecrets: what a failing part says is shown without the
// credentials it may quote.
func TestReadyz_noSecrets(t *testing.T) {
	p := &pinger{err: errors.New(`connect postgres://snowgate:hunter2@db/audit: password=hunter2 token=s.abcdef refused`)}
	base := serve(t, adminapi.Config{Vault: p})
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "s.abcdef") {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), "refused") {
		t.Errorf("/readyz lost the reason: %s", body)
	}
}

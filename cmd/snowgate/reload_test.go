package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/bundles"
	"github.com/snowgate/snowgate/proxy/devidp"
)

// Two policies for the reload test: one allows every statement, the other
// denies every statement with a reason of its own. Both let the demo
// analyst log in.
const (
	allowPolicy = `package snowgate

decision := {"action": "allow", "reasons": []}

connect.decision := {"action": "allow", "reasons": [], "role": "SNOWGATE_ANALYST", "warehouse": "ANALYTICS_WH"}
`
	denyPolicy = `package snowgate

decision := {"action": "deny", "reasons": ["policy two denies every statement"]}

connect.decision := {"action": "allow", "reasons": [], "role": "SNOWGATE_ANALYST", "warehouse": "ANALYTICS_WH"}
`
)

// TestCLI_serveReload edits the config of a running `snowgate serve` and
// sends SIGHUP: the new policy directory decides and the new issuer's
// tokens are accepted (the old one's refused), a key that needs a restart
// is named, and an invalid edit changes nothing and is logged problem by
// problem.
func TestCLI_serveReload(t *testing.T) {
	_, admin := startDev(t)
	host, port, _ := net.SplitHostPort(devStandinAddr(t, admin))
	other := startIssuer(t)
	dir := t.TempDir()
	for name, text := range map[string]string{"one": allowPolicy, "two": denyPolicy} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "policy.rego"), []byte(text), 0o644)
	}
	cfg := filepath.Join(dir, "snowgate.yaml")
	write := func(issuer, policyDir, extra string) {
		t.Helper()
		text := fmt.Sprintf(`listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
issuers:
  - url: %s
    audience: snowgate
upstream: {account: standin, host: %s, port: %s, protocol: http, database: DEMO, schema: PUBLIC}
credentials:
  static: {user: ADMIN, password_env: SNOWGATE_TEST_UPSTREAM_PASSWORD}
policy:
  dir: %s
approvals:
  store: %s/approvals.db
audit:
  dsn: %s/audit.db
%s`, issuer, host, port, filepath.Join(dir, policyDir), dir, dir, extra)
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("http://"+admin, "one", "")
	srv := startGateway(t, cfg)

	devToken, err := snowgate(t, "token", "--as", "analyst", "--addr", admin)
	if err != nil {
		t.Fatal(devToken)
	}
	otherToken, _ := other.Token("analyst")
	if err := srv.query(strings.TrimSpace(devToken)); err != nil {
		t.Fatalf("dev issuer, policy one: %v", err)
	}
	if err := srv.query(otherToken); !isRefused(err, "issuer not trusted") {
		t.Fatalf("other issuer before the reload: %v, want a refused login", err)
	}

	t.Log("reload: the other issuer, policy two, and a key that needs a restart")
	write(other.URL(), "two", "log_level: debug\n")
	srv.hup(t)
	rec := srv.await(t, "config reloaded")
	if p, _ := rec["policy"].(string); !strings.Contains(p, "replaces") {
		t.Errorf("config reloaded: policy %q, want a new revision", p)
	}
	if fmt.Sprint(rec["issuers_added"]) != fmt.Sprint([]string{other.URL()}) || fmt.Sprint(rec["issuers_removed"]) != fmt.Sprint([]string{"http://" + admin}) {
		t.Errorf("config reloaded: issuers added %v, removed %v", rec["issuers_added"], rec["issuers_removed"])
	}
	if rec := srv.await(t, "config changes that need a restart were not applied"); fmt.Sprint(rec["keys"]) != "[log_level]" {
		t.Errorf("restart keys = %v, want [log_level]", rec["keys"])
	}
	if err := srv.query(otherToken); !isDenied(err, "policy two denies every statement") {
		t.Fatalf("other issuer, policy two: %v, want policy two's denial", err)
	}
	if err := srv.query(strings.TrimSpace(devToken)); !isRefused(err, "issuer not trusted") {
		t.Fatalf("dev issuer after the reload: %v, want a refused login", err)
	}

	t.Log("an invalid edit: nothing changes")
	write("http://"+admin, "three", "listn: 0.0.0.0:1\n")
	srv.hup(t)
	srv.await(t, "config reload rejected; nothing changed")
	problems := srv.all("config problem")
	want := []string{
		cfg + ":10:8: policy.dir: \"" + filepath.Join(dir, "three") + "\": no such directory",
		cfg + ":15:1: listn: unknown key (did you mean listen?)",
	}
	var got []string
	for _, p := range problems {
		got = append(got, fmt.Sprint(p["problem"]))
	}
	if !slices.Equal(got, want) {
		t.Errorf("logged problems:\n got %q\nwant %q", got, want)
	}
	if err := srv.query(otherToken); !isDenied(err, "policy two denies every statement") {
		t.Fatalf("after the invalid edit: %v, want policy two's denial for the other issuer", err)
	}
	if err := srv.query(strings.TrimSpace(devToken)); !isRefused(err, "issuer not trusted") {
		t.Fatalf("dev issuer after the invalid edit: %v, want a refused login", err)
	}
}

// TestCLI_serveInvalidConfig: serve refuses to start on an invalid file
// with the problems `config validate` prints.
func TestCLI_serveInvalidConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, minimalConfig+"listn: 0.0.0.0:1\napprovals2: {}\nlog_level: loud\n")
	validate, err := snowgate(t, "config", "validate", "--config", cfg)
	if exitCode(err) != 1 {
		t.Fatalf("config validate: %v\n%s", err, validate)
	}
	lines := []string{
		cfg + ":12:1: listn: unknown key (did you mean listen?)",
		cfg + ":13:1: approvals2: unknown key (did you mean approvals?)",
		cfg + `:14:12: log_level: "loud": want debug, info, warn or error`,
	}
	serve, err := snowgate(t, "serve", "--config", cfg)
	if err == nil {
		t.Fatal("serve started on an invalid config")
	}
	for _, l := range lines {
		if !strings.Contains(validate, l+"\n") || !strings.Contains(serve, l+"\n") {
			t.Errorf("%q missing\nvalidate:\n%s\nserve:\n%s", l, validate, serve)
		}
	}
}

// TestCLI_configValidate: a valid file gives a summary and status 0, with
// the variables it reads named and their values nowhere.
func TestCLI_configValidate(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, strings.Replace(minimalConfig, "  store: DIR/approvals.db\n",
		"  store: postgres://snowgate:${SNOWGATE_TEST_DB_PASSWORD}@db/snowgate\n", 1))
	cmd := exec.Command(binary, "config", "validate", "--config", cfg)
	cmd.Env = append(os.Environ(), "SNOWGATE_TEST_DB_PASSWORD=hunter2-secret")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("config validate: %v\n%s", err, out)
	}
	for _, want := range []string{cfg + " is valid", "account xy12345", "postgres://snowgate:${SNOWGATE_TEST_DB_PASSWORD}@db/snowgate", "SNOWGATE_TEST_DB_PASSWORD (values not shown)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "hunter2") {
		t.Errorf("summary shows the secret:\n%s", out)
	}
	out, err = exec.Command(binary, "config", "validate", "--config", cfg, "--output", "json").CombinedOutput()
	var report struct {
		Valid    bool
		Problems []problem
	}
	if exitCode(err) != 1 || json.Unmarshal(out[:strings.LastIndex(string(out), "}")+1], &report) != nil || report.Valid || len(report.Problems) != 1 ||
		report.Problems[0].Msg != "environment variable SNOWGATE_TEST_DB_PASSWORD is not set" || report.Problems[0].Line != 9 {
		t.Errorf("json, variable unset: %v\n%s", err, out)
	}
}

// startIssuer serves a dev issuer of its own on a loopback port.
func startIssuer(t *testing.T) *devidp.Issuer {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	is, err := devidp.New(srv.URL, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = is.Handler()
	return is
}

// gatewayProc is a running `snowgate serve` and its log.
type gatewayProc struct {
	cmd     *exec.Cmd
	gateway string
	logs    chan map[string]any
	seen    []map[string]any
}

// startGateway runs `snowgate serve --config cfg` until the test ends.
func startGateway(t *testing.T, cfg string) *gatewayProc {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "SNOWGATE_TEST_UPSTREAM_PASSWORD=snowgate-dev")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	s := &gatewayProc{cmd: cmd, logs: make(chan map[string]any, 1000)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				s.logs <- rec
			}
		}
		close(s.logs)
	}()
	for {
		rec := s.await(t, "listening")
		if rec["server"] == "gateway" {
			s.gateway = rec["addr"].(string)
			return s
		}
	}
}

// await returns the next log record with the message msg.
func (s *gatewayProc) await(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case rec, ok := <-s.logs:
			if !ok {
				t.Fatalf("snowgate serve ended before logging %q", msg)
			}
			s.seen = append(s.seen, rec)
			if rec["msg"] == msg {
				return rec
			}
		case <-timeout:
			t.Fatalf("snowgate serve did not log %q", msg)
		}
	}
}

// all returns the records with the message msg seen since the last call.
func (s *gatewayProc) all(msg string) []map[string]any {
	var out []map[string]any
	for _, rec := range s.seen {
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	s.seen = nil
	return out
}

func (s *gatewayProc) hup(t *testing.T) {
	t.Helper()
	s.seen = nil
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// query logs in with token on a connection of its own and runs a SELECT.
func (s *gatewayProc) query(token string) error {
	host, port, _ := net.SplitHostPort(s.gateway)
	dsn, err := sf.ParseDSN(fmt.Sprintf("%s:%s?account=snowgate&protocol=http&authenticator=oauth&token=%s", host, port, token))
	if err != nil {
		return err
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *dsn))
	defer db.Close()
	var n int
	return db.QueryRow(`SELECT count(*) FROM customers`).Scan(&n)
}

func isDenied(err error, reason string) bool {
	var se *sf.SnowflakeError
	return errors.As(err, &se) && se.Number == 3001 && strings.Contains(se.Message, reason)
}

func isRefused(err error, reason string) bool {
	return err != nil && strings.Contains(err.Error(), reason)
}

// TestPolicySource_apply moves a policy source from a directory to a
// bundle server and back; a policy that does not compile changes nothing.
func TestPolicySource_apply(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	for name, text := range map[string]string{"one": allowPolicy, "two": denyPolicy, "broken": "package snowgate\n\ndecision := {\n"} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "policy.rego"), []byte(text), 0o644)
	}
	b, err := bundles.Build(bundles.BuildOptions{Dir: filepath.Join(dir, "two"), Revision: "two-1", Roots: []string{"snowgate"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := bundles.Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	hits := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- struct{}{}
		w.Write(raw)
	}))
	defer srv.Close()

	one := policyConfig{Dir: filepath.Join(dir, "one")}
	p, err := startPolicy(ctx, one, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dirRevision := p.Revision()

	remote := policyConfig{Bundle: &bundles.Config{URL: srv.URL, AllowUnsigned: true, Interval: time.Hour}}
	if msg, err := p.apply(remote); err != nil || !strings.Contains(msg, "stays active until its first trusted bundle") {
		t.Fatalf("to the bundle server: %q, %v", msg, err)
	}
	waitFor(t, "the bundle's revision", func() bool { return p.Revision() == "two-1" && p.eng.Revision() == "two-1" })
	<-hits
	if msg, err := p.apply(remote); err != nil || msg != "bundle source unchanged; polled now" {
		t.Fatalf("the same bundle source: %q, %v", msg, err)
	}
	select {
	case <-hits:
	case <-time.After(10 * time.Second):
		t.Fatal("an unchanged bundle source was not polled at once")
	}

	if _, err := p.apply(policyConfig{Dir: filepath.Join(dir, "broken")}); err == nil {
		t.Fatal("a policy that does not parse was applied")
	}
	if p.Revision() != "two-1" {
		t.Fatalf("after a failed apply: revision %q, want two-1", p.Revision())
	}
	if msg, err := p.apply(one); err != nil || msg != "revision "+dirRevision+" replaces two-1" {
		t.Fatalf("back to the directory: %q, %v", msg, err)
	}
	if p.Revision() != dirRevision || p.poller != nil {
		t.Fatalf("back to the directory: revision %q, poller %v", p.Revision(), p.poller)
	}
	if msg, err := p.apply(one); err != nil || msg != "unchanged, revision "+dirRevision {
		t.Fatalf("the same directory: %q, %v", msg, err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/internal/pgtest"
)

var binary string

// standinAddrs maps a dev instance's admin address to its stand-in's.
var standinAddrs sync.Map

// TestMain builds the snowgate binary once: the CLI tests run it as a user
// would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "snowgate-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "snowgate")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build snowgate: %v\n%s", err, out)
		os.Exit(1)
	}
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	code := m.Run()
	pgtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func snowgate(t testing.TB, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	return string(out), err
}

// startDev runs `snowgate dev` on free ports and returns the gateway and
// admin addresses read from its banner.
func startDev(t testing.TB, extra ...string) (gateway, admin string) {
	return startDevIn(t, "", extra...)
}

// devs maps a dev instance's admin address to its process, for stopDev.
var devs sync.Map

// stopDev interrupts a dev instance and waits for it to end.
func stopDev(t testing.TB, admin string) {
	t.Helper()
	v, ok := devs.Load(admin)
	if !ok {
		t.Fatal("no dev instance at " + admin)
	}
	cmd := v.(*exec.Cmd)
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("snowgate dev did not stop on interrupt")
	}
}

// startDevIn is startDev with a data directory ("" for in memory).
func startDevIn(t testing.TB, dataDir string, extra ...string) (gateway, admin string) {
	t.Helper()
	args := []string{"dev", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--standin-addr", "127.0.0.1:0"}
	if dataDir != "" {
		args = append(args, "--data-dir", dataDir)
	}
	cmd := exec.Command(binary, append(args, extra...)...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState != nil {
			return // stopped by the test
		}
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("snowgate dev did not stop on interrupt")
		}
	})
	addrs := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`)
	sc := bufio.NewScanner(out)
	var found []string
	for len(found) < 3 && sc.Scan() {
		if m := addrs.FindStringSubmatch(sc.Text()); m != nil {
			found = append(found, m[1])
		}
	}
	if len(found) < 3 {
		t.Fatalf("snowgate dev printed no addresses")
	}
	standinAddrs.Store(found[1], found[2])
	devs.Store(found[1], cmd)
	go func() {
		for sc.Scan() {
		}
	}()
	return found[0], found[1]
}

func TestCLI_help(t *testing.T) {
	out, err := snowgate(t, "--help")
	if err != nil || !strings.Contains(out, "dev") || !strings.Contains(out, "token") {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	out, err = snowgate(t, "no-such-command")
	if err == nil || !strings.Contains(out, `unknown command "no-such-command"`) {
		t.Fatalf("unknown command: %v\n%s", err, out)
	}
	out, err = snowgate(t, "token")
	if err == nil || !strings.Contains(out, "--as is required") {
		t.Fatalf("token without --as: %v\n%s", err, out)
	}
}

// TestCLI_devTokenApprovals walks the quick start: snowgate dev, a token
// from snowgate token, a real driver, and an approval through the CLI.
func TestCLI_devTokenApprovals(t *testing.T) {
	gw, admin := startDev(t)
	tok, err := snowgate(t, "token", "--as", "agent", "--addr", admin)
	if err != nil {
		t.Fatalf("snowgate token: %v\n%s", err, tok)
	}
	host, port, _ := net.SplitHostPort(gw)
	cfg, err := sf.ParseDSN(fmt.Sprintf("%s:%s/DEMO/PUBLIC?account=snowgate&protocol=http&authenticator=oauth&token=%s", host, port, strings.TrimSpace(tok)))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	defer db.Close()

	var city string
	if err := db.QueryRow(`SELECT city FROM customers WHERE id = 3`).Scan(&city); err != nil || city == "" {
		t.Fatalf("agent read: %q, %v", city, err)
	}
	_, err = db.Exec(`GRANT ROLE SYSADMIN TO USER mallory`)
	var se *sf.SnowflakeError
	if !errors.As(err, &se) || se.Number != 3001 {
		t.Fatalf("agent grant: %v, want a denial", err)
	}

	// An agent's statement that needs approval is answered at once with a
	// ticket naming the request.
	_, err = db.Exec(`DELETE FROM orders`)
	if !errors.As(err, &se) || se.Number != 3002 {
		t.Fatalf("agent DELETE: %v, want a ticket (003002)", err)
	}
	id := regexp.MustCompile(`apr-[a-z0-9]+`).FindString(err.Error())
	if id == "" {
		t.Fatalf("the ticket names no request: %v", err)
	}
	out, err := snowgate(t, "approvals", "list", "--as", "approver", "--addr", admin)
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "sql-agent") || !strings.Contains(out, "DELETE FROM orders") {
		t.Fatalf("approvals list does not show the request, who and what: %v\n%s", err, out)
	}
	if out, err := snowgate(t, "approvals", "approve", id, "--as", "analyst", "--addr", admin); err == nil || !strings.Contains(out, "cannot approve their own") {
		t.Errorf("self-approval through the CLI: %v\n%s", err, out)
	}
	if out, err := snowgate(t, "approvals", "approve", id, "--reason", "cleanup", "--as", "approver", "--addr", admin); err != nil || !strings.Contains(out, "approved") {
		t.Fatalf("approvals approve: %v\n%s", err, out)
	}
	// Run again, it runs once.
	if _, err := db.Exec(`DELETE FROM orders`); err != nil {
		t.Fatalf("approved DELETE: %v", err)
	}
}

// TestCLI_serve runs the production gateway from a config file in front of
// snowgate dev's stand-in (reached with gosnowflake), trusting the dev
// issuer.
func TestCLI_serve(t *testing.T) {
	sv := startServe(t)
	db := sv.open(t, "analyst")
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM customers WHERE country = 'DE'`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("through snowgate serve: %d, %v", n, err)
	}
	_, err := db.Exec(`GRANT ROLE SYSADMIN TO USER mallory`)
	var se *sf.SnowflakeError
	if !errors.As(err, &se) || se.Number != 3001 {
		t.Fatalf("grant through snowgate serve: %v, want a denial", err)
	}
}

// served is a running `snowgate serve` in front of a dev instance's
// stand-in, trusting the dev issuer, with its stores in dir.
type served struct {
	cmd            *exec.Cmd
	gateway, admin string // the gateway, and the dev instance's admin (issuer)
	adminAPI       string // the served gateway's own admin server (/readyz, /metrics)
	dir            string
	log            *logBuffer    // everything it wrote to stderr
	exited         chan struct{} // closed when the process has exited, with its error in err
	err            error
}

// serveOptions say how startServeWith runs snowgate serve; the zero value
// is startServe's: a dev instance of its own, SQLite stores.
type serveOptions struct {
	dev      string   // the admin address of a running dev instance to front; "" starts one
	password string   // that instance's stand-in password (its --standin-password); "" for dev's default
	store    string   // the approvals store and audit trail: a PostgreSQL URL; "" for SQLite files in dir
	replica  string   // audit.replica; "" for the default, the host name
	logLevel string   // log_level; "" for the default, info
	env      []string // added to the process's environment
}

// startServe starts it; env adds to the process's environment.
func startServe(t testing.TB, env ...string) *served {
	t.Helper()
	return startServeWith(t, serveOptions{env: env})
}

// startServeWith starts snowgate serve as o says, and stops it (SIGINT)
// when the test ends unless it has exited.
func startServeWith(t testing.TB, o serveOptions) *served {
	t.Helper()
	admin := o.dev
	if admin == "" {
		_, admin = startDev(t)
	}
	password := o.password
	if password == "" {
		password = "snowgate-dev"
	}
	// The stand-in's address is the third one snowgate dev prints; ask it.
	standin := devStandinAddr(t, admin)
	host, port, _ := net.SplitHostPort(standin)
	dir := t.TempDir()
	approvals, trail := dir+"/approvals.db", dir+"/audit.db"
	if o.store != "" {
		approvals, trail = o.store, o.store
	}
	replica, level := "", ""
	if o.replica != "" {
		replica = "\n  replica: " + o.replica
	}
	if o.logLevel != "" {
		level = "log_level: " + o.logLevel + "\n"
	}
	cfg := filepath.Join(dir, "snowgate.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`%slisten: 127.0.0.1:0
admin_listen: 127.0.0.1:0
issuers:
  - url: http://%s
    audience: snowgate
upstream:
  account: standin
  host: %s
  port: %s
  protocol: http
  database: DEMO
  schema: PUBLIC
credentials:
  static:
    user: ADMIN
    password_env: SNOWGATE_TEST_UPSTREAM_PASSWORD
approvals:
  store: %s
audit:
  dsn: %s%s
`, level, admin, host, port, approvals, trail, replica)), 0o600)
	sv := &served{cmd: exec.Command(binary, "serve", "--config", cfg), admin: admin, dir: dir, log: &logBuffer{}, exited: make(chan struct{})}
	sv.cmd.Env = append(append(os.Environ(), "SNOWGATE_TEST_UPSTREAM_PASSWORD="+password), o.env...)
	stderr, _ := sv.cmd.StderrPipe()
	if err := sv.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(stderr)
	for sv.gateway == "" || sv.adminAPI == "" {
		b, err := rd.ReadBytes('\n')
		sv.log.Write(b)
		var line struct{ Msg, Server, Addr string }
		if json.Unmarshal(b, &line) == nil && line.Msg == "listening" {
			switch line.Server {
			case "gateway":
				sv.gateway = line.Addr
			case "admin":
				sv.adminAPI = line.Addr
			}
		}
		if err != nil {
			break
		}
	}
	go func() {
		io.Copy(sv.log, rd)
		sv.err = sv.cmd.Wait()
		close(sv.exited)
	}()
	t.Cleanup(func() {
		sv.cmd.Process.Signal(os.Interrupt)
		select {
		case <-sv.exited:
		case <-time.After(40 * time.Second):
			sv.cmd.Process.Kill()
		}
	})
	if sv.gateway == "" || sv.adminAPI == "" {
		t.Fatalf("snowgate serve did not start:\n%s", sv.log)
	}
	return sv
}

// logBuffer collects a process's log, safe to read while it is written.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// open connects gosnowflake to the served gateway as a demo identity.
func (sv *served) open(t *testing.T, as string) *sql.DB {
	t.Helper()
	tok, err := snowgate(t, "token", "--as", as, "--addr", sv.admin)
	if err != nil {
		t.Fatal(tok)
	}
	host, port, _ := net.SplitHostPort(sv.gateway)
	dsn, _ := sf.ParseDSN(fmt.Sprintf("%s:%s?account=snowgate&protocol=http&authenticator=oauth&token=%s", host, port, strings.TrimSpace(tok)))
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *dsn))
	t.Cleanup(func() { db.Close() })
	return db
}

// devStandinAddr is the stand-in address startDev read from the banner of
// the dev instance whose admin address is given.
func devStandinAddr(t testing.TB, admin string) string {
	t.Helper()
	addr, ok := standinAddrs.Load(admin)
	if !ok {
		t.Fatal("no stand-in address recorded for " + admin)
	}
	return addr.(string)
}

// TestCLI_auditShadow records a session with snowgate dev, then replays it
// under a candidate policy with `snowgate audit shadow`, and checks the
// trail with `snowgate audit verify`.
func TestCLI_auditShadow(t *testing.T) {
	data := t.TempDir()
	gw, admin := startDevIn(t, data, "--approval-mode", "ticket")
	tok, err := snowgate(t, "token", "--as", "agent", "--addr", admin)
	if err != nil {
		t.Fatal(tok)
	}
	host, port, _ := net.SplitHostPort(gw)
	dsn, _ := sf.ParseDSN(fmt.Sprintf("%s:%s/DEMO/PUBLIC?account=snowgate&protocol=http&authenticator=oauth&token=%s", host, port, strings.TrimSpace(tok)))
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *dsn))
	for _, q := range []string{`SELECT city FROM customers WHERE id = 1`, `SELECT status FROM orders WHERE id = 2`, `DELETE FROM orders`, `GRANT ROLE SYSADMIN TO USER mallory`} {
		db.Exec(q)
	}
	db.Close()
	stopDev(t, admin)

	candidate := t.TempDir()
	os.WriteFile(filepath.Join(candidate, "policy.rego"), []byte(`package snowgate

# A change freeze: nothing but reads of ORDERS.
decision := {"action": "allow", "reasons": []} if {
	input.statement.kind == "select"
	every o in input.statement.objects { o.name == "ORDERS" }
} else := {"action": "deny", "reasons": ["change freeze"]}
`), 0o600)
	out, err := snowgate(t, "audit", "shadow", "--db", filepath.Join(data, "audit.db"), "--bundle", candidate)
	if err != nil {
		t.Fatalf("audit shadow: %v\n%s", err, out)
	}
	for _, want := range []string{"4 recorded statements re-evaluated, 3 decisions would change", "allow → deny                         1", "require_approval → deny              1", "deny → deny", "SELECT city FROM customers"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit shadow output lacks %q:\n%s", want, out)
		}
	}
	if out, err := snowgate(t, "audit", "verify", "--db", filepath.Join(data, "audit.db")); err != nil {
		t.Errorf("audit verify: %v\n%s", err, out)
	}

	// The same decisions, in OPA's decision-log format, to an HTTP sink.
	got := make(chan []map[string]any, 1)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
			http.Error(w, "want gzip", http.StatusBadRequest)
			return
		}
		var events []map[string]any
		if err := json.NewDecoder(zr).Decode(&events); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- events
	}))
	defer sink.Close()
	if out, err := snowgate(t, "audit", "export", "--db", filepath.Join(data, "audit.db"), "--opa-sink", sink.URL+"/logs"); err != nil {
		t.Fatalf("audit export --opa-sink: %v\n%s", err, out)
	}
	events := <-got
	var actions []string
	for _, e := range events {
		res, _ := e["result"].(map[string]any)
		if e["decision_id"] == "" || e["path"] != "snowgate/decision" || res == nil {
			t.Errorf("not an OPA decision-log event: %v", e)
		}
		actions = append(actions, fmt.Sprint(res["action"]))
	}
	if strings.Join(actions, " ") != "allow allow require_approval deny" {
		t.Errorf("decisions sent to the sink: %v", actions)
	}
}

// TestCLI_crash kills the gateway (SIGKILL) while clients run statements;
// after a restart the audit chain verifies and every statement a client saw
// succeed is in it.
func TestCLI_crash(t *testing.T) {
	data := t.TempDir()
	gw, admin := startDevIn(t, data, "--policy", "../../proxy/testdata/allow-all")
	tok, err := snowgate(t, "token", "--as", "analyst", "--addr", admin)
	if err != nil {
		t.Fatal(tok)
	}
	host, port, _ := net.SplitHostPort(gw)
	dsn, _ := sf.ParseDSN(fmt.Sprintf("%s:%s/DEMO/PUBLIC?account=snowgate&protocol=http&authenticator=oauth&token=%s&maxRetryCount=0", host, port, strings.TrimSpace(tok)))
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *dsn))
	// Not closed: after the kill, closing would have the driver retry logging
	// out of a dead gateway for a minute.
	if _, err := db.Exec(`CREATE TABLE crash (worker INT, n INT)`); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ids := make(chan string, 1)
				ctx, cancel := context.WithTimeout(sf.WithQueryIDChan(context.Background(), ids), 5*time.Second)
				_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO crash VALUES (%d, %d)`, w, n))
				cancel()
				if err != nil {
					return // the gateway is gone
				}
				mu.Lock()
				acked[<-ids] = true
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	v, _ := devs.Load(admin)
	cmd := v.(*exec.Cmd)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL, mid-flight
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	// Workers still in the driver retry against the dead gateway for a long
	// while; an answer received before the kill is noted within moments.
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	seen := maps.Clone(acked)
	mu.Unlock()
	if len(seen) < 10 {
		t.Fatalf("only %d statements succeeded before the kill", len(seen))
	}

	// Restart on the same data, then stop cleanly.
	_, admin2 := startDevIn(t, data, "--policy", "../../proxy/testdata/allow-all")
	stopDev(t, admin2)

	trail := filepath.Join(data, "audit.db")
	if out, err := snowgate(t, "audit", "verify", "--db", trail); err != nil {
		t.Fatalf("audit verify after the crash: %v\n%s", err, out)
	}
	out, err := snowgate(t, "audit", "export", "--db", trail)
	if err != nil {
		t.Fatalf("audit export: %v\n%s", err, out)
	}
	recorded := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l struct {
			Event struct {
				Type    string `json:"type"`
				QueryID string `json:"query_id"`
			} `json:"event"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		if l.Event.Type == "statement" {
			recorded[l.Event.QueryID] = true
		}
	}
	missing := 0
	for id := range seen {
		if !recorded[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged statements are not in the trail", missing, len(seen))
	}
	t.Logf("%d statements acknowledged before the SIGKILL, all in the verified trail", len(seen))
}

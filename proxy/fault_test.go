package proxy_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/internal/pgtest"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/identity"
	"github.com/snowgate/snowgate/proxy/snowflake"
	"github.com/snowgate/snowgate/vault"
)

// The fault campaign: a gateway under a little load (several gosnowflake
// sessions sending allowed reads, masked reads as the agent, denials and
// inserts) while a part it depends on misbehaves, then comes back. Each
// case ends with the same invariants (faultRun.check).

// faultPassword is the stand-in's ADMIN password: the upstream credential
// that must appear in no log line and no error.
const faultPassword = "fault-upstream-pw-5Yq2"

// Fault modes of a faultProxy.
const (
	faultPass int32 = iota
	faultSlow       // every client→upstream read waits delay
	faultHang       // accepts and swallows requests: the upstream never answers
	faultDrop       // closes a connection after dropAfter response bytes
)

// faultProxy is a hand-written fault injector: a TCP proxy between the
// gateway's gosnowflake upstream and the stand-in's protocol server. There
// is no other way here to make a real upstream slow, hang or drop a
// connection in the middle of a result.
type faultProxy struct {
	ln        net.Listener
	target    string
	mode      atomic.Int32
	delay     time.Duration
	dropAfter int64
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
}

func startFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, delay: 100 * time.Millisecond, dropAfter: 16 << 10, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.reset(); p.wg.Wait() })
	return p
}

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[u] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, u, true)
		go p.pipe(u, c, false)
	}
}

// reset closes every proxied connection, as an upstream that restarts does.
func (p *faultProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// pipe copies from to to, injecting the current fault: requests
// (up) are delayed or swallowed, responses (down) cut short.
func (p *faultProxy) pipe(from, to net.Conn, up bool) {
	defer p.wg.Done()
	defer func() {
		from.Close()
		to.Close()
		p.mu.Lock()
		delete(p.conns, from)
		delete(p.conns, to)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	var sent int64
	for {
		n, err := from.Read(buf)
		if n > 0 {
			switch mode := p.mode.Load(); {
			case up && mode == faultHang:
				n = 0
			case up && mode == faultSlow:
				time.Sleep(p.delay)
			case !up && mode == faultDrop:
				if sent+int64(n) > p.dropAfter {
					to.Write(buf[:p.dropAfter-sent])
					return // dropped in the middle of a response
				}
				sent += int64(n)
			}
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// syncBuffer collects the gateway's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// faultGateway starts a gateway with the default policy whose upstream is
// gosnowflake to upstream (host:port) as ADMIN, recording into trail and
// logging into logs.
func faultGateway(t *testing.T, st *devstack.Stack, upstream string, trail proxy.Auditor, logger *slog.Logger) string {
	t.Helper()
	verifier, err := identity.New([]identity.Issuer{{URL: st.Issuer.URL(), Audience: devidp.Audience}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := net.SplitHostPort(upstream)
	port, _ := strconv.Atoi(portStr)
	gw, err := proxy.New(proxy.Config{
		Name: "gateway", Auth: verifier, Decider: st.Engine, Audit: trail, Logger: logger,
		Upstream:              &snowflake.Upstream{Account: "upstream", Host: host, Port: port, Protocol: "http", LoginTimeout: 10 * time.Second},
		Credentials:           vault.Static{User: "ADMIN", Password: faultPassword},
		Defaults:              proxy.OpenParams{Database: "DEMO", Schema: "PUBLIC"},
		FoldQuotedIdentifiers: true,
		PingPong:              time.Second,
		AbandonAfter:          3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return serveOn(t, gw)
}

const (
	codeTimeout = -2 // the client's own deadline ended the statement
	codeOther   = -1 // an error that is not a Snowflake error
	largeRows   = 4000
	largeSQL    = `SELECT a.name, a.city, b.id FROM customers a, customers b WHERE b.id <= 20`
)

type faultOp struct {
	phase, kind string
	code        int
	qid         string
	val         int64 // the value an insert wrote
	err         string
}

// faultRun is one case: the stack, the clients, what they saw.
type faultRun struct {
	t              *testing.T
	st             *devstack.Stack
	direct         *sql.DB // the stand-in itself, unguarded: raw values and upstream effects
	analyst, agent *sql.DB
	secrets        []string
	logs           *syncBuffer
	logger         *slog.Logger
	raw            map[string]bool
	next           atomic.Int64
	mu             sync.Mutex
	ops            []faultOp
	baseline       int
}

func newFaultRun(t *testing.T) *faultRun {
	t.Helper()
	st, err := devstack.Start(context.Background(), devstack.Options{StandinPassword: faultPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	r := &faultRun{t: t, st: st, logs: &syncBuffer{}, raw: map[string]bool{}, secrets: []string{faultPassword}}
	r.next.Store(100000)
	r.logger = slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	host, port, _ := net.SplitHostPort(st.StandinAddr)
	p, _ := strconv.Atoi(port)
	r.direct = sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{Account: "standin", Host: host, Port: p, Protocol: "http",
		User: "ADMIN", Password: faultPassword, Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 10 * time.Second}))
	t.Cleanup(func() { r.direct.Close() })
	if _, err := r.direct.Exec(`CREATE TABLE fault_rows (v BIGINT)`); err != nil {
		t.Fatal(err)
	}
	rows, err := r.direct.Query(`SELECT email, ssn FROM customers`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e, s string
		if err := rows.Scan(&e, &s); err != nil {
			t.Fatal(err)
		}
		r.raw[e], r.raw[s] = true, true
	}
	if err := rows.Err(); err != nil || len(r.raw) < 300 {
		t.Fatalf("raw values: %d, %v", len(r.raw), err)
	}
	return r
}

// connect opens the analyst's and the agent's clients to the gateway at
// addr, runs one of each statement and takes the goroutine baseline.
func (r *faultRun) connect(addr string) {
	r.t.Helper()
	open := func(as string) *sql.DB {
		tok, err := r.st.Issuer.Token(as)
		if err != nil {
			r.t.Fatal(err)
		}
		r.secrets = append(r.secrets, tok)
		host, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{Account: "snowgate", Host: host, Port: p, Protocol: "http",
			Authenticator: sf.AuthTypeOAuth, Token: tok, Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 10 * time.Second}))
		// A session per worker, kept: none waits for another's or for a login.
		db.SetMaxOpenConns(10)
		db.SetMaxIdleConns(10)
		return db
	}
	r.analyst, r.agent = open("analyst"), open("agent")
	ops := r.load("warm-up", 0, 20*time.Second, true)
	for _, op := range ops {
		if want := wantCode(op.kind); !expected(op) {
			r.t.Fatalf("warm-up %s: code %d (%s), want %d", op.kind, op.code, op.err, want)
		}
	}
	r.baseline = settledGoroutines(0, 2*time.Second)
}

// expected says whether op got the answer its kind gets with nothing
// broken. A policy evaluation that times out on a saturated machine is
// refused (fail closed, 003003): expected too.
func expected(op faultOp) bool {
	return op.code == wantCode(op.kind) || op.code == 3003 && strings.Contains(op.err, "policy evaluation timed out")
}

func wantCode(kind string) int {
	if kind == "deny" {
		return 3001
	}
	return 0
}

// load runs every kind of statement from its own goroutine, again and
// again for d (at least once each), each statement bounded by timeout.
func (r *faultRun) load(phase string, d, timeout time.Duration, large bool) []faultOp {
	kinds := []string{"read", "read", "masked", "masked", "deny", "insert", "insert"}
	if large {
		kinds = append(kinds, "large")
	}
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ops []faultOp
	for _, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := true; first || time.Now().Before(end); first = false {
				op := r.do(phase, k, timeout)
				mu.Lock()
				ops = append(ops, op)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.mu.Lock()
	r.ops = append(r.ops, ops...)
	r.mu.Unlock()
	r.t.Logf("%-10s %s", phase, tally(ops))
	seen := map[int]bool{}
	for _, op := range ops {
		if op.code != 0 && op.code != 3001 && !seen[op.code] {
			seen[op.code] = true
			r.t.Logf("%-10s %s %d: %.200s", phase, op.kind, op.code, op.err)
		}
	}
	return ops
}

func tally(ops []faultOp) string {
	n := map[string]map[int]int{}
	for _, op := range ops {
		if n[op.kind] == nil {
			n[op.kind] = map[int]int{}
		}
		n[op.kind][op.code]++
	}
	var out []string
	for k, codes := range n {
		var cs []string
		for c, m := range codes {
			cs = append(cs, fmt.Sprintf("%d×%d", c, m))
		}
		sort.Strings(cs)
		out = append(out, k+": "+strings.Join(cs, " "))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

func (r *faultRun) do(phase, kind string, timeout time.Duration) faultOp {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	qc := make(chan string, 1)
	ctx = sf.WithQueryIDChan(ctx, qc)
	op := faultOp{phase: phase, kind: kind}
	var err error
	switch kind {
	case "read":
		var n int
		if err = r.analyst.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&n); err == nil && n != 200 {
			r.t.Errorf("%s: count(*) = %d acknowledged, want 200", phase, n)
		}
	case "masked":
		err = r.rows(ctx, phase, r.agent, `SELECT email, ssn FROM customers ORDER BY id LIMIT 20`, 20, true)
	case "deny":
		_, err = r.analyst.ExecContext(ctx, `GRANT ROLE SYSADMIN TO USER mallory`)
	case "insert":
		op.val = r.next.Add(1)
		_, err = r.analyst.ExecContext(ctx, fmt.Sprintf(`INSERT INTO fault_rows VALUES (%d)`, op.val))
	case "large":
		err = r.rows(ctx, phase, r.analyst, largeSQL, largeRows, false)
	}
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		op.code = codeTimeout
	default:
		if op.code = snowflakeCode(err); op.code == -1 {
			op.code = codeOther
		}
	}
	if err != nil {
		op.err = err.Error()
	}
	select {
	case op.qid = <-qc:
	default:
	}
	return op
}

// rows reads a whole result; one that ends without an error must be
// complete, and the agent's must hold no raw value.
func (r *faultRun) rows(ctx context.Context, phase string, db *sql.DB, q string, want int, masked bool) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		n++
		for _, v := range vals {
			if masked && r.raw[v.String] {
				r.t.Errorf("%s: the agent got a raw value: %q", phase, v.String)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != want {
		r.t.Errorf("%s: %d rows acknowledged as a complete result, want %d", phase, n, want)
	}
	return nil
}

// probe runs allowed reads until one succeeds and returns how long that took.
func (r *faultRun) probe(phase string, within time.Duration) time.Duration {
	r.t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if op := r.do(phase, "read", 5*time.Second); op.code == 0 {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("%s: no statement succeeded within %s", phase, within)
	return 0
}

// settledGoroutines waits up to d for the goroutine count to come down to
// at most limit (any count when limit is 0) and returns the last count.
func settledGoroutines(limit int, d time.Duration) int {
	deadline := time.Now().Add(d)
	n := runtime.NumGoroutine()
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if limit > 0 && m <= limit {
			return m
		}
		n = m
	}
	return n
}

// check closes the clients and verifies the invariants: the trail
// verifies; every statement acknowledged to a client, and every row an
// insert left upstream, has its statement record; no insert refused with
// 003006 ran; no credential in a log line or an error message; the
// goroutines come back to the baseline.
func (r *faultRun) check(store audit.Store) {
	t := r.t
	t.Helper()
	ctx := context.Background()
	r.analyst.Close()
	r.agent.Close()
	sf.SnowflakeTransport.CloseIdleConnections()

	r.mu.Lock()
	ops := r.ops
	r.mu.Unlock()
	// A commit cut short may have happened even so: the statement's record
	// is in the trail, the client was refused with 003006 and it never ran;
	// its outcome says it did not run.
	refused := map[string]bool{}
	for _, op := range ops {
		if op.code == 3006 && op.qid != "" {
			refused[op.qid] = true
		}
	}
	// Outcomes are written shortly after their statement (deferred).
	var statements map[string]audit.Event // by query id
	var sqls map[string]bool
	var outcomes map[string]bool
	var notRun map[string]bool // outcomes of statements refused though recorded
	var kinds map[string]int   // outcomes by error code
	var dup int                // outcomes written twice
	for deadline := time.Now().Add(10 * time.Second); ; {
		statements, sqls, outcomes, notRun, kinds = map[string]audit.Event{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]int{}
		dup = 0
		err := store.Scan(ctx, audit.Filter{}, func(rec audit.Record) error {
			env, err := rec.Decode()
			if err != nil {
				return err
			}
			switch e := env.Event; e.Type {
			case audit.TypeStatement:
				statements[e.QueryID] = e
				sqls[e.Statement.SQL] = true
			case audit.TypeOutcome:
				if outcomes[e.QueryID] {
					dup++
				}
				outcomes[e.QueryID] = true
				how := "ok"
				if e.Outcome.ErrorCode != "" {
					how = e.Outcome.ErrorCode
				}
				if e.Outcome.Abandoned {
					how += " abandoned"
				}
				if e.Outcome.NotRun {
					how, notRun[e.QueryID] = "not run", true
				}
				kinds[how]++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		missing := 0
		for q, e := range statements {
			if (e.Decision.Action == "allow" || e.Decision.Action == "mask") && !outcomes[q] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d statements that ran (allow, mask) have no outcome record", missing)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if dup > 0 {
		t.Errorf("%d outcomes are in the trail twice", dup)
	}
	rep, err := audit.Verify(ctx, store, audit.VerifyOptions{})
	if err != nil || !rep.OK() {
		t.Errorf("the trail does not verify: %v %+v", err, rep.Problems)
	}

	recordedRefused := 0
	for q := range refused {
		if _, ok := statements[q]; ok {
			recordedRefused++
			if !notRun[q] {
				t.Errorf("statement %s was refused with 003006 though recorded, and its outcome does not say it did not run", q)
			}
		}
	}
	acked := 0
	for _, op := range ops {
		if op.code != 0 {
			continue
		}
		acked++
		if notRun[op.qid] {
			t.Errorf("%s %s acknowledged as %s, and its outcome says it did not run", op.phase, op.kind, op.qid)
		}
		if op.qid == "" {
			t.Errorf("%s %s acknowledged without a query id", op.phase, op.kind)
		} else if _, ok := statements[op.qid]; !ok {
			t.Errorf("%s %s acknowledged as %s, not in the trail", op.phase, op.kind, op.qid)
		}
	}
	inserted := map[int64]bool{}
	rows, err := r.direct.Query(`SELECT v FROM fault_rows`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int64
		rows.Scan(&v)
		inserted[v] = true
		if !sqls[fmt.Sprintf(`INSERT INTO fault_rows VALUES (%d)`, v)] {
			t.Errorf("row %d is upstream with no statement record: it ran unrecorded", v)
		}
	}
	rows.Close()
	for _, op := range ops {
		if op.kind != "insert" {
			continue
		}
		if op.code == 0 && !inserted[op.val] {
			t.Errorf("%s: insert of %d acknowledged, not upstream", op.phase, op.val)
		}
		if op.code == 3006 && inserted[op.val] {
			t.Errorf("%s: insert of %d refused with 003006 but ran upstream", op.phase, op.val)
		}
	}

	logs := r.logs.String()
	for _, s := range r.secrets {
		if strings.Contains(logs, s) {
			t.Errorf("a credential (%.6s…) is in the gateway's log", s)
		}
		for _, op := range ops {
			if strings.Contains(op.err, s) {
				t.Errorf("a credential (%.6s…) is in an error a client saw: %s", s, op.kind)
			}
		}
	}

	const slack = 8 // idle keep-alive connections come and go
	if n := settledGoroutines(r.baseline+slack, 20*time.Second); n > r.baseline+slack {
		var b bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Errorf("goroutines: %d, baseline %d: some were left behind\n%s", n, r.baseline, b.String())
	}
	t.Logf("trail: %d statement records, %d with outcomes %v, %d refused with 003006 though recorded; %d statements acknowledged; %d rows inserted upstream",
		len(statements), len(outcomes), kinds, recordedRefused, acked, len(inserted))
}

// TestFault_upstream: the upstream (gosnowflake to the stand-in through a
// faultProxy) is slow, then hangs, then drops connections in the middle
// of a large result, then comes back.
func TestFault_upstream(t *testing.T) {
	r := newFaultRun(t)
	fp := startFaultProxy(t, r.st.StandinAddr)
	trail, err := audit.Open(context.Background(), audit.Config{DSN: filepath.Join(t.TempDir(), "audit.db"), Replica: "fault", Logger: r.logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { trail.Close() })
	r.connect(faultGateway(t, r.st, fp.ln.Addr().String(), trail, r.logger))

	fp.mode.Store(faultSlow)
	for _, op := range r.load("slow", 3*time.Second, 20*time.Second, true) {
		if want := wantCode(op.kind); !expected(op) {
			t.Errorf("slow upstream: %s got %d (%s), want %d", op.kind, op.code, op.err, want)
		}
	}

	fp.mode.Store(faultHang)
	for _, op := range r.load("hang", 3*time.Second, 2*time.Second, false) {
		if want := map[string]int{"deny": 3001}[op.kind]; op.kind == "deny" && op.code != want || op.kind != "deny" && op.code == 0 {
			t.Errorf("hanging upstream: %s got %d (%s)", op.kind, op.code, op.err)
		}
	}

	fp.mode.Store(faultDrop)
	fp.reset() // the hung connections go: the next ones are cut short
	for _, op := range r.load("drop", 3*time.Second, 10*time.Second, true) {
		if op.kind == "large" && op.code == 0 {
			t.Errorf("a large result came whole through an upstream that drops after %d bytes", fp.dropAfter)
		}
		if op.code != 0 && op.code != 3001 && op.code != 100001 {
			t.Errorf("dropping upstream: %s got %d (%s), want 100001, the upstream connection failed", op.kind, op.code, op.err)
		}
	}

	fp.mode.Store(faultPass)
	fp.reset()
	t.Logf("upstream back: first successful statement after %s", r.probe("back", 30*time.Second))
	for _, op := range r.load("back", 2*time.Second, 20*time.Second, true) {
		if want := wantCode(op.kind); !expected(op) {
			t.Errorf("upstream back: %s got %d (%s), want %d", op.kind, op.code, op.err, want)
		}
	}
	r.check(trail.Store())
}

// TestFault_auditPostgres: the audit trail is on PostgreSQL; its
// connections are terminated under load (a restart), then it refuses
// connections (down) and comes back. Meanwhile statements are refused with
// 003006 and none runs; afterwards the gateway records again by itself.
func TestFault_auditPostgres(t *testing.T) {
	dsn := pgtest.DSN(t, "fault")
	r := newFaultRun(t)
	ctx := context.Background()
	trail, err := audit.Open(ctx, audit.Config{DSN: dsn, Replica: "fault", Logger: r.logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { trail.Close() })
	r.connect(faultGateway(t, r.st, r.st.StandinAddr, trail, r.logger))

	// The test's database alone is stopped, as TestReadyz_auditPostgres
	// does: the other tests' databases on the shared server are untouched.
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	pg, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close(context.Background()) })
	exec := func(sql string) {
		t.Helper()
		if _, err := pg.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	terminate := "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "' AND pid <> pg_backend_pid()"

	// A restart: every connection of the trail's pool is cut under load.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			time.Sleep(500 * time.Millisecond)
			if _, err := pg.Exec(ctx, terminate); err != nil {
				t.Errorf("terminate: %v", err)
			}
		}
	}()
	for _, op := range r.load("restart", 2*time.Second, 20*time.Second, false) {
		if want := wantCode(op.kind); !expected(op) && op.code != 3006 {
			t.Errorf("trail restarting: %s got %d (%s), want %d or 3006", op.kind, op.code, op.err, want)
		}
	}
	<-done

	// Down: no connection is accepted.
	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	exec(terminate)
	for _, op := range r.load("down", 3*time.Second, 20*time.Second, false) {
		if op.code != 3006 {
			t.Errorf("trail down: %s got %d (%s), want 003006", op.kind, op.code, op.err)
		}
	}

	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	t.Logf("trail back: first successful statement after %s", r.probe("back", 30*time.Second))
	for _, op := range r.load("back", 2*time.Second, 20*time.Second, false) {
		if want := wantCode(op.kind); !expected(op) {
			t.Errorf("trail back: %s got %d (%s), want %d", op.kind, op.code, op.err, want)
		}
	}
	r.check(trail.Store())
}

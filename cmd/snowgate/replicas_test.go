package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/internal/pgtest"
)

// replicaPassword is the stand-in's ADMIN password: the upstream
// credential that must appear in no log line and no error.
const replicaPassword = "replica-upstream-pw-8Kd3"

// TestReplicas_killAndDrain: two `snowgate serve` replicas share one
// PostgreSQL (audit trail, approvals, classifications) and one upstream
// (snowgate dev's stand-in), behind a layer-4 balancer with client-IP
// affinity. gosnowflake clients send allowed reads, the agent's masked
// reads, denials and inserts of unique values through the balancer.
//
//   - Replica A is killed (SIGKILL) under load: its clients' statements
//     fail, they log in again through the balancer, which sends them to B,
//     and carry on; B serves throughout and stays ready.
//   - A's replacement starts, as a container restarted in its pod does:
//     with A's host name, so it goes on with A's chain in the trail. B is
//     told to stop (SIGTERM) under load: it drains and exits 0, and its
//     clients move to the replacement the same way.
//
// Then: the trail verifies; every statement a client saw succeed is in
// it; every row an insert left upstream has its statement record (nothing
// ran unrecorded); what a replica that drained recorded reached its
// clients, with its outcomes and session ends; the agent never got a raw
// value; neither the upstream password nor a token is in a replica's log
// or in an error a client saw.
func TestReplicas_killAndDrain(t *testing.T) {
	dsn := pgtest.DSN(t, "replicas")
	_, dev := startDev(t, "--standin-password", replicaPassword, "--mcp-addr", "off")
	opts := func(name string) serveOptions {
		return serveOptions{dev: dev, password: replicaPassword, store: dsn, replica: name, logLevel: "debug"}
	}
	a := startServeWith(t, opts("snowgate-a"))
	b := startServeWith(t, opts("snowgate-b"))
	replicas := []*served{a, b}

	r := newReplicaRun(t, dev)
	lb := newBalancer(t, a, b)
	// Each client has an address of its own; half of each kind are pinned
	// to A, half to B, as the Service's affinity would have spread them.
	kinds := []string{"read", "masked", "deny", "insert"}
	for i := range 16 {
		c := r.client(i, kinds[i/4], lb)
		lb.pin(c.ip, replicas[i%2])
	}
	r.mark("steady")
	stopLoad := r.start()
	defer stopLoad()
	r.awaitServed(lb.pinnedTo(a, b), time.Time{})
	time.Sleep(2 * time.Second)
	for _, c := range r.clients {
		if !r.servedSince(c, time.Time{}) {
			t.Fatalf("client %d (%s) got no expected answer before any fault: %s", c.n, c.kind, r.lastErr(c))
		}
	}

	// (a) SIGKILL to A, under load; B is watched meanwhile.
	onA := lb.pinnedTo(a)
	watch := watchReady(b)
	killed := time.Now()
	r.mark("killed")
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	// What A recorded verifies as it was left, tail included.
	out, err := snowgate(t, "audit", "verify", "--db", dsn, "--replica", "snowgate-a", "--output", "json")
	var left struct {
		OK       bool `json:"ok"`
		Replicas []struct {
			LastSeq int64 `json:"last_seq"`
		} `json:"replicas"`
	}
	if err != nil || json.Unmarshal([]byte(out), &left) != nil || !left.OK || len(left.Replicas) != 1 {
		t.Fatalf("audit verify of the killed replica's chain: %v\n%s", err, out)
	}
	r.awaitServed(onA, killed)
	time.Sleep(time.Second) // and B carries both halves for a while
	if down := watch(); len(down) > 0 {
		t.Errorf("the surviving replica was not ready while A was down, at %v", down)
	}
	r.recovery("SIGKILL of A", killed, onA)
	for _, c := range r.clients {
		if onA[c.ip] {
			if !r.servedSince(c, killed) {
				t.Errorf("client %d (%s) of the killed replica was not served again: %s", c.n, c.kind, r.lastErr(c))
			}
			continue
		}
		for _, op := range r.opsOf(c, killed, time.Now()) {
			if !expected(op) {
				t.Errorf("client %d (%s) of the surviving replica: code %d (%.200s), want %d", c.n, c.kind, op.code, op.err, wantCode(op.kind))
			}
		}
	}

	// (b) A's replacement joins; then SIGTERM to B, under load.
	cr := startServeWith(t, opts("snowgate-a"))
	waitReady(t, cr)
	lb.add(cr)
	r.mark("replaced")
	time.Sleep(time.Second)
	onB := lb.pinnedTo(b)
	termed := time.Now()
	r.mark("drain")
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	awaitExit(t, b, "B")
	t.Logf("replica B drained and exited %s after SIGTERM", time.Since(termed).Round(time.Millisecond))
	r.mark("after")
	r.awaitServed(onB, termed)
	time.Sleep(time.Second)
	stopLoad()
	r.recovery("SIGTERM of B", termed, onB)
	// Every client is served again: the deployment recovered by itself.
	for _, c := range r.clients {
		if !r.servedSince(c, termed) {
			t.Errorf("client %d (%s) was not served again after B stopped: %s", c.n, c.kind, r.lastErr(c))
		}
	}

	r.closeClients()
	if err := cr.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	awaitExit(t, cr, "A's replacement")
	r.check(dsn, []process{
		{name: "A", chain: "snowgate-a", sv: a, killed: true},
		{name: "B", chain: "snowgate-b", sv: b},
		{name: "A's replacement", chain: "snowgate-a", sv: cr, from: left.Replicas[0].LastSeq + 1},
	}, lb)
}

// process is one replica process, and where its records are in the trail:
// its chain from seq from on, until the next process of the chain.
type process struct {
	name   string
	chain  string
	sv     *served
	from   int64
	killed bool // SIGKILL: it did not drain
}

// processOf names the process that wrote record seq of chain.
func processOf(ps []process, chain string, seq int64) string {
	name := ""
	var from int64 = -1
	for _, p := range ps {
		if p.chain == chain && p.from <= seq && p.from > from {
			name, from = p.name, p.from
		}
	}
	return name
}

// awaitExit waits for a replica told to stop, which exits 0.
func awaitExit(t *testing.T, sv *served, name string) {
	t.Helper()
	select {
	case <-sv.exited:
		if sv.err != nil {
			t.Errorf("replica %s exited with %v after SIGTERM, want 0", name, sv.err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("replica %s did not exit after SIGTERM", name)
	}
}

// replicaRun is the clients of one test and what they saw.
type replicaRun struct {
	t       *testing.T
	direct  *sql.DB // the stand-in itself, unguarded: raw values and upstream effects
	raw     map[string]bool
	secrets []string
	tokens  map[string]string // identity → token
	next    atomic.Int64
	cur     atomic.Value // the current phase's name
	mu      sync.Mutex
	ops     []replicaOp
	clients []*replicaClient
	closing sync.WaitGroup // sessions being closed in the background
}

type replicaOp struct {
	client     int
	phase      string
	kind       string
	start, end time.Time
	code       int // 0 success, a Snowflake error number, or codeOther / codeTimeout
	qid        string
	val        int64 // the value an insert wrote
	err        string
}

const (
	codeOther   = -1 // an error that is not a Snowflake error
	codeTimeout = -2 // the client's own deadline ended the statement
)

func newReplicaRun(t *testing.T, dev string) *replicaRun {
	t.Helper()
	r := &replicaRun{t: t, raw: map[string]bool{}, tokens: map[string]string{}, secrets: []string{replicaPassword}}
	r.next.Store(500000)
	for _, as := range []string{"analyst", "agent"} {
		tok, err := snowgate(t, "token", "--as", as, "--addr", dev)
		if err != nil {
			t.Fatal(tok)
		}
		r.tokens[as] = strings.TrimSpace(tok)
		r.secrets = append(r.secrets, r.tokens[as])
	}
	host, port, _ := net.SplitHostPort(devStandinAddr(t, dev))
	p, _ := strconv.Atoi(port)
	r.direct = sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{Account: "standin", Host: host, Port: p, Protocol: "http",
		User: "ADMIN", Password: replicaPassword, Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 10 * time.Second}))
	t.Cleanup(func() { r.direct.Close() })
	if _, err := r.direct.Exec(`CREATE TABLE replica_rows (v BIGINT)`); err != nil {
		t.Fatal(err)
	}
	rows, err := r.direct.Query(`SELECT email, ssn FROM customers`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
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

// replicaClient is one application connection: its own client address
// (127.0.0.N, so the balancer's affinity tells clients apart), its own
// HTTP transport and one session at a time. When a statement does not get
// the answer its kind gets, it logs in again, as an application whose
// connection broke reconnects.
type replicaClient struct {
	r    *replicaRun
	n    int
	kind string
	as   string
	ip   string
	tr   *http.Transport
	cfg  sf.Config
	db   *sql.DB
}

func (r *replicaRun) client(n int, kind string, lb *balancer) *replicaClient {
	c := &replicaClient{r: r, n: n, kind: kind, as: "analyst", ip: fmt.Sprintf("127.0.0.%d", 11+n)}
	if kind == "masked" {
		c.as = "agent"
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(c.ip)}, Timeout: 5 * time.Second}
	c.tr = &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	host, port, _ := net.SplitHostPort(lb.ln.Addr().String())
	p, _ := strconv.Atoi(port)
	c.cfg = sf.Config{Account: "snowgate", Host: host, Port: p, Protocol: "http", Authenticator: sf.AuthTypeOAuth, Token: r.tokens[c.as],
		Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 10 * time.Second, Transporter: c.tr}
	c.open()
	r.mu.Lock()
	r.clients = append(r.clients, c)
	r.mu.Unlock()
	return c
}

// open starts a new session (the driver logs in on first use).
func (c *replicaClient) open() {
	c.db = sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, c.cfg))
	c.db.SetMaxOpenConns(1)
}

// reconnect leaves the current session (closed in the background: its
// replica may be gone) and opens another.
func (c *replicaClient) reconnect() {
	old := c.db
	c.r.closing.Add(1)
	go func() { defer c.r.closing.Done(); old.Close() }()
	c.tr.CloseIdleConnections()
	c.open()
}

func (c *replicaClient) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		op := c.do()
		c.r.mu.Lock()
		c.r.ops = append(c.r.ops, op)
		c.r.mu.Unlock()
		if !expected(op) {
			c.reconnect()
		}
	}
}

func (c *replicaClient) do() replicaOp {
	r := c.r
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	qc := make(chan string, 1)
	ctx = sf.WithQueryIDChan(ctx, qc)
	op := replicaOp{client: c.n, kind: c.kind, phase: r.cur.Load().(string), start: time.Now()}
	var err error
	switch c.kind {
	case "read":
		var n int
		if err = c.db.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&n); err == nil && n != 200 {
			r.t.Errorf("client %d: count(*) = %d acknowledged, want 200", c.n, n)
		}
	case "masked":
		err = c.masked(ctx)
	case "deny":
		_, err = c.db.ExecContext(ctx, `GRANT ROLE SYSADMIN TO USER mallory`)
	case "insert":
		op.val = r.next.Add(1)
		_, err = c.db.ExecContext(ctx, insertSQL(op.val))
	}
	op.end = time.Now()
	var se *sf.SnowflakeError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		op.code = codeTimeout
	case errors.As(err, &se):
		op.code = se.Number
	default:
		op.code = codeOther
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

// masked reads the agent's view of customers: every value is masked.
func (c *replicaClient) masked(ctx context.Context) error {
	rows, err := c.db.QueryContext(ctx, `SELECT email, ssn FROM customers ORDER BY id LIMIT 20`)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var email, ssn sql.NullString
		if err := rows.Scan(&email, &ssn); err != nil {
			return err
		}
		n++
		for _, v := range []string{email.String, ssn.String} {
			if c.r.raw[v] {
				c.r.t.Errorf("client %d: the agent got a raw value: %q", c.n, v)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != 20 {
		c.r.t.Errorf("client %d: %d rows acknowledged as a complete result, want 20", c.n, n)
	}
	return nil
}

// expected says whether op got the answer its kind gets with nothing
// broken. A policy evaluation that times out on a saturated machine is
// refused (fail closed, 003003): expected too.
func expected(op replicaOp) bool {
	return op.code == wantCode(op.kind) || op.code == 3003 && strings.Contains(op.err, "policy evaluation timed out")
}

func wantCode(kind string) int {
	if kind == "deny" {
		return 3001
	}
	return 0
}

// start runs every client until the returned function is called.
func (r *replicaRun) start() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range r.clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.run(done) }()
	}
	return sync.OnceFunc(func() { close(done); wg.Wait() })
}

// mark starts a phase: the statements sent from now on are labelled name.
func (r *replicaRun) mark(name string) { r.cur.Store(name) }

// awaitServed waits, 60 s at most, until each client in moved has had a
// statement sent after since answered as its kind expects.
func (r *replicaRun) awaitServed(moved map[string]bool, since time.Time) {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		all := true
		for _, c := range r.clients {
			all = all && (!moved[c.ip] || r.servedSince(c, since))
		}
		if all {
			return
		}
	}
}

// opsOf is what client c sent from since until until.
func (r *replicaRun) opsOf(c *replicaClient, since, until time.Time) []replicaOp {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []replicaOp
	for _, op := range r.ops {
		if op.client == c.n && !op.start.Before(since) && op.start.Before(until) {
			out = append(out, op)
		}
	}
	return out
}

// servedSince says whether a statement of c's sent after since got its
// expected answer.
func (r *replicaRun) servedSince(c *replicaClient, since time.Time) bool {
	for _, op := range r.opsOf(c, since, time.Now()) {
		if expected(op) {
			return true
		}
	}
	return false
}

func (r *replicaRun) lastErr(c *replicaClient) string {
	ops := r.opsOf(c, time.Time{}, time.Now())
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].err != "" {
			return fmt.Sprintf("code %d: %.300s", ops[i].code, ops[i].err)
		}
	}
	return "no error"
}

// recovery logs, for the clients whose replica went away at at, what they
// saw and how long it was until they were served again: from at to the end
// of the first statement with its expected answer sent after their first
// failure.
func (r *replicaRun) recovery(what string, at time.Time, moved map[string]bool) {
	r.t.Helper()
	seen := map[string]int{}
	var times []time.Duration
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	for _, c := range r.clients {
		if !moved[c.ip] {
			continue
		}
		var failed *replicaOp
		for _, op := range r.opsOf(c, at.Add(-20*time.Second), time.Now()) {
			if op.end.Before(at) {
				continue
			}
			if !expected(op) {
				seen[fmt.Sprintf("%d %.160s", op.code, op.err)]++
				if failed == nil {
					failed = &op
				}
				continue
			}
			if failed != nil && !op.start.Before(failed.end) {
				times = append(times, op.end.Sub(at))
				r.t.Logf("%s: client %d (%s): its statement sent %s after failed %s after (it took %s); served again %s after",
					what, c.n, c.kind, ms(failed.start.Sub(at)), ms(failed.end.Sub(at)), ms(failed.end.Sub(failed.start)), ms(op.end.Sub(at)))
				break
			}
		}
		if failed == nil {
			r.t.Logf("%s: client %d (%s) saw no failure", what, c.n, c.kind)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	var ts []string
	for _, d := range times {
		ts = append(ts, ms(d))
	}
	r.t.Logf("%s: %d clients moved; served again after %s", what, len(moved), strings.Join(ts, ", "))
	for s, n := range seen {
		r.t.Logf("%s: they saw %d× code %s", what, n, s)
	}
}

// closeClients ends every session and waits (bounded) for the closes.
func (r *replicaRun) closeClients() {
	for _, c := range r.clients {
		r.closing.Add(1)
		go func() { defer r.closing.Done(); c.db.Close() }()
	}
	done := make(chan struct{})
	go func() { r.closing.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		r.t.Log("some sessions were still closing after 60 s")
	}
}

// check verifies the invariants against the trail at dsn and the
// upstream; every process not killed stopped on SIGTERM.
func (r *replicaRun) check(dsn string, procs []process, lb *balancer) {
	t := r.t
	t.Helper()
	r.mu.Lock()
	ops := r.ops
	r.mu.Unlock()
	phases := map[string][]replicaOp{}
	var order []string
	for _, op := range ops {
		if phases[op.phase] == nil {
			order = append(order, op.phase)
		}
		phases[op.phase] = append(phases[op.phase], op)
	}
	for _, p := range order {
		t.Logf("%-8s %s", p, tally(phases[p]))
	}

	out, err := snowgate(t, "audit", "verify", "--db", dsn)
	if err != nil {
		t.Errorf("audit verify: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		t.Logf("audit verify: %s", line)
	}
	for _, p := range procs {
		line := regexp.MustCompile(`(?m)^replica ` + p.chain + `:.*$`).FindString(out)
		switch {
		case line == "":
			t.Errorf("audit verify does not report chain %s", p.chain)
		case strings.Contains(line, "rest on the hash chain alone"):
			// The last process of each chain drained: its last checkpoint
			// covers the last record.
			t.Errorf("chain %s ends with records after its last checkpoint: %s", p.chain, line)
		}
	}

	tr := readTrail(t, dsn, procs)
	// What ran on a replica that drained has its outcome, and its answer
	// reached its client (the driver learns the query id from the first
	// answer, a refusal's too); its sessions ended in the trail. What was
	// running on the killed one may have neither (outcomes are written
	// after the answer, and a crash may lose them), and its sessions never
	// end.
	answered := map[string]bool{}
	for _, op := range ops {
		if op.qid != "" {
			answered[op.qid] = true
		}
	}
	killed := map[string]bool{}
	for _, p := range procs {
		killed[p.name] = p.killed
	}
	noOutcome, unanswered, open := map[string]int{}, map[string]int{}, map[string]int{}
	for q, s := range tr.statements {
		if (s.action == "allow" || s.action == "mask") && !tr.outcomes[q] {
			noOutcome[s.process]++
		}
		if !answered[q] {
			unanswered[s.process]++
			if !killed[s.process] {
				t.Errorf("replica %s drained, yet the answer to its statement %s (%s, %.80s) reached no client", s.process, q, s.action, s.sql)
			}
		}
	}
	for id, p := range tr.sessions {
		if !tr.ended[id] {
			open[p]++
		}
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for _, p := range procs {
		t.Logf("replica %s: %d statement records (%d that ran without an outcome, %d whose answer reached no client), %d sessions never ended; %d connections from the balancer, %d clients moved away (first: %s)",
			p.name, tr.perProcess[p.name], noOutcome[p.name], unanswered[p.name], open[p.name], lb.conns[p.sv], lb.moves[p.sv], lb.whyMoved[p.sv])
		if tr.perProcess[p.name] == 0 {
			t.Errorf("replica %s recorded no statement: the clients did not reach it", p.name)
		}
		if !p.killed && noOutcome[p.name] > 0 {
			t.Errorf("replica %s drained, yet %d of its statements that ran have no outcome record", p.name, noOutcome[p.name])
		}
		if !p.killed && open[p.name] > 0 {
			t.Errorf("replica %s drained, yet %d of its sessions have no session_end record", p.name, open[p.name])
		}
	}

	acked := 0
	for _, op := range ops {
		if op.code != 0 {
			continue
		}
		acked++
		if op.qid == "" {
			t.Errorf("client %d (%s) acknowledged without a query id", op.client, op.kind)
		} else if _, ok := tr.statements[op.qid]; !ok {
			t.Errorf("client %d (%s) acknowledged as %s (%s), not in the trail", op.client, op.kind, op.qid, op.phase)
		}
	}
	inserted, failedRan := r.checkUpstream(ops, tr, killed)
	r.checkSecrets(ops, procs)
	t.Logf("trail: %d statement records, %d outcomes; %d statements acknowledged, each recorded; %d rows upstream, each recorded; %d inserts a client saw fail ran upstream (on the killed replica)",
		len(tr.statements), len(tr.outcomes), acked, inserted, failedRan)
}

func insertSQL(v int64) string { return fmt.Sprintf(`INSERT INTO replica_rows VALUES (%d)`, v) }

// checkUpstream: every row an insert left upstream has its statement
// record, every acknowledged insert is there and none refused with 003006
// is; an insert a client saw fail that ran even so was running when its
// replica was killed. It returns how many rows there are, and how many
// inserts a client saw fail ran even so.
func (r *replicaRun) checkUpstream(ops []replicaOp, tr trailRecords, killed map[string]bool) (rows, failedRan int) {
	t := r.t
	t.Helper()
	inserted := map[int64]bool{}
	res, err := r.direct.Query(`SELECT v FROM replica_rows`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	for res.Next() {
		var v int64
		if err := res.Scan(&v); err != nil {
			t.Fatal(err)
		}
		inserted[v] = true
		if _, ok := tr.sqls[insertSQL(v)]; !ok {
			t.Errorf("row %d is upstream with no statement record: it ran unrecorded", v)
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if op.kind != "insert" {
			continue
		}
		if op.code == 0 && !inserted[op.val] {
			t.Errorf("insert of %d acknowledged (%s), not upstream", op.val, op.phase)
		}
		if op.code == 3006 && inserted[op.val] {
			t.Errorf("insert of %d refused with 003006 but ran upstream", op.val)
		}
		if op.code != 0 && inserted[op.val] {
			failedRan++
			if p := tr.sqls[insertSQL(op.val)]; !killed[p] {
				t.Errorf("insert of %d ran on replica %s, which drained, but its client saw it fail: code %d (%.200s)", op.val, p, op.code, op.err)
			}
		}
	}
	return len(inserted), failedRan
}

// checkSecrets: neither the upstream password nor a token is in a
// replica's log or in an error a client saw.
func (r *replicaRun) checkSecrets(ops []replicaOp, procs []process) {
	t := r.t
	t.Helper()
	for _, p := range procs {
		logs := p.sv.log.String()
		for i, s := range r.secrets {
			if strings.Contains(logs, s) {
				t.Errorf("a credential (secret %d) is in replica %s's log", i, p.name)
			}
		}
	}
	for _, op := range ops {
		for i, s := range r.secrets {
			if strings.Contains(op.err, s) {
				t.Errorf("a credential (secret %d) is in an error client %d (%s) saw", i, op.client, op.kind)
			}
		}
	}
}

// trailRecords is what `snowgate audit export` says the trail holds.
type trailRecords struct {
	statements map[string]trailStatement // by query id
	sqls       map[string]string         // the statements' SQL → the process that recorded it
	outcomes   map[string]bool           // query ids with an outcome
	perProcess map[string]int            // statement records by process
	sessions   map[string]string         // session id → the process that started it
	ended      map[string]bool           // session ids with a session_end
}

type trailStatement struct{ process, sql, action string }

func readTrail(t *testing.T, dsn string, procs []process) trailRecords {
	t.Helper()
	out, err := snowgate(t, "audit", "export", "--db", dsn)
	if err != nil {
		t.Fatalf("audit export: %v\n%.2000s", err, out)
	}
	tr := trailRecords{statements: map[string]trailStatement{}, sqls: map[string]string{}, outcomes: map[string]bool{},
		perProcess: map[string]int{}, sessions: map[string]string{}, ended: map[string]bool{}}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l struct {
			Replica string `json:"replica"`
			Seq     int64  `json:"seq"`
			Event   struct {
				Type      string `json:"type"`
				SessionID string `json:"session_id"`
				QueryID   string `json:"query_id"`
				Statement struct {
					SQL string `json:"sql"`
				} `json:"statement"`
				Decision struct {
					Action string `json:"action"`
				} `json:"decision"`
			} `json:"event"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("export line %.300q: %v", line, err)
		}
		p := processOf(procs, l.Replica, l.Seq)
		switch e := l.Event; e.Type {
		case "statement":
			tr.statements[e.QueryID] = trailStatement{process: p, sql: e.Statement.SQL, action: e.Decision.Action}
			tr.sqls[e.Statement.SQL] = p
			tr.perProcess[p]++
		case "outcome":
			tr.outcomes[e.QueryID] = true
		case "session_start":
			tr.sessions[e.SessionID] = p
		case "session_end":
			tr.ended[e.SessionID] = true
		}
	}
	return tr
}

func tally(ops []replicaOp) string {
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

// balancer is a layer-4 load balancer as a Kubernetes Service with
// sessionAffinity: ClientIP is one (a hand-written stand-in: no cluster
// runs here). A new TCP connection goes to the backend its client address
// is pinned to while that backend's /readyz answers 200, else to the
// ready backend with the fewest clients pinned, which it is pinned to from
// then on; an established connection stays with its backend until either
// side closes it. Unlike kube-proxy, it learns that a backend is not
// ready at the next connection, not from probes seconds later.
type balancer struct {
	ln       net.Listener
	mu       sync.Mutex
	backends []*served
	pinned   map[string]*served // client address → backend
	conns    map[*served]int    // connections routed to each backend
	moves    map[*served]int    // clients that left each backend
	whyMoved map[*served]string // why the first one left
}

func newBalancer(t *testing.T, backends ...*served) *balancer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, backends: backends, pinned: map[string]*served{}, conns: map[*served]int{},
		moves: map[*served]int{}, whyMoved: map[*served]string{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	return b
}

func (b *balancer) add(sv *served) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, sv)
}

func (b *balancer) pin(ip string, sv *served) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pinned[ip] = sv
}

// pinnedTo is the set of client addresses pinned to any of backends.
func (b *balancer) pinnedTo(backends ...*served) map[string]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]bool{}
	for ip, be := range b.pinned {
		if slices.Contains(backends, be) {
			out[ip] = true
		}
	}
	return out
}

// candidates are the backends for a client: its own first, then the
// others, those with the fewest clients pinned first.
func (b *balancer) candidates(ip string) []*served {
	b.mu.Lock()
	defer b.mu.Unlock()
	load := map[*served]int{}
	for _, be := range b.pinned {
		load[be]++
	}
	out := append([]*served(nil), b.backends...)
	cur := b.pinned[ip]
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i] == cur) != (out[j] == cur) {
			return out[i] == cur
		}
		return load[out[i]] < load[out[j]]
	})
	return out
}

func (b *balancer) serve(c net.Conn) {
	defer c.Close()
	ip, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	for _, be := range b.candidates(ip) {
		if why := notReady(be); why != "" {
			b.mu.Lock()
			if b.pinned[ip] == be {
				if b.moves[be] == 0 {
					b.whyMoved[be] = why
				}
				b.moves[be]++
			}
			b.mu.Unlock()
			continue
		}
		up, err := net.Dial("tcp", be.gateway)
		if err != nil {
			continue
		}
		b.mu.Lock()
		b.pinned[ip] = be
		b.conns[be]++
		b.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
		up.Close()
		return
	}
}

var readyClient = &http.Client{Timeout: 3 * time.Second}

// ready says whether sv's /readyz answers 200.
func ready(sv *served) bool { return notReady(sv) == "" }

// notReady says why sv's /readyz does not answer 200, or "".
func notReady(sv *served) string {
	resp, err := readyClient.Get("http://" + sv.adminAPI + "/readyz")
	if err != nil {
		return err.Error()
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return ""
}

func waitReady(t *testing.T, sv *served) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ready(sv); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("snowgate serve at %s is not ready:\n%s", sv.gateway, sv.log)
		}
	}
}

// watchReady polls sv's /readyz until the returned function is called,
// which returns the times it did not answer 200.
func watchReady(sv *served) func() []string {
	stop := make(chan struct{})
	var down []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if !ready(sv) {
				down = append(down, time.Now().Format("15:04:05.000"))
			}
		}
	}()
	return func() []string { close(stop); <-done; return down }
}

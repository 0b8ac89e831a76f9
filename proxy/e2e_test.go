package proxy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
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
	"github.com/snowgate/snowgate/internal/pgtest"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

func TestMain(m *testing.M) {
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	os.Setenv("SF_DISABLE_MINICORE", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// startStack runs the dev stack on free ports with the given gateway
// settings and policy directory ("" for the default library).
func startStack(t testing.TB, policy string, gw proxy.Config) *devstack.Stack {
	t.Helper()
	st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: policy, Gateway: gw})
	if err != nil {
		t.Fatalf("start dev stack: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// openDBAt connects gosnowflake to the gateway as a demo user with the
// database and schema given as a client would give them.
func openDBAt(t testing.TB, st *devstack.Stack, as, database, schema string) *sql.DB {
	return openDBWith(t, st, as, database, schema, nil)
}

// openDBWith is openDBAt with session parameters sent at login.
func openDBWith(t testing.TB, st *devstack.Stack, as, database, schema string, params map[string]*string) *sql.DB {
	t.Helper()
	tok, err := st.Issuer.Token(as)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(st.GatewayAddr)
	p, _ := strconv.Atoi(port)
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{
		Account: "snowgate", Host: host, Port: p, Protocol: "http", Authenticator: sf.AuthTypeOAuth, Token: tok,
		Database: database, Schema: schema, LoginTimeout: 10 * time.Second, Params: params,
	}))
	t.Cleanup(func() { db.Close() })
	return db
}

// recorder is the gateway's decider in tests of what the policy saw: the
// engine, keeping every statement's input and decision and every
// session, the login's included.
type recorder struct {
	*engine.Engine
	mu        sync.Mutex
	inputs    []engine.Input
	decisions []engine.Decision
	sessions  []engine.Session
}

func (r *recorder) Decide(ctx context.Context, in engine.Input) engine.Decision {
	d := r.Engine.Decide(ctx, in)
	r.mu.Lock()
	r.inputs, r.decisions, r.sessions = append(r.inputs, in), append(r.decisions, d), append(r.sessions, in.Session)
	r.mu.Unlock()
	return d
}

func (r *recorder) Connect(ctx context.Context, in engine.ConnectInput) engine.ConnectDecision {
	r.mu.Lock()
	r.sessions = append(r.sessions, in.Session)
	r.mu.Unlock()
	return r.Engine.Connect(ctx, in)
}

func (r *recorder) last() (engine.Input, engine.Decision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inputs[len(r.inputs)-1], r.decisions[len(r.decisions)-1]
}

// openDB connects the real gosnowflake driver to the gateway as a demo user.
func openDB(t testing.TB, st *devstack.Stack, as string) *sql.DB {
	t.Helper()
	tok, err := st.Issuer.Token(as)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(st.GatewayAddr)
	dsn := fmt.Sprintf("%s:%s/DEMO/PUBLIC?account=snowgate&protocol=http&authenticator=oauth&token=%s&loginTimeout=10", host, port, tok)
	cfg, err := sf.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	t.Cleanup(func() { db.Close() })
	return db
}

const allowAll = "testdata/allow-all"

func TestGosnowflake_types(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openDB(t, st, "analyst")
	row := db.QueryRow(`SELECT 42::NUMBER(38,0) AS i, 12345678901234567890.123456789::NUMBER(38,9) AS big, -1.5::FLOAT AS r,
		'héllo "w"' AS t, true AS b, '2024-02-29'::DATE AS d, '1967-06-23'::DATE AS old, '13:14:15.123456'::TIME AS tm,
		'2024-02-29 13:14:15.123456'::TIMESTAMP_NTZ AS ntz, '2024-02-29 13:14:15.5+00'::TIMESTAMP_LTZ AS ltz,
		'2024-02-29 13:14:15+02:00'::TIMESTAMP_TZ AS tz, from_hex('DEADBEEF') AS bin,
		PARSE_JSON('{"a": [1, 2]}') AS v, [1, 2, 3] AS arr, {'x': 'y'} AS obj, NULL::VARCHAR AS n`)
	var (
		i        int64
		bigDec   string
		r        float64
		text     string
		b        bool
		d, old   time.Time
		tm       time.Time
		ntz, ltz time.Time
		tz       time.Time
		bin      []byte
		v, arr   string
		obj      string
		n        sql.NullString
	)
	if err := row.Scan(&i, &bigDec, &r, &text, &b, &d, &old, &tm, &ntz, &ltz, &tz, &bin, &v, &arr, &obj, &n); err != nil {
		t.Fatalf("scan: %v", err)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("fixed", i, 42)
	check("fixed(38,9)", bigDec, "12345678901234567890.123456789")
	check("real", r, -1.5)
	check("text", text, `héllo "w"`)
	check("boolean", b, true)
	check("date", d.Format("2006-01-02"), "2024-02-29")
	check("date before 1970", old.Format("2006-01-02"), "1967-06-23")
	check("time", tm.Format("15:04:05.000000"), "13:14:15.123456")
	check("timestamp_ntz", ntz.Format("2006-01-02 15:04:05.000000"), "2024-02-29 13:14:15.123456")
	check("timestamp_ltz", ltz.UTC().Format(time.RFC3339Nano), "2024-02-29T13:14:15.5Z")
	_, off := tz.Zone()
	check("timestamp_tz instant", tz.UTC().Format(time.RFC3339), "2024-02-29T11:14:15Z")
	check("timestamp_tz offset", off, 2*3600)
	check("binary", fmt.Sprintf("%X", bin), "DEADBEEF")
	check("variant", strings.ReplaceAll(v, " ", ""), `{"a":[1,2]}`)
	check("array", arr, "[1,2,3]")
	check("object", obj, `{"x":"y"}`)
	check("null", n.Valid, false)
}

func TestGosnowflake_highPrecision(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openDB(t, st, "analyst")
	var x any
	err := db.QueryRowContext(sf.WithHigherPrecision(context.Background()), `SELECT 99999999999999999999999999999999999999::NUMBER(38,0)`).Scan(&x)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := new(big.Int).SetString("99999999999999999999999999999999999999", 10)
	var got *big.Int
	switch v := x.(type) {
	case *big.Int:
		got = v
	case big.Int:
		got = &v
	}
	if got == nil || got.Cmp(want) != 0 {
		t.Fatalf("NUMBER(38,0) with higher precision = %T %v, want *big.Int %v", x, x, want)
	}
}

func TestGosnowflake_dml(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openDB(t, st, "analyst")
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE scratch (id INT, note VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	affected := func(q string, args ...any) int64 {
		t.Helper()
		res, err := db.ExecContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := affected(`INSERT INTO scratch VALUES (1, 'a'), (2, 'b'), (3, 'c')`); n != 3 {
		t.Errorf("insert affected %d, want 3", n)
	}
	if n := affected(`INSERT INTO scratch VALUES (?, ?)`, 4, "bound"); n != 1 {
		t.Errorf("insert with binds affected %d, want 1", n)
	}
	if n := affected(`UPDATE scratch SET note = 'x' WHERE id >= 2`); n != 3 {
		t.Errorf("update affected %d, want 3", n)
	}
	if n := affected(`DELETE FROM scratch WHERE id = 1`); n != 1 {
		t.Errorf("delete affected %d, want 1", n)
	}
	var note string
	if err := db.QueryRowContext(ctx, `SELECT note FROM scratch WHERE id = ?`, 4).Scan(&note); err != nil || note != "x" {
		t.Errorf("bound select: %q, %v", note, err)
	}
}

func TestGosnowflake_multiStatement(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openDB(t, st, "analyst")
	ctx, _ := sf.WithMultiStatement(context.Background(), 3)
	rows, err := db.QueryContext(ctx, `SELECT 1 AS a; SELECT 'two' AS b, 2 AS c; SELECT 3 AS d`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for {
		for rows.Next() {
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprint(cols, vals))
		}
		if !rows.NextResultSet() {
			break
		}
	}
	want := "[A] [1]|[B C] [two 2]|[D] [3]"
	if strings.Join(got, "|") != want {
		t.Errorf("multi-statement results = %v, want %v", got, want)
	}

	// Without MULTI_STATEMENT_COUNT, two statements are refused, as on Snowflake.
	_, err = db.ExecContext(context.Background(), `SELECT 1; SELECT 2`)
	var se *sf.SnowflakeError
	if !errors.As(err, &se) || se.Number != 8 {
		t.Errorf("two statements without a count: %v, want error 000008", err)
	}

	// DML counts add up across statements.
	ctx2, _ := sf.WithMultiStatement(context.Background(), 0)
	res, err := db.ExecContext(ctx2, `CREATE TABLE m (x INT); INSERT INTO m VALUES (1), (2); INSERT INTO m VALUES (3)`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 3 {
		t.Errorf("multi-statement DML affected %d, want 3", n)
	}
}

func TestGosnowflake_asyncAndFetchByID(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openDB(t, st, "analyst")
	ids := make(chan string, 1)
	ctx := sf.WithQueryIDChan(sf.WithAsyncMode(context.Background()), ids)
	rows, err := db.QueryContext(ctx, `SELECT count(*) AS n FROM range(3000000)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int64
	if !rows.Next() {
		t.Fatalf("async result has no row: %v", rows.Err())
	}
	if err := rows.Scan(&n); err != nil || n != 3000000 {
		t.Fatalf("async count = %d, %v", n, err)
	}
	qid := <-ids

	// Fetch the same result again by its query id.
	again, err := db.QueryContext(sf.WithFetchResultByID(context.Background(), qid), "")
	if err != nil {
		t.Fatalf("fetch by id %s: %v", qid, err)
	}
	defer again.Close()
	if !again.Next() {
		t.Fatalf("fetch by id: no row: %v", again.Err())
	}
	var m int64
	if err := again.Scan(&m); err != nil || m != n {
		t.Fatalf("fetch by id = %d, %v; want %d", m, err, n)
	}
}

func TestGosnowflake_cancel(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openDB(t, st, "analyst")
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.QueryContext(ctx, `SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b`)
	if err == nil {
		t.Fatal("a cancelled query returned no error")
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("cancel took %v", el)
	}
	// The session still works after the cancel.
	var one int
	if err := db.QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("query after cancel: %d, %v", one, err)
	}
}

func TestGosnowflake_sessionRenew(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{TokenTTL: time.Second})
	db := openDB(t, st, "analyst")
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var one int
	if err := conn.QueryRowContext(context.Background(), `SELECT 1`).Scan(&one); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the session token expires: 390112, renew, retry
	if err := conn.QueryRowContext(context.Background(), `SELECT 2`).Scan(&one); err != nil || one != 2 {
		t.Fatalf("query after session token expiry: %d, %v", one, err)
	}
}

func TestGosnowflake_pingPong(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{PingPong: 100 * time.Millisecond})
	db := openDB(t, st, "analyst")
	var n int64
	// Long enough to answer 333333 several times before the result.
	if err := db.QueryRow(`SELECT count(*) FROM range(20000) a, range(20000) b WHERE (a.range + b.range) % 7 = 0`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no rows counted")
	}
}

func TestGosnowflake_chunks(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{InlineBytes: 4 << 10, ChunkBytes: 64 << 10})
	db := openDB(t, st, "analyst")
	rows, err := db.Query(`SELECT range AS i, 'row ' || range::VARCHAR AS s FROM range(50000) ORDER BY range`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var count, sum int64
	for rows.Next() {
		var i int64
		var s string
		if err := rows.Scan(&i, &s); err != nil {
			t.Fatal(err)
		}
		if s != fmt.Sprintf("row %d", i) {
			t.Fatalf("row %d: s = %q", i, s)
		}
		count++
		sum += i
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if count != 50000 || sum != 50000*49999/2 {
		t.Fatalf("read %d rows summing %d", count, sum)
	}
}

func TestGosnowflake_errors(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openDB(t, st, "analyst")
	_, err := db.Exec(`SELECT * FROM no_such_table`)
	var se *sf.SnowflakeError
	if !errors.As(err, &se) {
		t.Fatalf("error is %T %v, want *gosnowflake.SnowflakeError", err, err)
	}
	if se.Number != 2003 || se.SQLState != "42S02" || se.QueryID == "" {
		t.Errorf("missing table: number %d sqlstate %q query id %q", se.Number, se.SQLState, se.QueryID)
	}
}

func TestGosnowflake_policyDenial(t *testing.T) {
	st := startStack(t, "", proxy.Config{}) // the default library
	db := openDB(t, st, "agent")
	_, err := db.Exec(`GRANT ROLE ACCOUNTADMIN TO USER mallory`)
	var se *sf.SnowflakeError
	if !errors.As(err, &se) {
		t.Fatalf("error is %T %v, want *gosnowflake.SnowflakeError", err, err)
	}
	if se.Number != 3001 || se.SQLState != "42501" || !strings.Contains(se.Message, "decision") {
		t.Errorf("denial: number %d sqlstate %q message %q", se.Number, se.SQLState, se.Message)
	}
}

func TestGosnowflake_describeOnly(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openDB(t, st, "analyst")
	rows, err := db.QueryContext(sf.WithDescribeOnly(context.Background()), `SELECT id, email, lifetime_value FROM customers`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ct := range types {
		got = append(got, ct.Name()+" "+ct.DatabaseTypeName())
	}
	if strings.Join(got, ", ") != "ID FIXED, EMAIL TEXT, LIFETIME_VALUE FIXED" {
		t.Errorf("described columns: %v", got)
	}
	if rows.Next() {
		t.Error("describe only returned rows")
	}
}

// serveOn serves h on a free loopback port until the test ends, and
// returns its address.
func serveOn(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

package proxy_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/snowflake"
	"github.com/snowgate/snowgate/vault"
)

// chainGateway starts a gateway whose upstream is reached with gosnowflake
// at host:port, logging in as user/password; clients log in with tokens
// from st's dev issuer. Its policy allows everything.
func chainGateway(t *testing.T, st *devstack.Stack, host string, port int, user, password, database, schema string) string {
	return chainGatewayWith(t, st, allowAll, host, port, user, password, database, schema)
}

// chainGatewayWith is chainGateway with the policy in policyDir.
func chainGatewayWith(t *testing.T, st *devstack.Stack, policyDir, host string, port int, user, password, database, schema string) string {
	return gatewayOver(t, st, policyDir, proxy.Config{
		Name:        "chained",
		Upstream:    &snowflake.Upstream{Account: "upstream", Host: host, Port: port, Protocol: "http", LoginTimeout: 20 * time.Second},
		Credentials: vault.Static{User: user, Password: password},
		Defaults:    proxy.OpenParams{Database: database, Schema: schema},
	})
}

// gatewayOver starts a gateway of cfg (its upstream and what else it
// sets) whose clients log in with tokens from st's dev issuer and whose
// policy is in policyDir, and returns its address.
func gatewayOver(t *testing.T, st *devstack.Stack, policyDir string, cfg proxy.Config) string {
	t.Helper()
	addr, stop, err := st.StartGateway(context.Background(), policyDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr
}

func openAt(t *testing.T, st *devstack.Stack, addr, as, dbschema string) *sql.DB {
	t.Helper()
	tok, err := st.Issuer.Token(as)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	cfg, err := sf.ParseDSN(fmt.Sprintf("%s:%s/%s?account=snowgate&protocol=http&authenticator=oauth&token=%s&loginTimeout=20", host, port, dbschema, tok))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	t.Cleanup(func() { db.Close() })
	return db
}

// TestChain_gatewayToStandin: client → gateway (gosnowflake upstream) →
// the stand-in of a second dev instance, over the real protocol.
func TestChain_gatewayToStandin(t *testing.T) {
	upstream := startStack(t, allowAll, proxy.Config{})
	host, portStr, _ := net.SplitHostPort(upstream.StandinAddr)
	port, _ := strconv.Atoi(portStr)
	addr := chainGateway(t, upstream, host, port, "ADMIN", "snowgate-dev", "DEMO", "PUBLIC")
	db := openAt(t, upstream, addr, "analyst", "DEMO/PUBLIC")

	var (
		i    int64
		dec  string
		r    float64
		text string
		b    bool
		d    time.Time
		ntz  time.Time
		ltz  time.Time
		tz   time.Time
		bin  []byte
		v    string
		n    *string
	)
	err := db.QueryRow(`SELECT 42::NUMBER(38,0), 12345678901234567890.123456789::NUMBER(38,9), -1.5::FLOAT, 'héllo',
		true, '2024-02-29'::DATE, '2024-02-29 13:14:15.123456'::TIMESTAMP_NTZ, '2024-02-29 13:14:15.5+00'::TIMESTAMP_LTZ,
		'2024-02-29 13:14:15+02:00'::TIMESTAMP_TZ, from_hex('DEADBEEF'), PARSE_JSON('{"a":1}'), NULL::VARCHAR`).
		Scan(&i, &dec, &r, &text, &b, &d, &ntz, &ltz, &tz, &bin, &v, &n)
	if err != nil {
		t.Fatalf("chained types: %v", err)
	}
	_, off := tz.Zone()
	got := strings.TrimSpace(fmt.Sprintln(i, dec, r, text, b, d.Format("2006-01-02"), ntz.Format("15:04:05.000000"), ltz.UTC().Format("15:04:05.0"),
		tz.UTC().Format("15:04:05"), off, fmt.Sprintf("%X", bin), strings.ReplaceAll(v, " ", ""), n == nil))
	want := `42 12345678901234567890.123456789 -1.5 héllo true 2024-02-29 13:14:15.123456 13:14:15.5 11:14:15 7200 DEADBEEF {"a":1} true`
	if got != want {
		t.Errorf("chained values\n got %s\nwant %s", got, want)
	}

	if _, err := db.Exec(`CREATE TABLE chained (x INT)`); err != nil {
		t.Fatal(err)
	}
	res, err := db.Exec(`INSERT INTO chained VALUES (1), (2), (3)`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 3 {
		t.Errorf("chained insert affected %d, want 3", n)
	}
	var count int
	if err := db.QueryRow(`SELECT count(*) FROM customers`).Scan(&count); err != nil || count != 200 {
		t.Errorf("chained sample count = %d, %v", count, err)
	}
	_, err = db.Exec(`SELECT * FROM missing_table`)
	var se *sf.SnowflakeError
	if !errors.As(err, &se) || se.Number != 2003 {
		t.Errorf("chained upstream error: %v, want 002003 passed through", err)
	}
}

// TestChain_fakesnow: the same chain with fakesnow's server mode, an
// independent Snowflake emulator, as the upstream.
func TestChain_fakesnow(t *testing.T) {
	bin := os.Getenv("SNOWGATE_FAKESNOW")
	if bin == "" {
		t.Fatal("SNOWGATE_FAKESNOW is not set: run the tests with `make test`, which installs fakesnow")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "-s", "-p", strconv.Itoa(port))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Uvicorn running") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatal("fakesnow did not start")
	}
	st := startStack(t, allowAll, proxy.Config{})
	addr := chainGateway(t, st, "127.0.0.1", port, "fake", "fake", "FAKEDB", "FAKESCHEMA")
	db := openAt(t, st, addr, "analyst", "FAKEDB/FAKESCHEMA")

	for _, q := range []string{`CREATE DATABASE IF NOT EXISTS FAKEDB`, `CREATE SCHEMA IF NOT EXISTS FAKEDB.FAKESCHEMA`, `CREATE TABLE t (id INT, name VARCHAR, amount NUMBER(10,2), ts TIMESTAMP_NTZ, tz TIMESTAMP_TZ)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	res, err := db.Exec(`INSERT INTO t VALUES (1, 'a', 1.25, '2024-02-29 13:14:15', '2024-02-29 13:14:15+02'), (2, 'b', 2.50, '2024-03-01 00:00:00', '2024-03-01 00:00:00-05')`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("insert through fakesnow affected %d, want 2", n)
	}
	rows, err := db.Query(`SELECT id, name, amount, ts, tz FROM t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int64
		var name, amount string
		var ts, tz time.Time
		if err := rows.Scan(&id, &name, &amount, &ts, &tz); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimSpace(fmt.Sprintln(id, name, amount, ts.Format("2006-01-02 15:04:05"), tz.UTC().Format("15:04"))))
	}
	want := "1 a 1.25 2024-02-29 13:14:15 11:14|2 b 2.50 2024-03-01 00:00:00 05:00"
	if strings.Join(got, "|") != want {
		t.Errorf("rows through fakesnow\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	// Without the TIMESTAMP_TZ the gateway reads fakesnow's Arrow a record
	// batch at a time (TestChain_batches shows which results do).
	var (
		id           int64
		name, amount string
		ts           time.Time
		tm           time.Time
	)
	err = db.QueryRow(`SELECT id, name, amount, ts, '13:14:15.123456'::TIME FROM t WHERE id = 2`).Scan(&id, &name, &amount, &ts, &tm)
	if got := fmt.Sprintln(id, name, amount, ts.Format("2006-01-02 15:04:05"), tm.Format("15:04:05.000000")); err != nil || got != "2 b 2.50 2024-03-01 00:00:00 13:14:15.123456\n" {
		t.Errorf("a row through fakesnow in batches: %q, %v", got, err)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

package proxy_test

import (
	"context"
	"database/sql"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/snowflake"
	"github.com/snowgate/snowgate/proxy/standin"
	"github.com/snowgate/snowgate/proxy/statement"
	"github.com/snowgate/snowgate/vault"
)

// typedTable has a column of every type the stand-in hands over in record
// batches, NULLs, negative and pre-1970 values, text that JSON escapes,
// numbers wider than 64 bits, and the non-finite floats; the M columns are
// masked by testdata/mask-types, one strategy over each type.
const typedTable = `CREATE TABLE typed AS SELECT
	range AS id,
	CASE WHEN range % 7 = 0 THEN NULL ELSE range * 1000003 - 1500000000 END AS n,
	CASE WHEN range % 5 = 0 THEN NULL ELSE ((range - 1500) * 1.25)::DECIMAL(12,2) END AS d,
	(range * 123456789012345678.1234)::DECIMAL(38,4) AS bigd,
	CASE WHEN range % 6 = 0 THEN NULL ELSE 'é"\\' || chr(10) || chr(1) || range::VARCHAR END AS s,
	CASE WHEN range % 4 = 0 THEN NULL ELSE range % 3 = 0 END AS b,
	DATE '1969-12-25' + range::INT AS dt,
	TIMESTAMP '1969-12-31 23:59:58.5' + to_microseconds(range * 1250001) AS ts,
	TIMESTAMPTZ '1969-12-31 23:59:58.5+00' + to_microseconds(range * 1250001) AS tz,
	TIME '00:00:00' + to_microseconds(range * 28800123) AS tm,
	CASE range % 11 WHEN 1 THEN 'NaN'::DOUBLE WHEN 2 THEN 'inf'::DOUBLE WHEN 3 THEN '-inf'::DOUBLE ELSE range / 7.0 END AS f,
	(range / 3.0)::FLOAT AS r,
	(range % 100 - 50)::TINYINT AS i8,
	encode('k' || range::VARCHAR) AS bl,
	range * 7 AS mn, ((range - 10) * 0.5)::DECIMAL(10,1) AS md, DATE '2024-01-01' + range::INT AS mdt,
	TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(range * 1000123) AS mts,
	TIME '00:00:00' + to_microseconds(range * 28000321) AS mtm, (range / 3.0)::FLOAT AS mr, range AS mi,
	CASE WHEN range % 9 = 0 THEN NULL ELSE 'sécret-' || range::VARCHAR END AS ms,
	'user' || range::VARCHAR || '@example.com' AS me, range / 2.0 AS mf, encode('b' || range::VARCHAR) AS mbl, range % 2 = 0 AS mb
	FROM range(3000)`

const typedColumns = "id, n, d, bigd, s, b, dt, ts, tz, tm, f, r, i8, bl, mn, md, mdt, mts, mtm, mr, mi, ms, me, mf, mbl, mb"

// TestBatches_sameAsRows: a result the stand-in hands over in record
// batches reaches gosnowflake, as JSON and as Arrow, cut into chunks, with
// every value and every mask exactly as when the stand-in hands it over a
// row at a time.
func TestBatches_sameAsRows(t *testing.T) {
	if !standin.Batches {
		t.Fatal("built without the duckdb_arrow tag: the stand-in reads rows only (make sets the tag)")
	}
	key := []byte("one deployment's mask key")
	cfg := proxy.Config{ChunkBytes: 32 << 10, InlineBytes: 16 << 10, MaskKey: key}
	batches := startStack(t, "testdata/mask-types", cfg)
	rows := startStack(t, "testdata/mask-types", cfg)
	rows.Standin.RowsOnly = true
	read := func(st *devstack.Stack, format string) []string {
		return scanAll(t, openGo(t, st, "analyst", format), "SELECT "+typedColumns+" FROM typed ORDER BY id")
	}
	for _, st := range []*devstack.Stack{batches, rows} {
		if _, err := openGo(t, st, "analyst", "JSON").Exec(typedTable); err != nil {
			t.Fatal(err)
		}
	}
	for _, format := range []string{"JSON", "ARROW"} {
		got, want := read(batches, format), read(rows, format)
		if len(want) != 3000*26 {
			t.Fatalf("%s: %d values from rows, want %d", format, len(want), 3000*26)
		}
		if !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("%s: value %d from batches %q, from rows %q", format, i, got[i], want[i])
				}
			}
			t.Fatalf("%s: %d values from batches, %d from rows", format, len(got), len(want))
		}
		// the masks applied: no masked value is its source's
		for _, v := range got[:26*20] {
			if v == "MS=sécret-1" || v == "ME=user1@example.com" || v == "MB=1" || v == "MB=true" {
				t.Fatalf("%s: %s passed unmasked", format, v)
			}
		}
	}
}

// TestBatches_panic: a panic while a result's batches are read fails that
// statement with an internal error, and the gateway and the session go on
// serving. The panic is injected into the stand-in's rows: no real
// upstream panics on demand.
func TestBatches_panic(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	addr := gatewayOver(t, st, allowAll, proxy.Config{Name: "panicky", Upstream: panicky{st.Standin},
		Defaults: proxy.OpenParams{Database: "DEMO", Schema: "PUBLIC"}, FoldQuotedIdentifiers: true})
	db := openAt(t, st, addr, "analyst", "DEMO/PUBLIC")
	db.SetMaxOpenConns(1) // one session throughout
	var n int
	err := db.QueryRow(`SELECT count(*) FROM customers`).Scan(&n)
	if err == nil || !strings.Contains(err.Error(), "internal error in snowgate") {
		t.Fatalf("a panic reading batches: %v", err)
	}
	// a panic on the statement's own goroutine
	err = db.QueryRow(`SELECT 1 AS columns_panic`).Scan(&n)
	if err == nil || !strings.Contains(err.Error(), "internal error in snowgate") {
		t.Fatalf("a panic encoding a result: %v", err)
	}
	// the same session, a result read a row at a time (a VARIANT column)
	var v string
	if err := db.QueryRow(`SELECT '{"a":1}'::VARIANT::VARCHAR || '' AS v, PARSE_JSON('{"b":2}') AS j`).Scan(&v, new(any)); err != nil {
		t.Fatalf("after the panic: %v", err)
	}
}

type panicky struct{ proxy.Upstream }

func (p panicky) Open(ctx context.Context, params proxy.OpenParams) (proxy.Conn, error) {
	c, err := p.Upstream.Open(ctx, params)
	if err != nil {
		return nil, err
	}
	return panickyConn{c}, nil
}

type panickyConn struct{ proxy.Conn }

func (c panickyConn) Run(ctx context.Context, x proxy.Exec) (*proxy.Outcome, error) {
	out, err := c.Conn.Run(ctx, x)
	if b, ok := out.Rows.(proxy.BatchRows); ok && err == nil {
		out.Rows = panickyRows{b}
		if strings.Contains(x.SQL, "columns_panic") {
			out.Rows = panickyColumns{b}
		}
	}
	return out, err
}

type panickyColumns struct{ proxy.BatchRows }

func (panickyColumns) Columns() []proxy.Column { panic("injected into the stand-in's columns") }

type panickyRows struct{ proxy.BatchRows }

func (panickyRows) NextBatch() (arrow.RecordBatch, error) {
	panic("injected into the stand-in's record batches")
}

// TestChain_batches: the same typed result, read from a Snowflake upstream
// (a second gateway, over the real protocol) in gosnowflake's Arrow
// batches, reaches gosnowflake as JSON and as Arrow with every value and
// every mask exactly as from the stand-in read a row at a time.
func TestChain_batches(t *testing.T) {
	key := []byte("one deployment's mask key")
	upstream := startStack(t, allowAll, proxy.Config{})
	rows := startStack(t, "testdata/mask-types", proxy.Config{ChunkBytes: 32 << 10, InlineBytes: 16 << 10, MaskKey: key})
	rows.Standin.RowsOnly = true
	// Snowflake has no 4-byte FLOAT: the upstream sends 8 bytes, whose text a mask reads.
	table := strings.ReplaceAll(typedTable, "::FLOAT AS", "::DOUBLE AS")
	for _, st := range []*devstack.Stack{upstream, rows} {
		if _, err := openGo(t, st, "analyst", "JSON").Exec(table); err != nil {
			t.Fatal(err)
		}
	}
	host, portStr, _ := net.SplitHostPort(upstream.StandinAddr)
	port, _ := strconv.Atoi(portStr)
	sfu := &snowflake.Upstream{Account: "upstream", Host: host, Port: port, Protocol: "http", LoginTimeout: 20 * time.Second}
	addr := gatewayOver(t, upstream, "testdata/mask-types", proxy.Config{
		Name: "chained", Upstream: sfu, Credentials: vault.Static{User: "ADMIN", Password: "snowgate-dev"},
		Defaults: proxy.OpenParams{Database: "DEMO", Schema: "PUBLIC"}, ChunkBytes: 32 << 10, InlineBytes: 16 << 10, MaskKey: key,
	})
	q := "SELECT " + typedColumns + " FROM typed ORDER BY id"
	for _, format := range []string{"JSON", "ARROW"} {
		got := scanAll(t, openFormatAt(t, upstream, addr, format), q)
		want := scanAll(t, openGo(t, rows, "analyst", format), q)
		if len(want) != 3000*26 {
			t.Fatalf("%s: %d values from rows, want %d", format, len(want), 3000*26)
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("%s: value %d through the chain %q, from the stand-in's rows %q", format, i, got[i], want[i])
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d values through the chain, %d from rows", format, len(got), len(want))
		}
	}
	// A session that asks for JSON along with another parameter: the
	// gateway passes the ALTER SESSION on (one that sets only result formats
	// it answers itself), and the upstream answers in JSON, which is read a
	// row at a time.
	db := openFormatAt(t, upstream, addr, "ARROW")
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON', QUERY_TAG = 'json'"); err != nil {
		t.Fatal(err)
	}
	got, want := scanAll(t, db, q), scanAll(t, openGo(t, rows, "analyst", "JSON"), q)
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("upstream JSON: value %d through the chain %q, from the stand-in's rows %q", i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("upstream JSON: %d values through the chain, %d from rows", len(got), len(want))
	}

	// Which results come in batches: the upstream session itself. A result
	// closed after its first batch stops its downloads.
	c, err := sfu.Open(context.Background(), proxy.OpenParams{User: "ADMIN", Password: "snowgate-dev", Database: "DEMO", Schema: "PUBLIC"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var before int
	for i := range 4 {
		if i == 1 { // after the first: gosnowflake's own goroutines have started
			before = settledGoroutines(0, time.Second)
		}
		out, err := c.Run(context.Background(), proxy.Exec{SQL: "SELECT range AS n, repeat('x', 40) AS s FROM range(2000000)", Kind: statement.KindSelect, Batches: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := out.Rows.(proxy.BatchRows).NextBatch(); err != nil {
			t.Fatal(err)
		}
		out.Rows.Close()
	}
	if after := settledGoroutines(before, 5*time.Second); after > before {
		t.Errorf("goroutines after results closed early: %d, before %d", after, before)
	}
	for _, tc := range []struct {
		sql     string
		kind    statement.Kind
		batches bool
		rows    int
	}{
		{q, statement.KindSelect, true, 3000},
		// no standard Arrow type holds a TIMESTAMP_TZ's zone
		{"SELECT id, '2024-02-29 13:14:15+02:00'::TIMESTAMP_TZ AS tz FROM typed", statement.KindSelect, false, 3000},
		// 6 chunks of the stand-in's 8 MB, downloaded 4 ahead
		{"SELECT range AS n, repeat('x', 40) || range::VARCHAR AS s FROM range(1000000)", statement.KindSelect, true, 1000000},
		{"SHOW TABLES", statement.KindShow, true, -1},
		{"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON'", statement.KindAlter, false, -1},
		{q, statement.KindSelect, false, 3000}, // answered in JSON now
	} {
		out, err := c.Run(context.Background(), proxy.Exec{SQL: tc.sql, Kind: tc.kind, Batches: true})
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if out.Rows == nil {
			continue
		}
		br, isBatches := out.Rows.(proxy.BatchRows)
		n := 0
		for {
			if isBatches {
				b, err := br.NextBatch()
				if err != nil {
					if err != io.EOF {
						t.Fatalf("%s: %v", tc.sql, err)
					}
					break
				}
				n += int(b.NumRows())
				continue
			}
			err := out.Rows.Next(make([]any, len(out.Rows.Columns())))
			if err != nil {
				if err != io.EOF {
					t.Fatalf("%s: %v", tc.sql, err)
				}
				break
			}
			n++
		}
		out.Rows.Close()
		if isBatches != tc.batches || (tc.rows >= 0 && n != tc.rows) || n == 0 {
			t.Errorf("%.40s: batches %v and %d rows, want %v and %d", tc.sql, isBatches, n, tc.batches, tc.rows)
		}
	}
}

// openFormatAt connects gosnowflake to the gateway at addr asking for
// results in format.
func openFormatAt(t *testing.T, st *devstack.Stack, addr, format string) *sql.DB {
	t.Helper()
	tok, err := st.Issuer.Token("analyst")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{
		Account: "snowgate", Host: host, Port: p, Protocol: "http", Authenticator: sf.AuthTypeOAuth, Token: tok,
		Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 20 * time.Second,
		Params: map[string]*string{"GO_QUERY_RESULT_FORMAT": &format},
	}))
	t.Cleanup(func() { db.Close() })
	return db
}

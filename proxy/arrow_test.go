package proxy_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// everyType selects a value of every Snowflake type, and a NULL of each.
const everyType = `SELECT 42::NUMBER(38,0) AS n, 12345678901234567890.123456789::NUMBER(38,9) AS big, -7.25::NUMBER(10,2) AS small,
	-1.5::FLOAT AS f, 'héllo' AS s, true AS b, '2024-02-29'::DATE AS d, '1969-07-20'::DATE AS old,
	'13:14:15.123456'::TIME AS t, '2024-02-29 13:14:15.123456'::TIMESTAMP_NTZ AS ntz, '1960-01-01 00:00:00.25'::TIMESTAMP_NTZ AS before,
	'2024-02-29 13:14:15.5+00'::TIMESTAMP_LTZ AS ltz, '2024-02-29 13:14:15+02:00'::TIMESTAMP_TZ AS tz,
	from_hex('DEADBEEF') AS bin, PARSE_JSON('{"a":1}') AS v,
	NULL::NUMBER(38,0) AS n0, NULL::FLOAT AS f0, NULL::VARCHAR AS s0, NULL::BOOLEAN AS b0, NULL::DATE AS d0, NULL::TIMESTAMP_TZ AS tz0`

// openGo connects gosnowflake to the gateway as the demo user, asking
// for results as format (ARROW, the driver's default, or JSON).
func openGo(t testing.TB, st *devstack.Stack, as, format string) *sql.DB {
	return openDBWith(t, st, as, "DEMO", "PUBLIC", map[string]*string{"GO_QUERY_RESULT_FORMAT": &format})
}

func scanAll(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			switch x := v.(type) {
			case time.Time:
				v = x.Format(time.RFC3339Nano)
			case bool: // gosnowflake hands BOOLEAN over as "1" from JSON, as a bool from Arrow
				v = map[bool]string{true: "1", false: "0"}[x]
			}
			out = append(out, fmt.Sprintf("%s=%v", cols[i], v))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestArrow_gosnowflake: gosnowflake reads Arrow results by default, and
// reads every type, NULLs, masked columns and chunked results the same as
// it reads them from JSON; its Arrow batches API gets record batches with
// Snowflake's physical types.
func TestArrow_gosnowflake(t *testing.T) {
	st := startStack(t, "", proxy.Config{ChunkBytes: 64 << 10}) // the default library: masks
	open := startStack(t, allowAll, proxy.Config{ChunkBytes: 64 << 10})
	for _, c := range []struct {
		st *devstack.Stack
		q  string
	}{
		{open, everyType},
		{st, `SELECT id, email, phone, ssn, city FROM customers ORDER BY id`}, // masked for the analyst
		{st, `SELECT * FROM events ORDER BY id`},                              // many chunks of 64 KiB
		{st, `SELECT id, amount, ordered_at FROM orders WHERE id < 0`},        // no rows
	} {
		q := c.q
		a, j := scanAll(t, openGo(t, c.st, "analyst", "ARROW"), q), scanAll(t, openGo(t, c.st, "analyst", "JSON"), q)
		if !reflect.DeepEqual(a, j) {
			for i := range min(len(a), len(j)) {
				if a[i] != j[i] {
					t.Errorf("%.60s: Arrow and JSON differ first at value %d: %s vs %s", q, i, a[i], j[i])
					break
				}
			}
			if len(a) != len(j) {
				t.Errorf("%.60s: %d values from Arrow, %d from JSON", q, len(a), len(j))
			}
		}
	}
	want := `N=42 BIG=12345678901234567890.123456789 SMALL=-7.25 F=-1.5 S=héllo B=1 D=2024-02-29T00:00:00Z OLD=1969-07-20T00:00:00Z`
	if got := strings.Join(scanAll(t, openGo(t, open, "analyst", "ARROW"), everyType)[:8], " "); got != want {
		t.Errorf("Arrow values\n got %s\nwant %s", got, want)
	}

	// The Arrow batches API only works when the response is Arrow: masked
	// values come as text in it, and a large result in several records.
	recs, total, types, emails := arrowBatches(t, openGo(t, st, "analyst", "ARROW"), `SELECT e.id, c.email, e.occurred_at FROM events e JOIN customers c ON c.id = e.customer_id`)
	if total != 2000 || types["EMAIL"] != "utf8" || types["OCCURRED_AT"] != "timestamp[ns]" {
		t.Errorf("Arrow batches: %d rows in %d records, types %v; want 2000 rows, EMAIL utf8, OCCURRED_AT timestamp[ns] (gosnowflake converts the scaled integers)", total, recs, types)
	}
	for _, e := range emails {
		if !strings.HasPrefix(e, "****@") {
			t.Fatalf("an unmasked email in an Arrow batch: %q", e)
		}
	}
	recs, total, types, _ = arrowBatches(t, openGo(t, open, "analyst", "ARROW"), `SELECT range AS id, 'customer-' || range::VARCHAR AS name, range * 1.5 AS score FROM range(100000)`)
	if total != 100000 || recs < 3 || types["ID"] != "int64" {
		t.Errorf("Arrow batches: %d rows in %d records, types %v; want 100,000 rows in several records", total, recs, types)
	}
	if _, err := arrowBatchesErr(openGo(t, st, "analyst", "JSON"), `SELECT 1`); err == nil {
		t.Errorf("Arrow batches from a JSON session: no error; want the driver's refusal")
	}
}

// arrowBatches reads a result with gosnowflake's Arrow batches API: the
// records, rows, each column's Arrow type, and the EMAIL column's values.
func arrowBatches(t *testing.T, db *sql.DB, q string) (recs, total int64, types map[string]string, emails []string) {
	t.Helper()
	types = map[string]string{}
	fetched, err := arrowBatchesErr(db, q)
	if err != nil {
		t.Fatalf("Arrow batches: %s: %v", q, err)
	}
	for _, r := range fetched {
		recs++
		total += r.NumRows()
		for i, f := range r.Schema().Fields() {
			types[f.Name] = f.Type.String()
			if f.Name == "EMAIL" {
				col := r.Column(i).(*array.String)
				for k := 0; k < col.Len(); k++ {
					emails = append(emails, col.Value(k))
				}
			}
		}
		r.Release()
	}
	return recs, total, types, emails
}

func arrowBatchesErr(db *sql.DB, q string) ([]arrow.Record, error) {
	ctx := sf.WithArrowBatches(context.Background())
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var out []arrow.Record
	err = conn.Raw(func(dc any) error {
		rows, err := dc.(driver.QueryerContext).QueryContext(ctx, q, nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		batches, err := rows.(sf.SnowflakeRows).GetArrowBatches()
		if err != nil {
			return err
		}
		for _, b := range batches {
			rs, err := b.Fetch()
			if err != nil {
				return err
			}
			out = append(out, *rs...)
		}
		return nil
	})
	return out, err
}

// TestArrow_python: snowflake-connector-python's Arrow APIs through the
// gateway — fetch_arrow_all, fetch_pandas_all and fetch_arrow_batches on a
// 1,000,000-row result served in chunks, rows the same as from a JSON
// session, masked columns masked in a DataFrame; and through a gateway
// whose upstream is reached with gosnowflake (the chained upstream), masked
// columns masked and a row of every common type the same in Arrow and JSON.
func TestArrow_python(t *testing.T) {
	py := os.Getenv("SNOWGATE_PYTHON")
	if py == "" {
		t.Fatal("SNOWGATE_PYTHON is not set: run the tests with `make test`")
	}
	open := startStack(t, allowAll, proxy.Config{ChunkBytes: 4 << 20})
	masked := startStack(t, "", proxy.Config{})
	tok, _ := open.Issuer.Token("analyst")
	mtok, _ := masked.Issuer.Token("analyst")
	const n = 1_000_000
	host, port, _ := net.SplitHostPort(open.GatewayAddr)
	_, mport, _ := net.SplitHostPort(masked.GatewayAddr)
	mp, _ := strconv.Atoi(mport)
	// A gateway with the default policy in front of open's stand-in, reached
	// with gosnowflake: Arrow from a chained upstream, masked.
	shost, sport, _ := net.SplitHostPort(open.StandinAddr)
	sp, _ := strconv.Atoi(sport)
	_, cport, _ := net.SplitHostPort(chainGatewayWith(t, open, "", shost, sp, "ADMIN", "snowgate-dev", "DEMO", "PUBLIC"))
	cp, _ := strconv.Atoi(cport)
	in, _ := json.Marshal(map[string]any{"token": tok, "masked_token": mtok, "masked_port": mp, "chain_port": cp, "rows": n})
	cmd := exec.Command(py, "testdata/clients/python_arrow.py")
	cmd.Env = append(os.Environ(), "SNOWGATE_HOST="+host, "SNOWGATE_PORT="+port)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var out struct {
		ArrowAll struct {
			Rows    int
			Seconds float64
			Types   map[string]string
		} `json:"arrow_all"`
		PandasAll struct {
			Rows     int
			Seconds  float64
			IDSum    int64   `json:"id_sum"`
			NameLast string  `json:"name_last"`
			ScoreMax float64 `json:"score_max"`
		} `json:"pandas_all"`
		ArrowBatches struct{ Batches, Rows int } `json:"arrow_batches"`
		RowsArrow    [][]string                  `json:"rows_arrow"`
		RowsJSON     [][]string                  `json:"rows_json"`
		Masked       pythonMasked
		Chained      struct {
			Masked     pythonMasked
			Types      map[string]string
			TypedArrow []string `json:"typed_arrow"`
			TypedJSON  []string `json:"typed_json"`
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("python printed %s: %v", raw, err)
	}
	if out.ArrowAll.Rows != n || out.ArrowAll.Types["ID"] != "int64" || out.ArrowAll.Types["NAME"] != "string" || out.ArrowAll.Types["DAY"] != "date32[day]" {
		t.Errorf("fetch_arrow_all: %+v; want %d rows, ID int64, NAME string, DAY date32", out.ArrowAll, n)
	}
	if p := out.PandasAll; p.Rows != n || p.IDSum != int64(n)*(n-1)/2 || p.NameLast != fmt.Sprintf("customer-%d", n-1) || p.ScoreMax != float64(n-1)*1.5 {
		t.Errorf("fetch_pandas_all: %+v", p)
	}
	if b := out.ArrowBatches; b.Rows != n || b.Batches < 2 {
		t.Errorf("fetch_arrow_batches: %+v; want %d rows in several batches", b, n)
	}
	if !reflect.DeepEqual(out.RowsArrow, out.RowsJSON) || len(out.RowsArrow) != 5 {
		t.Errorf("rows from Arrow %v and from JSON %v differ", out.RowsArrow, out.RowsJSON)
	}
	for name, m := range map[string]pythonMasked{"stand-in": out.Masked, "chained": out.Chained.Masked} {
		if m.Rows != 200 || !reflect.DeepEqual(m.Emails, []string{"****"}) || !reflect.DeepEqual(m.SSN, []string{"********"}) {
			t.Errorf("%s: masked columns in a DataFrame: %+v", name, m)
		}
	}
	if c := out.Chained; c.Types["ID"] != "int64" || c.Types["EMAIL"] != "string" {
		t.Errorf("chained: fetch_arrow_all types %v, want ID int64, EMAIL string", c.Types)
	}
	wantTyped := []string{"42", "1.25", "-1.5", "héllo", "True", "2024-02-29", "2024-02-29 13:14:15.123456", "None"}
	if c := out.Chained; !reflect.DeepEqual(c.TypedArrow, wantTyped) || !reflect.DeepEqual(c.TypedJSON, wantTyped) {
		t.Errorf("chained typed row\n arrow %q\n json  %q\n want  %q", c.TypedArrow, c.TypedJSON, wantTyped)
	}
	t.Logf("1,000,000 rows: fetch_arrow_all %.2f s, fetch_pandas_all %.2f s (not a benchmark: see snowgate bench)", out.ArrowAll.Seconds, out.PandasAll.Seconds)
}

// pythonMasked is what python_arrow.py reports of a masked read.
type pythonMasked struct {
	Rows   int
	Emails []string
	SSN    []string
}

// TestArrow_alterSession: ALTER SESSION SET <driver>_QUERY_RESULT_FORMAT
// switches the session's later results, as on Snowflake (the usual way
// out for a JDBC client on Java 17 without the JVM flag Arrow needs), and
// UNSET switches back to the driver's default.
func TestArrow_alterSession(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openGo(t, st, "analyst", "")
	db.SetMaxOpenConns(1)
	for _, c := range []struct {
		alter string
		arrow bool
	}{
		{"", true},
		{"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON'", false},
		{"ALTER SESSION UNSET GO_QUERY_RESULT_FORMAT", true},
		{"ALTER SESSION SET QUERY_TAG = 'x', GO_QUERY_RESULT_FORMAT = json", false},
		{"alter session set go_query_result_format = 'ARROW'", true},
	} {
		if c.alter != "" {
			if _, err := db.Exec(c.alter); err != nil {
				t.Fatalf("%s: %v", c.alter, err)
			}
		}
		_, err := arrowBatchesErr(db, `SELECT 1`)
		if got := err == nil; got != c.arrow {
			t.Errorf("after %q: Arrow %v (%v), want %v", c.alter, got, err, c.arrow)
		}
	}
}

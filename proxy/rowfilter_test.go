package proxy_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// rowFilterPolicy is the default library with row filters in its
// data.json: a customer is seen only where its COUNTRY is among the
// caller's "countries" claim (the analyst and the agent hold DE and FR),
// an order only in EUR; platform admins see every row.
func rowFilterPolicy(t testing.TB) string {
	return defaultLibraryWith(t, `"row_filters": {}`, `"row_filters": {
		"DEMO.PUBLIC.CUSTOMERS": {"column": "COUNTRY", "values_from": "claim:countries", "exempt_groups": ["platform-admins"]},
		"DEMO.PUBLIC.ORDERS": {"where": "CURRENCY = 'EUR'", "exempt_groups": ["platform-admins"]}}`)
}

// TestRowFilters: the default library's row filters through the gateway,
// with the real Go and Python drivers. Every spelling of a read of a
// filtered table — quoted, qualified, through a CTE, a subquery, a join, a
// set operation, TABLE(), IDENTIFIER(), time travel — returns what the
// same query over the filtered rows returns, measured as the exempt admin
// with the predicate written out. UPDATE, DELETE and MERGE change only
// filtered rows. Statements where no filter can be placed are refused,
// and the trail holds the rewritten text beside the original.
func TestRowFilters(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: rowFilterPolicy(t), ApprovalMode: "ticket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	analyst, admin := openDB(t, st, "analyst"), openDB(t, st, "admin")
	count := func(db *sql.DB, q string) (int, error) {
		var n int
		err := db.QueryRow(q).Scan(&n)
		return n, err
	}
	const cust = `(SELECT * FROM demo.public.customers WHERE country IN ('DE', 'FR'))`
	const ord = `(SELECT * FROM demo.public.orders WHERE currency = 'EUR')`
	if n, err := count(admin, `SELECT count(*) FROM customers`); err != nil || n != 200 {
		t.Fatalf("the exempt admin: %d customers, %v; want 200", n, err)
	}
	reads := []struct{ sql, truth string }{
		{`SELECT count(*) FROM customers`, `SELECT count(*) FROM ` + cust},
		{`select COUNT(*) from Demo.Public.Customers`, `SELECT count(*) FROM ` + cust},
		{`SELECT count(*) FROM "DEMO"."PUBLIC"."CUSTOMERS"`, `SELECT count(*) FROM ` + cust},
		{`SELECT count(*) FROM public.customers c WHERE c.segment = 'smb'`, `SELECT count(*) FROM ` + cust + ` c WHERE segment = 'smb'`},
		{`WITH x AS (SELECT id FROM customers) SELECT count(*) FROM x`, `SELECT count(*) FROM ` + cust},
		{`WITH x AS (SELECT * FROM (SELECT * FROM customers)) SELECT count(*) FROM x`, `SELECT count(*) FROM ` + cust},
		{`SELECT count(*) FROM orders WHERE customer_id IN (SELECT id FROM customers)`, `SELECT count(*) FROM ` + ord + ` o WHERE customer_id IN (SELECT id FROM ` + cust + ` c)`},
		{`SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id`, `SELECT count(*) FROM ` + ord + ` o JOIN ` + cust + ` c ON c.id = o.customer_id`},
		{`SELECT count(*) FROM orders o, customers c WHERE c.id = o.customer_id`, `SELECT count(*) FROM ` + ord + ` o JOIN ` + cust + ` c ON c.id = o.customer_id`},
		{`SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)`, `SELECT count(*) FROM ` + cust + ` c WHERE EXISTS (SELECT 1 FROM ` + ord + ` o WHERE o.customer_id = c.id)`},
		{`SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM customers)`, `SELECT (SELECT count(*) FROM ` + ord + ` o) + (SELECT count(*) FROM ` + cust + ` c)`},
		{`SELECT count(*) FROM (SELECT id FROM customers UNION ALL SELECT id FROM customers)`, `SELECT 2 * count(*) FROM ` + cust},
		{`SELECT count(*) FROM (SELECT country FROM customers EXCEPT SELECT 'XX')`, `SELECT count(DISTINCT country) FROM ` + cust},
		{`SELECT count(*) FROM IDENTIFIER('customers')`, `SELECT count(*) FROM ` + cust},
		{`SELECT count(DISTINCT country) FROM customers`, `SELECT count(DISTINCT country) FROM ` + cust},
		{`SELECT count(*) FROM orders WHERE amount > 500`, `SELECT count(*) FROM ` + ord + ` o WHERE amount > 500`},
		{`SELECT count(*) FROM orders WHERE currency <> 'EUR'`, `SELECT 0`},
		{`SELECT count(*) FROM customers WHERE country = 'US' OR 1 = 1`, `SELECT count(*) FROM ` + cust},
	}
	for _, c := range reads {
		want, err := count(admin, c.truth)
		if err != nil {
			t.Fatalf("truth %s: %v", c.truth, err)
		}
		if got, err := count(analyst, c.sql); err != nil || got != want {
			t.Errorf("analyst: %s: %d, %v; want %d (the filtered rows)", c.sql, got, err, want)
		}
	}
	if n, err := count(openDB(t, st, "engineer"), `SELECT count(*) FROM customers`); err != nil || n != 0 {
		t.Errorf("the engineer, with no countries claim: %d customers, %v; want 0", n, err)
	}

	// Values, not only counts: every row the analyst sees is one the
	// filter admits, and masks still hold on filtered rows.
	for _, r := range queryAll(t, analyst, `SELECT country, email FROM customers ORDER BY id`) {
		if c := r[0].String; c != "DE" && c != "FR" {
			t.Errorf("analyst saw a customer in %s", c)
		}
		if e := r[1].String; !strings.HasPrefix(e, "****@") && !strings.Contains(e, "*") {
			t.Errorf("analyst saw an unmasked email %q", e)
		}
	}

	py := pythonResults(t, st, "analyst",
		`SELECT count(*) FROM customers`,
		`SELECT count(*) FROM "DEMO"."PUBLIC"."ORDERS" o JOIN customers c ON c.id = o.customer_id`,
		`SELECT DISTINCT currency FROM orders`)
	for i, want := range []string{
		`SELECT count(*) FROM ` + cust,
		`SELECT count(*) FROM ` + ord + ` o JOIN ` + cust + ` c ON c.id = o.customer_id`,
	} {
		n, err := count(admin, want)
		if err != nil {
			t.Fatal(err)
		}
		if py[i].Error != "" || len(py[i].Rows) != 1 || py[i].Rows[0][0][1] == nil || *py[i].Rows[0][0][1] != strconv.Itoa(n) {
			t.Errorf("python: query %d: %+v; want %d", i, py[i], n)
		}
	}
	if py[2].Error != "" || len(py[2].Rows) != 1 || py[2].Rows[0][0][1] == nil || *py[2].Rows[0][0][1] != "EUR" {
		t.Errorf("python: the analyst's currencies: %+v; want only EUR", py[2])
	}

	// Writes touch only filtered rows.
	before := func(q string) int {
		n, err := count(admin, q)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	eur, usd := before(`SELECT count(*) FROM orders WHERE currency = 'EUR' AND status = 'pending'`), before(`SELECT count(*) FROM orders WHERE currency <> 'EUR' AND status = 'pending'`)
	res, err := analyst.Exec(`UPDATE orders SET status = 'held' WHERE status = 'pending'`)
	if n, _ := rowsAffected(res, err); err != nil || n != int64(eur) {
		t.Errorf("UPDATE: %d rows, %v; want %d (the EUR ones)", n, err, eur)
	}
	if n := before(`SELECT count(*) FROM orders WHERE status = 'held'`); n != eur {
		t.Errorf("after the UPDATE: %d orders held; want %d", n, eur)
	}
	if n := before(`SELECT count(*) FROM orders WHERE status = 'pending'`); n != usd {
		t.Errorf("after the UPDATE: %d other orders still pending; want %d", n, usd)
	}
	gone := eur + before(`SELECT count(*) FROM orders WHERE currency = 'EUR' AND status = 'cancelled'`)
	res, err = analyst.Exec(`DELETE FROM orders WHERE status = 'held' OR status = 'cancelled'`)
	if n, _ := rowsAffected(res, err); err != nil || n != int64(gone) {
		t.Errorf("DELETE: %d rows, %v; want %d", n, err, gone)
	}
	if n := before(`SELECT count(*) FROM orders WHERE currency <> 'EUR' AND status = 'cancelled'`); n == 0 {
		t.Errorf("the DELETE removed orders the filter hides")
	}
	de := before(`SELECT count(*) FROM customers WHERE country = 'DE'`)
	res, err = analyst.Exec(`MERGE INTO customers t USING (SELECT 'DE' AS c) s ON t.country = s.c OR t.country = 'US'
		WHEN MATCHED AND t.segment <> 'merged' THEN UPDATE SET segment = 'merged'`)
	if n, _ := rowsAffected(res, err); err != nil || n != int64(de) {
		t.Errorf("MERGE: %d rows, %v; want %d (DE, not US)", n, err, de)
	}
	if n := before(`SELECT count(*) FROM customers WHERE segment = 'merged' AND country <> 'DE'`); n != 0 {
		t.Errorf("the MERGE changed %d customers the filter hides", n)
	}

	// Where no filter can be placed, the statement is refused.
	if _, err := admin.Exec(`SELECT 1`); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(st.StandinAddr)
	p, _ := strconv.Atoi(port)
	direct := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{Account: "standin", Host: host, Port: p, Protocol: "http",
		User: "ADMIN", Password: "snowgate-dev", Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 10 * time.Second}))
	t.Cleanup(func() { direct.Close() })
	if _, err := direct.Exec(`CREATE VIEW demo.public.all_customers AS SELECT * FROM demo.public.customers`); err != nil {
		t.Fatal(err)
	}
	// RESULT_SCAN of an earlier result read from a filtered table: the
	// filter cannot reach stored rows, which may predate it.
	pinned, err := analyst.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pinned.ExecContext(context.Background(), `SELECT id FROM orders`); err != nil {
		t.Fatal(err)
	}
	_, err = pinned.ExecContext(context.Background(), `SELECT count(*) FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))`)
	if snowflakeCode(err) != 3001 || !strings.Contains(err.Error(), "through an earlier result (RESULT_SCAN)") {
		t.Errorf("RESULT_SCAN of a filtered read: %v; want 003001, refused", err)
	}
	pinned.Close()
	for _, c := range []struct{ sql, why string }{
		{`SELECT count(*) FROM all_customers`, "DEMO.PUBLIC.ALL_CUSTOMERS is a VIEW"},
		{`WITH customers AS (SELECT 1 AS id) SELECT * FROM customers`, "a CTE named CUSTOMERS"},
		{`CREATE TABLE demo.public.copy CLONE orders`, "cannot be confined"},
		{`TRUNCATE TABLE orders`, "cannot be confined"},
		{`INSERT OVERWRITE INTO orders SELECT * FROM orders`, "cannot be confined"},
		{`MERGE INTO customers t USING (SELECT 1 AS id) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)`, "WHEN NOT MATCHED"},
		{`SELECT count(*) FROM orders WHERE my_reader(id) = 1`, "denied"}, // untraced, by the policy; without it, "not a built-in function"
		{`CALL read_everything()`, "what a call statement reads cannot be seen"},
		{`EXECUTE IMMEDIATE 'SELECT * FROM customers'`, "cannot be seen"},
		{`SELECT * FROM IDENTIFIER($t)`, "denied"}, // by the policy, before any filter: it cannot be read
	} {
		_, err := analyst.Exec(c.sql)
		if snowflakeCode(err) != 3001 || !strings.Contains(err.Error(), c.why) {
			t.Errorf("analyst: %s: %v; want 003001 naming %q", c.sql, err, c.why)
		}
	}

	// The trail: the original text, the text that ran, and the filters.
	var found bool
	err = st.Audit.Store().Scan(context.Background(), audit.Filter{Types: []string{audit.TypeStatement}}, func(rec audit.Record) error {
		env, err := rec.Decode()
		if err != nil {
			return err
		}
		e := env.Event
		if e.Statement == nil || e.Decision == nil || e.Statement.SQL != `SELECT count(*) FROM customers` || e.Identity == nil || e.Identity.Subject != "u-1001" {
			return nil
		}
		found = true
		want := `SELECT count(*) FROM (SELECT * FROM customers WHERE (COUNTRY IN ('DE', 'FR'))) AS customers`
		if e.Statement.Rewritten != want {
			t.Errorf("trail: rewritten %q; want %q", e.Statement.Rewritten, want)
		}
		if f := e.Decision.RowFilters["DEMO.PUBLIC.CUSTOMERS"]; f != "COUNTRY IN ('DE', 'FR')" {
			b, _ := json.Marshal(e.Decision)
			t.Errorf("trail: decision %s; want the CUSTOMERS filter", b)
		}
		return nil
	})
	if err != nil || !found {
		t.Errorf("trail: the analyst's read not found (%v)", err)
	}
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TestChain_rowFilters: row filters with Snowflake's own driver as the
// upstream (a second dev instance's stand-in over the real protocol): the
// filtered count, and a view refused as the upstream's
// INFORMATION_SCHEMA.TABLES names it.
func TestChain_rowFilters(t *testing.T) {
	upstream := startStack(t, allowAll, proxy.Config{})
	host, portStr, _ := net.SplitHostPort(upstream.StandinAddr)
	port, _ := strconv.Atoi(portStr)
	owner := openAt(t, upstream, upstream.GatewayAddr, "admin", "DEMO/PUBLIC")
	if _, err := owner.Exec(`CREATE VIEW demo.public.all_orders AS SELECT * FROM demo.public.orders`); err != nil {
		t.Fatal(err)
	}
	addr := chainGatewayWith(t, upstream, rowFilterPolicy(t), host, port, "ADMIN", "snowgate-dev", "DEMO", "PUBLIC")
	db := openAt(t, upstream, addr, "analyst", "DEMO/PUBLIC")
	var n, want int
	if err := db.QueryRow(`SELECT count(*) FROM "DEMO"."PUBLIC"."ORDERS" o JOIN customers c ON c.id = o.customer_id`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := owner.QueryRow(`SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.currency = 'EUR' AND c.country IN ('DE', 'FR')`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if n != want || n == 0 {
		t.Errorf("chained: %d filtered rows; want %d", n, want)
	}
	_, err := db.Exec(`SELECT count(*) FROM all_orders`)
	if snowflakeCode(err) != 3001 || !strings.Contains(err.Error(), "DEMO.PUBLIC.ALL_ORDERS is a VIEW") {
		t.Errorf("chained: a view over a filtered table: %v; want refused as a VIEW", err)
	}
}

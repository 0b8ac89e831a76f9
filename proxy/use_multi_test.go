package proxy_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy/devstack"
)

// TestMultiStatement_nameAfterUse: in a multi-statement request, a
// statement after USE names its objects in the database and schema the
// USE chose. Each is read against the session as it is when it runs, so
// its masks, decisions and row filters hold as for the same statement
// sent alone.
func TestMultiStatement_nameAfterUse(t *testing.T) {
	plain, err := devstack.Start(context.Background(), devstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plain.Close)
	db := openDBAt(t, plain, "analyst", "DEMO", "NOSUCH")
	ctx, _ := sf.WithMultiStatement(context.Background(), 0)
	for _, q := range []string{`USE SCHEMA DEMO.PUBLIC; SELECT email FROM customers`, `USE SCHEMA PUBLIC; SELECT email FROM customers`} {
		var out []string
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for {
			out = out[:0]
			for rows.Next() {
				var v string
				rows.Scan(&v)
				out = append(out, v)
			}
			if !rows.NextResultSet() {
				break
			}
		}
		rows.Close()
		for _, v := range out {
			if !strings.HasPrefix(v, "****@") {
				t.Fatalf("default library, a session in DEMO.NOSUCH: %s: %q unmasked", q, v)
			}
		}
		if len(out) != 200 {
			t.Errorf("%s: %d rows; want 200", q, len(out))
		}
	}

	st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: rowFilterPolicy(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	for _, at := range []struct{ database, schema string }{{"", ""}, {"DEMO", "NOSUCH"}} {
		db := openDBAt(t, st, "analyst", at.database, at.schema)
		for _, c := range []struct{ sql, check string }{
			{`USE SCHEMA DEMO.PUBLIC; SELECT email FROM customers`, "masked"},
			{`USE DATABASE DEMO; USE SCHEMA PUBLIC; SELECT email FROM customers`, "masked"},
			{`USE SCHEMA DEMO.PUBLIC; SELECT country FROM customers`, "filtered"},
			{`USE SCHEMA DEMO.PUBLIC; SELECT currency FROM orders`, "eur"},
		} {
			ctx, _ := sf.WithMultiStatement(context.Background(), 0)
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := conn.QueryContext(ctx, c.sql)
			if err != nil {
				t.Errorf("%+v: %s: %v", at, c.sql, err)
				conn.Close()
				continue
			}
			var vals []sql.NullString // the last result's: the SELECT's
			for {
				vals = vals[:0]
				for rows.Next() {
					var v sql.NullString
					if err := rows.Scan(&v); err != nil {
						t.Fatal(err)
					}
					vals = append(vals, v)
				}
				if !rows.NextResultSet() {
					break
				}
			}
			n := len(vals)
			for _, v := range vals {
				switch c.check {
				case "masked":
					if !strings.HasPrefix(v.String, "****@") {
						t.Errorf("%+v: %s: %q unmasked", at, c.sql, v.String)
					}
				case "filtered":
					if v.String != "DE" && v.String != "FR" {
						t.Errorf("%+v: %s: a customer in %q", at, c.sql, v.String)
					}
				case "eur":
					if v.String != "EUR" {
						t.Errorf("%+v: %s: an order in %q", at, c.sql, v.String)
					}
				}
			}
			if err := rows.Err(); err != nil || n == 0 {
				t.Errorf("%+v: %s: %d rows, %v", at, c.sql, n, err)
			}
			rows.Close()
			conn.Close()
		}
	}
}

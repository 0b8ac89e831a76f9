package standin

import (
	"context"
	"io"
	"slices"
	"testing"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// queryAll runs q on the session and returns the column names and the rows.
func queryAll(t *testing.T, c *conn, q string) ([]string, [][]any) {
	t.Helper()
	out, err := c.Run(context.Background(), proxy.Exec{SQL: q, Kind: statement.KindSelect})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer out.Rows.Close()
	var names []string
	for _, col := range out.Rows.Columns() {
		names = append(names, col.Name)
	}
	var rows [][]any
	for {
		dst := make([]any, len(names))
		if err := out.Rows.Next(dst); err == io.EOF {
			return names, rows
		} else if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, dst)
	}
}

func TestInformationSchema(t *testing.T) {
	_, c := openSession(t)

	// snowflake-sqlalchemy's reflection of a schema's columns.
	cols, rows := queryAll(t, c, `SELECT /* sqlalchemy:_get_schema_columns */ ic.table_name, ic.column_name, ic.data_type,
		ic.character_maximum_length, ic.numeric_precision, ic.numeric_scale, ic.is_nullable, ic.column_default, ic.is_identity,
		ic.comment, ic.identity_start, ic.identity_increment, ic.data_type_alias
		FROM information_schema.columns ic WHERE ic.table_schema = 'PUBLIC' ORDER BY ic.ordinal_position`)
	if len(cols) != 13 || cols[0] != "TABLE_NAME" || cols[2] != "DATA_TYPE" {
		t.Fatalf("columns %v", cols)
	}
	types := map[string]string{}
	for _, r := range rows {
		if r[0] == "CUSTOMERS" {
			types[r[1].(string)] = r[2].(string)
			if r[1] == "EMAIL" && (r[3] != int32(16777216) && r[3] != int64(16777216) || r[12] != "VARCHAR(16777216)") {
				t.Errorf("EMAIL character_maximum_length %v (%T), alias %v", r[3], r[3], r[12])
			}
			if r[1] == "LIFETIME_VALUE" && r[12] != "NUMBER(12,2)" {
				t.Errorf("LIFETIME_VALUE alias %v", r[12])
			}
		}
	}
	want := map[string]string{"ID": "NUMBER", "EMAIL": "TEXT", "LIFETIME_VALUE": "NUMBER", "CREATED_AT": "TIMESTAMP_NTZ"}
	for col, typ := range want {
		if types[col] != typ {
			t.Errorf("CUSTOMERS.%s: DATA_TYPE %q, want %q (all: %v)", col, types[col], typ, types)
		}
	}

	// Qualified with the database, and with no alias.
	_, rows = queryAll(t, c, `SELECT table_name, table_type FROM DEMO.INFORMATION_SCHEMA.TABLES WHERE table_schema = 'PUBLIC' ORDER BY table_name`)
	var tables []string
	for _, r := range rows {
		tables = append(tables, r[0].(string))
		if r[1] != "BASE TABLE" {
			t.Errorf("%v: table_type %v", r[0], r[1])
		}
	}
	if !slices.Equal(tables, []string{"CUSTOMERS", "EVENTS", "ORDERS"}) {
		t.Errorf("tables %v", tables)
	}
	_, rows = queryAll(t, c, `SELECT columns.column_name FROM information_schema.columns WHERE columns.table_name = 'ORDERS' ORDER BY 1`)
	if len(rows) == 0 {
		t.Error("no columns of ORDERS with the view's own name as qualifier")
	}
	_, rows = queryAll(t, c, `SELECT schema_name FROM demo.information_schema.schemata ORDER BY 1`)
	if len(rows) == 0 || !slices.ContainsFunc(rows, func(r []any) bool { return r[0] == "PUBLIC" }) {
		t.Errorf("schemata %v", rows)
	}

	// The stand-in's own registry is in no database's INFORMATION_SCHEMA.
	_, rows = queryAll(t, c, `SELECT table_name FROM `+quoteIdent(c.s.sys)+`.information_schema.tables`)
	if len(rows) != 0 {
		t.Errorf("the registry's catalog answered %v", rows)
	}
	for _, db := range []string{"system", "temp", `"system"`} {
		if _, rows := queryAll(t, c, `SELECT table_name FROM `+db+`.information_schema.tables`); len(rows) != 0 {
			t.Errorf("DuckDB's %s catalog answered %v", db, rows)
		}
	}
	_, rows = queryAll(t, c, `SELECT table_name FROM information_schema.tables WHERE table_name ILIKE '%users%' OR table_name ILIKE '%grants%'`)
	if len(rows) != 0 {
		t.Errorf("the registry's tables showed: %v", rows)
	}
}

// What clients send that is no query: SHOW with a bound pattern (Snowflake's
// MCP server), USE ROLE in a session opened without a login, and the
// temporary stage pandas' write_pandas creates before its PUT.
func TestClientStatements(t *testing.T) {
	_, c := openSession(t)
	ctx := context.Background()
	pattern := "CUST%"
	out, err := c.Run(ctx, proxy.Exec{SQL: `SHOW TABLES LIKE ? IN SCHEMA IDENTIFIER('DEMO.PUBLIC')`, Kind: statement.KindShow,
		Binds: []proxy.Bind{{Name: "1", Type: "TEXT", Value: &pattern}}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	dst := make([]any, len(out.Rows.Columns()))
	for out.Rows.Next(dst) == nil {
		n++
	}
	out.Rows.Close()
	if n != 1 {
		t.Errorf("SHOW TABLES LIKE ? with CUST%%: %d tables, want 1", n)
	}
	if _, err := c.Run(ctx, proxy.Exec{SQL: `SHOW TABLES LIKE ?`, Kind: statement.KindShow}); err == nil {
		t.Error("SHOW with an unset bind ran")
	}
	for _, q := range []string{`USE ROLE "SNOWGATE_AGENT"`, `CREATE TEMPORARY STAGE IDENTIFIER('"__WRITE_PANDAS_STAGE_ab"') FILE_FORMAT=(TYPE=PARQUET)`, `DROP STAGE x`} {
		if _, err := c.Run(ctx, proxy.Exec{SQL: q, Kind: statement.KindUnknown}); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	if c.state.Role != "SNOWGATE_AGENT" {
		t.Errorf("role after USE ROLE: %q", c.state.Role)
	}
}

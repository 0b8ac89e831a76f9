package standin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// docColumn is a result column as Snowflake's documentation lists it.
// The pages list names and order; the types are those Snowflake's results
// carry: created_on TIMESTAMP_LTZ, counts NUMBER, everything else TEXT.
type docColumn struct{ name, typ string }

// cols reads "name" (TEXT), "name:fixed" and "name:timestamp_ltz".
func cols(spec ...string) []docColumn {
	out := make([]docColumn, len(spec))
	for i, s := range spec {
		name, typ, ok := strings.Cut(s, ":")
		if !ok {
			typ = "text"
		}
		out[i] = docColumn{name, typ}
	}
	return out
}

var (
	// https://docs.snowflake.com/en/sql-reference/sql/show-objects (TERSE),
	// and likewise show-tables, show-views, show-schemas, show-databases.
	docTerse = cols("created_on:timestamp_ltz", "name", "kind", "database_name", "schema_name")
	// https://docs.snowflake.com/en/sql-reference/sql/show-databases (the page's examples: it has no Output table)
	docDatabases = cols("created_on:timestamp_ltz", "name", "is_default", "is_current", "origin", "owner", "comment",
		"options", "retention_time", "kind", "owner_role_type", "object_visibility", "data_quality_monitoring_settings")
	// https://docs.snowflake.com/en/sql-reference/sql/show-schemas (the page's examples: it has no Output table)
	docSchemas = cols("created_on:timestamp_ltz", "name", "is_default", "is_current", "database_name", "owner", "comment",
		"options", "retention_time", "owner_role_type", "object_visibility")
	// https://docs.snowflake.com/en/sql-reference/sql/show-objects#output
	docObjects = cols("created_on:timestamp_ltz", "name", "database_name", "schema_name", "kind", "comment", "cluster_by",
		"rows:fixed", "bytes:fixed", "owner", "retention_time", "is_hybrid", "is_dynamic", "is_iceberg")
	// https://docs.snowflake.com/en/sql-reference/sql/show-tables#output (dropped_on only with HISTORY)
	docTables = cols("created_on:timestamp_ltz", "name", "database_name", "schema_name", "kind", "comment", "cluster_by",
		"rows:fixed", "bytes:fixed", "owner", "retention_time", "automatic_clustering", "change_tracking",
		"search_optimization", "search_optimization_progress:fixed", "search_optimization_bytes:fixed", "is_external",
		"enable_schema_evolution", "owner_role_type", "is_event", "is_hybrid", "is_iceberg", "is_immutable")
	// https://docs.snowflake.com/en/sql-reference/sql/show-views#output
	docViews = cols("created_on:timestamp_ltz", "name", "reserved", "kind", "database_name", "schema_name", "owner",
		"comment", "text", "is_secure", "is_materialized", "owner_role_type", "change_tracking")
	// https://docs.snowflake.com/en/sql-reference/sql/show-columns#output (the last column is headed
	// SchemaEvolutionRecord there; desc-table names it schema_evolution_record)
	docColumns = cols("table_name", "schema_name", "column_name", "data_type", "null?", "default", "kind", "expression",
		"comment", "database_name", "autoincrement", "schema_evolution_record")
	// https://docs.snowflake.com/en/sql-reference/sql/show-primary-keys#output, and show-unique-keys
	docKeys = cols("created_on:timestamp_ltz", "database_name", "schema_name", "table_name", "column_name",
		"key_sequence:fixed", "comment", "constraint_name")
	// https://docs.snowflake.com/en/sql-reference/sql/show-imported-keys
	docImportedKeys = cols("created_on:timestamp_ltz", "pk_database_name", "pk_schema_name", "pk_table_name",
		"pk_column_name", "fk_database_name", "fk_schema_name", "fk_table_name", "fk_column_name", "key_sequence:fixed",
		"update_rule", "delete_rule", "fk_name", "pk_name", "deferrability", "rely", "comment")
	// https://docs.snowflake.com/en/sql-reference/sql/desc-table (and desc-view)
	docDescribe = cols("name", "type", "kind", "null?", "default", "primary key", "unique key", "check", "expression",
		"comment", "policy name", "privacy domain")
)

// showSession opens a stand-in with, besides the sample: a schema
// DEMO.OTHER with a table, a view, a temporary table, a table with
// composite, unique and foreign keys, and a second database.
func showSession(t *testing.T) (*Standin, *conn) {
	t.Helper()
	s, c := openSession(t)
	for _, q := range []string{
		`CREATE SCHEMA DEMO.OTHER`,
		`CREATE TABLE DEMO.OTHER.ORDERS_ARCHIVE (ID BIGINT, AMOUNT NUMBER(12,2))`,
		`CREATE VIEW DEMO.PUBLIC.BIG_ORDERS AS SELECT ID, AMOUNT FROM ORDERS WHERE AMOUNT > 500`,
		`CREATE TEMPORARY TABLE SCRATCH (X INT)`,
		`CREATE TABLE DEMO.PUBLIC.LINES (ORDER_ID BIGINT, LINE INT, SKU VARCHAR UNIQUE, PRIMARY KEY (ORDER_ID, LINE),
			FOREIGN KEY (ORDER_ID) REFERENCES ORDERS (ID))`,
		`CREATE DATABASE SALES`,
		`CREATE TABLE SALES.PUBLIC.LEADS (ID INT)`,
	} {
		if _, err := c.Run(context.Background(), proxy.Exec{SQL: q, Kind: statement.KindCreate}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return s, c
}

// runShow runs a SHOW or DESCRIBE and reads its whole result.
func runShow(t *testing.T, c *conn, sql string) ([]proxy.Column, []map[string]any) {
	t.Helper()
	out, err := c.Run(context.Background(), proxy.Exec{SQL: sql, Kind: statement.KindShow})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if out.Rows == nil {
		t.Fatalf("%s: no result set", sql)
	}
	defer out.Rows.Close()
	cs := out.Rows.Columns()
	var rows []map[string]any
	for {
		dst := make([]any, len(cs))
		err := out.Rows.Next(dst)
		if err == io.EOF {
			return cs, rows
		}
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		row := map[string]any{}
		for i, col := range cs {
			row[col.Name] = dst[i]
		}
		rows = append(rows, row)
	}
}

// runErr runs a statement expected to fail, closing the result of one
// that does not (the session runs nothing else until it is closed).
func runErr(c *conn, sql string) error {
	out, err := c.Run(context.Background(), proxy.Exec{SQL: sql, Kind: statement.KindShow})
	if err == nil && out.Rows != nil {
		out.Rows.Close()
	}
	return err
}

// valuesOf is one column of rows, each value printed ("<nil>" for NULL).
func valuesOf(rows []map[string]any, name string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(r[name])
	}
	return out
}

// TestShow_DocumentedColumns: every form's result columns are those
// Snowflake documents, name by name, in order, typed as Snowflake types
// them, and every value is of its column's type.
func TestShow_DocumentedColumns(t *testing.T) {
	_, c := showSession(t)
	for _, tc := range []struct {
		sql  string
		want []docColumn
	}{
		{"SHOW DATABASES", docDatabases},
		{"SHOW TERSE DATABASES", docTerse},
		{"SHOW SCHEMAS", docSchemas},
		{"show terse schemas in database DEMO limit 10000", docTerse},
		{"SHOW OBJECTS", docObjects},
		{"SHOW TERSE OBJECTS IN ACCOUNT", docTerse},
		{"SHOW TABLES", docTables},
		{"SHOW TERSE TABLES", docTerse},
		{"SHOW VIEWS", docViews},
		{"SHOW TERSE VIEWS", docTerse},
		{"SHOW COLUMNS", docColumns},
		{"SHOW PRIMARY KEYS", docKeys},
		{"SHOW UNIQUE KEYS", docKeys},
		{"SHOW TERSE PRIMARY KEYS", docKeys}, // TERSE is accepted and changes nothing
		{"SHOW IMPORTED KEYS", docImportedKeys},
		{"DESCRIBE TABLE CUSTOMERS", docDescribe},
		{"DESC VIEW BIG_ORDERS", docDescribe},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			got, rows := runShow(t, c, tc.sql)
			if len(rows) == 0 {
				t.Errorf("no rows")
			}
			for i := 0; i < max(len(got), len(tc.want)); i++ {
				var g proxy.Column
				var w docColumn
				if i < len(got) {
					g = got[i]
				}
				if i < len(tc.want) {
					w = tc.want[i]
				}
				if g.Name != w.name || g.Type != w.typ {
					t.Errorf("column %d: %q %s, want %q %s", i, g.Name, g.Type, w.name, w.typ)
				}
			}
			for _, r := range rows {
				for _, col := range got {
					ok := true
					switch v := r[col.Name]; v.(type) {
					case nil:
					case string:
						ok = col.Type == "text"
					case int64:
						ok = col.Type == "fixed"
					case time.Time:
						ok = col.Type == "timestamp_ltz"
					default:
						ok = false
					}
					if !ok {
						t.Errorf("%s = %v (%T) in a %s column", col.Name, r[col.Name], r[col.Name], col.Type)
					}
				}
			}
		})
	}
}

// TestShow_Scopes: LIKE, IN in each of its forms, STARTS WITH, LIMIT and
// LIMIT ... FROM, quoted and IDENTIFIER names, and without IN the
// session's current schema (SHOW SCHEMAS: its current database).
func TestShow_Scopes(t *testing.T) {
	_, c := showSession(t)
	publicTables := []string{"CUSTOMERS", "EVENTS", "LINES", "ORDERS", "SCRATCH"}
	for _, tc := range []struct {
		sql  string
		col  string
		want []string
	}{
		{"SHOW TABLES", "name", publicTables},
		{"show tables like 'ord%'", "name", []string{"ORDERS"}},
		{"SHOW TABLES LIKE '%S'", "name", []string{"CUSTOMERS", "EVENTS", "LINES", "ORDERS"}},
		{"SHOW TABLES LIKE 'ORDER_'", "name", []string{"ORDERS"}},
		{`SHOW TABLES LIKE 'ORDERS\\_%' IN ACCOUNT`, "name", []string{"ORDERS_ARCHIVE"}},
		{`SHOW TABLES LIKE 'ORDERS\\_' IN ACCOUNT`, "name", nil},
		{"SHOW TABLES IN SCHEMA DEMO.OTHER", "name", []string{"ORDERS_ARCHIVE"}},
		{"SHOW TABLES IN SCHEMA OTHER", "name", []string{"ORDERS_ARCHIVE"}},
		{"SHOW TABLES IN DEMO.OTHER", "name", []string{"ORDERS_ARCHIVE"}},
		{"SHOW TABLES IN other", "name", []string{"ORDERS_ARCHIVE"}},
		{`SHOW TABLES IN SCHEMA "DEMO"."OTHER"`, "name", []string{"ORDERS_ARCHIVE"}},
		{`SHOW TABLES IN SCHEMA IDENTIFIER('demo.other')`, "name", []string{"ORDERS_ARCHIVE"}},
		{`SHOW TABLES IN IDENTIFIER('"DEMO"."OTHER"')`, "name", []string{"ORDERS_ARCHIVE"}},
		{"SHOW TABLES IN SCHEMA", "name", publicTables},
		{"SHOW TABLES IN DATABASE DEMO", "name", append([]string{"ORDERS_ARCHIVE"}, publicTables...)},
		{"SHOW TABLES IN DATABASE", "name", append([]string{"ORDERS_ARCHIVE"}, publicTables...)},
		{"SHOW TABLES IN SALES", "name", []string{"LEADS"}},
		{"SHOW TABLES IN ACCOUNT", "name", append(append([]string{"ORDERS_ARCHIVE"}, publicTables...), "LEADS")},
		{"SHOW TABLES IN ACCOUNT", "database_name", []string{"DEMO", "DEMO", "DEMO", "DEMO", "DEMO", "DEMO", "SALES"}},
		{"SHOW TABLES STARTS WITH 'ORD'", "name", []string{"ORDERS"}},
		{"SHOW TABLES STARTS WITH 'ord'", "name", nil},
		{"SHOW TABLES LIMIT 2", "name", []string{"CUSTOMERS", "EVENTS"}},
		{"SHOW TABLES LIMIT 2 FROM 'EVENTS'", "name", []string{"LINES", "ORDERS"}},
		{"SHOW TABLES LIMIT 10 FROM 'E'", "name", []string{"EVENTS", "LINES", "ORDERS", "SCRATCH"}},
		{"SHOW TABLES LIKE '%S' STARTS WITH 'E' LIMIT 5", "name", []string{"EVENTS"}},
		{"SHOW /* a comment */ TERSE TABLES IN SCHEMA demo.public", "name", publicTables},
		{"SHOW VIEWS", "name", []string{"BIG_ORDERS"}},
		{"SHOW VIEWS IN SCHEMA DEMO.OTHER", "name", nil},
		{"SHOW OBJECTS", "name", []string{"BIG_ORDERS", "CUSTOMERS", "EVENTS", "LINES", "ORDERS", "SCRATCH"}},
		{"SHOW OBJECTS LIKE 'big%'", "kind", []string{"VIEW"}},
		{"SHOW DATABASES", "name", []string{"DEMO", "SALES"}},
		{"SHOW DATABASES LIKE 'sal%'", "name", []string{"SALES"}},
		{"SHOW DATABASES STARTS WITH 'D'", "name", []string{"DEMO"}},
		{"SHOW DATABASES LIMIT 1", "name", []string{"DEMO"}},
		{"SHOW SCHEMAS", "name", []string{"INFORMATION_SCHEMA", "OTHER", "PUBLIC"}},
		{"SHOW SCHEMAS LIKE 'p%'", "name", []string{"PUBLIC"}},
		{"SHOW SCHEMAS IN DATABASE SALES", "name", []string{"INFORMATION_SCHEMA", "PUBLIC"}},
		{"SHOW SCHEMAS IN SALES", "name", []string{"INFORMATION_SCHEMA", "PUBLIC"}},
		{`SHOW TERSE SCHEMAS IN DATABASE IDENTIFIER('SALES')`, "database_name", []string{"SALES", "SALES"}},
		{"SHOW SCHEMAS IN ACCOUNT", "database_name", []string{"DEMO", "DEMO", "DEMO", "SALES", "SALES"}},
		{"SHOW COLUMNS IN TABLE ORDERS", "column_name", []string{"ID", "CUSTOMER_ID", "AMOUNT", "CURRENCY", "STATUS", "ORDERED_AT"}},
		{"SHOW COLUMNS IN demo.public.orders", "column_name", []string{"ID", "CUSTOMER_ID", "AMOUNT", "CURRENCY", "STATUS", "ORDERED_AT"}},
		{"SHOW COLUMNS LIKE '%_at' IN SCHEMA DEMO.PUBLIC", "table_name", []string{"CUSTOMERS", "EVENTS", "ORDERS"}},
		{"SHOW COLUMNS IN VIEW BIG_ORDERS", "column_name", []string{"ID", "AMOUNT"}},
	} {
		_, rows := runShow(t, c, tc.sql)
		if got := valuesOf(rows, tc.col); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s: %s = %q, want %q", tc.sql, tc.col, got, tc.want)
		}
	}

	// The session's scope follows USE.
	for _, tc := range []struct {
		use, sql string
		want     []string
	}{
		{"USE SCHEMA DEMO.OTHER", "SHOW TABLES", []string{"ORDERS_ARCHIVE", "SCRATCH"}},
		{"USE DATABASE SALES", "SHOW TABLES", []string{"LEADS", "SCRATCH"}},
		{"USE DATABASE SALES", "SHOW SCHEMAS", []string{"INFORMATION_SCHEMA", "PUBLIC"}},
	} {
		if _, err := c.Run(context.Background(), proxy.Exec{SQL: tc.use, Kind: statement.KindUse}); err != nil {
			t.Fatalf("%s: %v", tc.use, err)
		}
		if _, rows := runShow(t, c, tc.sql); !slices.Equal(valuesOf(rows, "name"), tc.want) {
			t.Errorf("after %s, %s: %q, want %q", tc.use, tc.sql, valuesOf(rows, "name"), tc.want)
		}
	}
}

// TestShow_Values: the values of what the stand-in knows: kinds, the
// current database and schema, row counts, view text, key columns.
func TestShow_Values(t *testing.T) {
	_, c := showSession(t)
	byName := func(rows []map[string]any, name string) map[string]any {
		t.Helper()
		for _, r := range rows {
			if r["name"] == name || r["column_name"] == name {
				return r
			}
		}
		t.Fatalf("no row %s in %v", name, rows)
		return nil
	}
	for _, tc := range []struct {
		sql, name, col string
		want           any
	}{
		{"SHOW TABLES", "CUSTOMERS", "kind", "TABLE"},
		{"SHOW TABLES", "CUSTOMERS", "rows", int64(200)},
		{"SHOW TABLES", "CUSTOMERS", "database_name", "DEMO"},
		{"SHOW TABLES", "CUSTOMERS", "schema_name", "PUBLIC"},
		{"SHOW TABLES", "SCRATCH", "kind", "TEMPORARY"},
		{"SHOW TABLES", "SCRATCH", "schema_name", "PUBLIC"},
		{"SHOW TERSE TABLES", "SCRATCH", "kind", "TABLE"},
		{"SHOW OBJECTS", "BIG_ORDERS", "kind", "VIEW"},
		{"SHOW OBJECTS", "ORDERS", "kind", "TABLE"},
		{"SHOW VIEWS", "BIG_ORDERS", "kind", "VIEW"},
		{"SHOW VIEWS", "BIG_ORDERS", "is_secure", "false"},
		{"SHOW DATABASES", "DEMO", "is_current", "Y"},
		{"SHOW DATABASES", "SALES", "is_current", "N"},
		{"SHOW TERSE DATABASES", "DEMO", "kind", nil},
		{"SHOW SCHEMAS", "PUBLIC", "is_current", "Y"},
		{"SHOW SCHEMAS", "OTHER", "is_current", "N"},
		{"SHOW SCHEMAS", "INFORMATION_SCHEMA", "database_name", "DEMO"},
		{"SHOW TERSE SCHEMAS", "PUBLIC", "schema_name", nil},
		{"SHOW COLUMNS IN TABLE CUSTOMERS", "ID", "data_type", `{"type":"FIXED","precision":38,"scale":0,"nullable":false}`},
		{"SHOW COLUMNS IN TABLE CUSTOMERS", "ID", "null?", "false"},
		{"SHOW COLUMNS IN TABLE CUSTOMERS", "LIFETIME_VALUE", "data_type", `{"type":"FIXED","precision":12,"scale":2,"nullable":true}`},
		{"SHOW COLUMNS IN TABLE CUSTOMERS", "EMAIL", "data_type", `{"type":"TEXT","length":16777216,"byteLength":16777216,"nullable":true,"fixed":false}`},
		{"SHOW COLUMNS IN TABLE CUSTOMERS", "CREATED_AT", "data_type", `{"type":"TIMESTAMP_NTZ","precision":0,"scale":9,"nullable":true}`},
		{"SHOW COLUMNS IN TABLE EVENTS", "PAYLOAD", "data_type", `{"type":"VARIANT","nullable":true}`},
		{"SHOW COLUMNS IN TABLE EVENTS", "PAYLOAD", "kind", "COLUMN"},
	} {
		_, rows := runShow(t, c, tc.sql)
		if got := byName(rows, tc.name)[tc.col]; got != tc.want {
			t.Errorf("%s: %s.%s = %v (%T), want %v", tc.sql, tc.name, tc.col, got, got, tc.want)
		}
	}
	_, views := runShow(t, c, "SHOW VIEWS")
	if text, _ := byName(views, "BIG_ORDERS")["text"].(string); !strings.Contains(text, "AMOUNT > 500") {
		t.Errorf("SHOW VIEWS: text = %q, want the view's query", text)
	}
}

// TestShow_Keys: the primary, unique and foreign keys DuckDB keeps, a row
// per column, as snowflake-sqlalchemy's reflection asks for them.
func TestShow_Keys(t *testing.T) {
	_, c := showSession(t)
	keys := func(rows []map[string]any, cols ...string) []string {
		var out []string
		for _, r := range rows {
			var parts []string
			for _, col := range cols {
				parts = append(parts, fmt.Sprint(r[col]))
			}
			out = append(out, strings.Join(parts, " "))
		}
		return out
	}
	_, pks := runShow(t, c, "SHOW /* sqlalchemy:get_pk_constraint */ PRIMARY KEYS IN SCHEMA demo.public")
	if got, want := keys(pks, "table_name", "column_name", "key_sequence"),
		[]string{"CUSTOMERS ID 1", "EVENTS ID 1", "LINES ORDER_ID 1", "LINES LINE 2", "ORDERS ID 1"}; !slices.Equal(got, want) {
		t.Errorf("primary keys: %q, want %q", got, want)
	}
	var ordersPK any
	for _, r := range pks {
		if r["constraint_name"] == nil || r["constraint_name"] == "" {
			t.Errorf("primary key %v without a constraint name", r)
		}
		if r["table_name"] == "ORDERS" {
			ordersPK = r["constraint_name"]
		}
	}
	for _, tc := range []struct {
		sql  string
		cols []string
		want []string
	}{
		{"SHOW PRIMARY KEYS IN TABLE LINES", []string{"column_name", "key_sequence"}, []string{"ORDER_ID 1", "LINE 2"}},
		{"SHOW PRIMARY KEYS IN ACCOUNT", []string{"database_name", "table_name"},
			[]string{"DEMO CUSTOMERS", "DEMO EVENTS", "DEMO LINES", "DEMO LINES", "DEMO ORDERS"}},
		{"SHOW PRIMARY KEYS IN SCHEMA DEMO.OTHER", []string{"table_name"}, nil},
		{"SHOW /* sqlalchemy:get_unique_constraints */ UNIQUE KEYS IN SCHEMA DEMO.PUBLIC", []string{"table_name", "column_name", "key_sequence"}, []string{"LINES SKU 1"}},
		{"SHOW /* sqlalchemy:get_foreign_keys */ IMPORTED KEYS IN SCHEMA DEMO.PUBLIC",
			[]string{"pk_database_name", "pk_schema_name", "pk_table_name", "pk_column_name", "fk_table_name", "fk_column_name", "key_sequence", "pk_name"},
			[]string{fmt.Sprintf("DEMO PUBLIC ORDERS ID LINES ORDER_ID 1 %v", ordersPK)}},
		{"SHOW IMPORTED KEYS IN TABLE ORDERS", []string{"fk_table_name"}, nil},
	} {
		_, rows := runShow(t, c, tc.sql)
		if got := keys(rows, tc.cols...); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// TestDescribe_Types: DESCRIBE TABLE reports each column's type as
// Snowflake spells it, from the DuckDB type the stand-in's dialect made of
// the Snowflake type, with its nullability, default and keys.
func TestDescribe_Types(t *testing.T) {
	_, c := openSession(t)
	create := `CREATE TABLE TYPED (N NUMBER, N2 NUMBER(10,2), I INT, BI BIGINT, F FLOAT, D DOUBLE, S STRING, V VARCHAR,
		B BOOLEAN, DT DATE, TM TIME, TS TIMESTAMP_NTZ, TSL TIMESTAMP_LTZ, VAR VARIANT, BIN BINARY,
		NN INT NOT NULL DEFAULT 7, ID INT PRIMARY KEY, U VARCHAR UNIQUE)`
	if _, err := c.Run(context.Background(), proxy.Exec{SQL: create, Kind: statement.KindCreate}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"N NUMBER(38,0) Y <nil> N N", "N2 NUMBER(10,2) Y <nil> N N", "I NUMBER(38,0) Y <nil> N N", "BI NUMBER(38,0) Y <nil> N N",
		"F FLOAT Y <nil> N N", "D FLOAT Y <nil> N N", "S VARCHAR(16777216) Y <nil> N N", "V VARCHAR(16777216) Y <nil> N N",
		"B BOOLEAN Y <nil> N N", "DT DATE Y <nil> N N", "TM TIME(9) Y <nil> N N", "TS TIMESTAMP_NTZ(9) Y <nil> N N",
		"TSL TIMESTAMP_LTZ(9) Y <nil> N N", "VAR VARIANT Y <nil> N N", "BIN BINARY(8388608) Y <nil> N N",
		"NN NUMBER(38,0) N 7 N N", "ID NUMBER(38,0) N <nil> Y N", "U VARCHAR(16777216) Y <nil> N Y",
	}
	for _, sql := range []string{"DESCRIBE TABLE TYPED", "DESC TABLE demo.public.typed", "DESCRIBE TYPED",
		`DESC TABLE "DEMO"."PUBLIC"."TYPED" TYPE = COLUMNS`, "DESCRIBE TABLE IDENTIFIER('PUBLIC.TYPED')"} {
		_, rows := runShow(t, c, sql)
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprint(r["name"], " ", r["type"], " ", r["null?"], " ", r["default"], " ", r["primary key"], " ", r["unique key"]))
			if r["kind"] != "COLUMN" {
				t.Errorf("%s: %s kind = %v, want COLUMN", sql, r["name"], r["kind"])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", sql, got, want)
		}
	}
}

// TestShow_InternalCatalogNeverShows: the stand-in's user registry and
// DuckDB's own catalogs and schemas appear in no SHOW, and cannot be named.
func TestShow_InternalCatalogNeverShows(t *testing.T) {
	s, c := showSession(t)
	ctx := context.Background()
	if err := s.EnsureAdmin(ctx, "ALICE", "secret"); err != nil {
		t.Fatal(err)
	}
	hidden := []string{s.sys, "SYSTEM", "TEMP", "MAIN", "PG_CATALOG", "SNOWGATE_STANDIN", "USERS", "GRANTS"}
	for _, sql := range []string{
		"SHOW DATABASES", "SHOW TERSE DATABASES", "SHOW SCHEMAS IN ACCOUNT", "SHOW OBJECTS IN ACCOUNT",
		"SHOW TABLES IN ACCOUNT", "SHOW VIEWS IN ACCOUNT", "SHOW COLUMNS IN ACCOUNT",
		"SHOW PRIMARY KEYS IN ACCOUNT", "SHOW UNIQUE KEYS IN ACCOUNT", "SHOW IMPORTED KEYS IN ACCOUNT",
	} {
		_, rows := runShow(t, c, sql)
		for _, r := range rows {
			for col, v := range r {
				str, _ := v.(string)
				if col == "name" && str == "information_schema" ||
					slices.ContainsFunc(hidden, func(h string) bool { return strings.EqualFold(h, str) }) {
					t.Errorf("%s: %s = %q", sql, col, str)
				}
			}
		}
	}
	// Snowflake shows each database's INFORMATION_SCHEMA.
	_, rows := runShow(t, c, "SHOW SCHEMAS IN ACCOUNT")
	if got := valuesOf(rows, "name"); !slices.Equal(got, []string{"INFORMATION_SCHEMA", "OTHER", "PUBLIC", "INFORMATION_SCHEMA", "PUBLIC"}) {
		t.Errorf("SHOW SCHEMAS IN ACCOUNT: %q", got)
	}
	for _, sql := range []string{
		"SHOW TABLES IN DATABASE " + quoteIdent(s.sys),
		"SHOW SCHEMAS IN DATABASE " + quoteIdent(s.sys),
		"SHOW TABLES IN SCHEMA " + quoteIdent(s.sys) + ".SNOWGATE_STANDIN",
		"DESCRIBE TABLE " + quoteIdent(s.sys) + ".SNOWGATE_STANDIN.USERS",
		"SHOW COLUMNS IN TABLE " + quoteIdent(s.sys) + ".SNOWGATE_STANDIN.USERS",
		"SHOW TABLES IN DATABASE system",
		"SHOW TABLES IN SCHEMA DEMO.main",
		"DESCRIBE TABLE system.main.duckdb_tables",
	} {
		if err := runErr(c, sql); err == nil {
			t.Errorf("%s: no error", sql)
		}
	}
}

// TestShow_Errors: forms the stand-in does not answer, names that do not
// exist and malformed statements are Snowflake errors, and DuckDB's own
// SHOW and DESCRIBE never answer.
func TestShow_Errors(t *testing.T) {
	_, c := showSession(t)
	for _, tc := range []struct {
		sql, code, says string
	}{
		{"SHOW WAREHOUSES", "002099", "SHOW WAREHOUSES is not supported"},
		{"SHOW GRANTS TO ROLE PUBLIC", "002099", "SHOW GRANTS TO ROLE is not supported"},
		{"SHOW TABLES HISTORY", "002099", "SHOW TABLES HISTORY is not supported"},
		{"SHOW TABLES IN APPLICATION APP", "002099", "not supported"},
		{"SHOW ALL TABLES", "002099", "not supported"},
		{"DESCRIBE DATABASE DEMO", "002099", "DESCRIBE DATABASE is not supported"},
		{"DESC RESULT '01b2c3'", "002099", "not supported"},
		{"DESCRIBE SELECT 1", "002099", "not supported"},
		{"DESCRIBE TABLE CUSTOMERS TYPE = STAGE", "002099", "TYPE = STAGE is not supported"},
		{"SHOW TABLES IN SCHEMA DEMO.NOPE", "002043", "Schema 'DEMO.NOPE' does not exist or not authorized."},
		{"SHOW TABLES IN DATABASE NOPE", "002043", "Database 'NOPE' does not exist or not authorized."},
		{"SHOW TABLES IN NOPE", "002043", "Schema 'NOPE' does not exist or not authorized."},
		{"DESCRIBE TABLE NOPE", "002003", "Table 'NOPE' does not exist or not authorized."},
		{"DESC VIEW DEMO.PUBLIC.NOPE", "002003", "View 'DEMO.PUBLIC.NOPE' does not exist or not authorized."},
		{"SHOW COLUMNS IN TABLE NOPE", "002003", "Table 'NOPE' does not exist or not authorized."},
		{"SHOW TABLES LIKE", "001003", "syntax error"},
		{"SHOW TABLES LIKE name", "001003", "syntax error"},
		{"SHOW TABLES LIMIT 'x'", "001003", "syntax error"},
		{"SHOW TABLES EXTRA", "001003", "syntax error"},
		{"SHOW DATABASES IN ACCOUNT", "001003", "syntax error"},
		{"SHOW PRIMARY KEYS LIKE 'X'", "001003", "syntax error"},
		{"SHOW TABLES IN TABLE ORDERS", "001003", "syntax error"},
		{"SHOW TERSE COLUMNS", "001003", "syntax error"},
		{"DESCRIBE TABLE CUSTOMERS EXTRA", "001003", "syntax error"},
	} {
		err := runErr(c, tc.sql)
		var se *sqlErr
		if !errors.As(err, &se) {
			t.Errorf("%s: %v (%T), want a Snowflake error", tc.sql, err, err)
			continue
		}
		if se.code != tc.code || !strings.Contains(se.msg, tc.says) {
			t.Errorf("%s: %s %q, want %s saying %q", tc.sql, se.code, se.msg, tc.code, tc.says)
		}
	}
}

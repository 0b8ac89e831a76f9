package standin

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/snowgate/snowgate/proxy"
)

// The stand-in's catalog, as Snowflake would name it, read for SHOW and
// DESCRIBE (show.go); Snowflake's types for DuckDB's; and the rows a SHOW
// answers with.

// place is where Snowflake would say an object of DuckDB's catalog lives:
// a temporary one (in DuckDB's temp catalog) in the session's current
// schema, any other where it is, upper-cased. ok is false for the
// stand-in's own catalog and DuckDB's system catalog.
func (c *conn) place(db, schema string) (string, string, bool) {
	switch {
	case db == "temp":
		return c.state.Database, c.state.Schema, c.state.Database != ""
	case db == "system" || strings.EqualFold(db, c.s.sys):
		return "", "", false
	}
	return strings.ToUpper(db), strings.ToUpper(schema), true
}

func (c *conn) databases(ctx context.Context) ([]string, error) {
	rows, err := c.c.QueryContext(ctx, `SELECT database_name FROM duckdb_databases() WHERE NOT internal ORDER BY database_name`)
	if err != nil {
		return nil, fmt.Errorf("stand-in catalog: %w", err)
	}
	defer rows.Close()
	var dbs []string
	for rows.Next() {
		var db string
		if err := rows.Scan(&db); err != nil {
			return nil, err
		}
		if d, _, ok := c.place(db, ""); ok {
			dbs = append(dbs, d)
		}
	}
	return dbs, rows.Err()
}

type schemaEntry struct{ db, name, comment string }

// schemas are the schemas of every database, with Snowflake's
// INFORMATION_SCHEMA in each, and without DuckDB's main schema unless
// something was created in it.
func (c *conn) schemas(ctx context.Context) ([]schemaEntry, error) {
	rels, err := c.relations(ctx)
	if err != nil {
		return nil, err
	}
	used := map[[2]string]bool{}
	for _, r := range rels {
		if !r.temporary {
			used[[2]string{r.db, r.schema}] = true
		}
	}
	rows, err := c.c.QueryContext(ctx, `SELECT database_name, schema_name, comment FROM duckdb_schemas() ORDER BY database_name, schema_name`)
	if err != nil {
		return nil, fmt.Errorf("stand-in catalog: %w", err)
	}
	defer rows.Close()
	var out []schemaEntry
	seen := map[string]bool{}
	for rows.Next() {
		var db, schema string
		var comment sql.NullString
		if err := rows.Scan(&db, &schema, &comment); err != nil {
			return nil, err
		}
		d, s, ok := c.place(db, schema)
		if !ok || db == "temp" || schema == "main" && !used[[2]string{d, s}] {
			continue
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, schemaEntry{d, "INFORMATION_SCHEMA", "Views describing the contents of schemas in this database"})
		}
		out = append(out, schemaEntry{d, s, comment.String})
	}
	return out, rows.Err()
}

// relation is a table or view.
type relation struct {
	db, schema, name string
	view, temporary  bool
	rows             sql.NullInt64
	comment, text    string
}

func (c *conn) relations(ctx context.Context) ([]relation, error) {
	rows, err := c.c.QueryContext(ctx, `
		SELECT database_name, schema_name, table_name, false, estimated_size, comment, NULL FROM duckdb_tables() WHERE NOT internal
		UNION ALL
		SELECT database_name, schema_name, view_name, true, NULL, comment, sql FROM duckdb_views() WHERE NOT internal`)
	if err != nil {
		return nil, fmt.Errorf("stand-in catalog: %w", err)
	}
	defer rows.Close()
	var out []relation
	for rows.Next() {
		var r relation
		var db, schema string
		var comment, text sql.NullString
		if err := rows.Scan(&db, &schema, &r.name, &r.view, &r.rows, &comment, &text); err != nil {
			return nil, err
		}
		var ok bool
		if r.db, r.schema, ok = c.place(db, schema); !ok {
			continue
		}
		r.temporary = db == "temp"
		r.name = strings.ToUpper(r.name)
		r.comment = comment.String
		r.text = strings.TrimSuffix(strings.TrimSpace(text.String), ";")
		out = append(out, r)
	}
	return out, rows.Err()
}

// columnEntry is a column of a table or view.
type columnEntry struct {
	db, schema, table, name, duckType string
	index                             int64
	nullable                          bool
	def, comment                      sql.NullString
}

func (c *conn) columns(ctx context.Context, sc scope) ([]columnEntry, error) {
	rows, err := c.c.QueryContext(ctx, `SELECT database_name, schema_name, table_name, column_name, column_index, data_type,
		is_nullable, column_default, comment FROM duckdb_columns() WHERE NOT internal`)
	if err != nil {
		return nil, fmt.Errorf("stand-in catalog: %w", err)
	}
	defer rows.Close()
	var out []columnEntry
	for rows.Next() {
		var col columnEntry
		var db, schema string
		if err := rows.Scan(&db, &schema, &col.table, &col.name, &col.index, &col.duckType, &col.nullable, &col.def, &col.comment); err != nil {
			return nil, err
		}
		var ok bool
		if col.db, col.schema, ok = c.place(db, schema); !ok {
			continue
		}
		col.table, col.name = strings.ToUpper(col.table), strings.ToUpper(col.name)
		if sc.holds(col.db, col.schema, col.table) {
			out = append(out, col)
		}
	}
	return out, rows.Err()
}

// key is a primary, unique or foreign key.
type key struct {
	duckDB                        string // the DuckDB catalog, which a foreign key does not leave
	db, schema, table, kind, name string
	cols                          []string
	refTable                      string
	refCols                       []string
}

func (c *conn) keys(ctx context.Context) ([]key, error) {
	rows, err := c.c.QueryContext(ctx, `SELECT database_name, schema_name, table_name, constraint_type, constraint_name,
		constraint_column_names, referenced_table, referenced_column_names
		FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')`)
	if err != nil {
		return nil, fmt.Errorf("stand-in catalog: %w", err)
	}
	defer rows.Close()
	var out []key
	for rows.Next() {
		var k key
		var schema string
		var cols, refCols any
		var refTable sql.NullString
		if err := rows.Scan(&k.duckDB, &schema, &k.table, &k.kind, &k.name, &cols, &refTable, &refCols); err != nil {
			return nil, err
		}
		var ok bool
		if k.db, k.schema, ok = c.place(k.duckDB, schema); !ok {
			continue
		}
		k.table, k.name, k.refTable = strings.ToUpper(k.table), strings.ToUpper(k.name), refTable.String
		k.cols, k.refCols = upperList(cols), upperList(refCols)
		out = append(out, k)
	}
	return out, rows.Err()
}

func upperList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, strings.ToUpper(fmt.Sprint(x)))
	}
	return out
}

func equalFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// sfType is a Snowflake data type, as DESCRIBE and SHOW COLUMNS report it.
type sfType struct {
	kind             string // FIXED, REAL, TEXT, BINARY, BOOLEAN, DATE, TIME, TIMESTAMP_NTZ/LTZ/TZ, VARIANT, ARRAY, OBJECT
	precision, scale int
}

// snowflakeType maps a DuckDB column type to the Snowflake type the
// stand-in's dialect made it from (see dialect.go).
func snowflakeType(duck string) sfType {
	switch {
	case duck == "BOOLEAN":
		return sfType{kind: "BOOLEAN"}
	case duck == "TINYINT", duck == "SMALLINT", duck == "INTEGER", duck == "BIGINT", duck == "HUGEINT",
		duck == "UTINYINT", duck == "USMALLINT", duck == "UINTEGER", duck == "UBIGINT", duck == "UHUGEINT":
		return sfType{kind: "FIXED", precision: 38}
	case decimalType.MatchString(duck):
		m := decimalType.FindStringSubmatch(duck)
		p, _ := strconv.Atoi(m[1])
		s, _ := strconv.Atoi(m[2])
		return sfType{kind: "FIXED", precision: p, scale: s}
	case duck == "FLOAT", duck == "DOUBLE", duck == "REAL":
		return sfType{kind: "REAL"}
	case duck == "BLOB":
		return sfType{kind: "BINARY"}
	case duck == "DATE":
		return sfType{kind: "DATE"}
	case duck == "TIME", duck == "TIME WITH TIME ZONE":
		return sfType{kind: "TIME", scale: 9}
	case duck == "TIMESTAMP", duck == "TIMESTAMP_NS", duck == "TIMESTAMP_MS", duck == "TIMESTAMP_S":
		return sfType{kind: "TIMESTAMP_NTZ", scale: 9}
	case duck == "TIMESTAMP WITH TIME ZONE", duck == "TIMESTAMPTZ":
		return sfType{kind: "TIMESTAMP_LTZ", scale: 9}
	case duck == tzStruct:
		return sfType{kind: "TIMESTAMP_TZ", scale: 9}
	case duck == "JSON":
		return sfType{kind: "VARIANT"}
	case strings.HasSuffix(duck, "]"):
		return sfType{kind: "ARRAY"}
	case strings.HasPrefix(duck, "STRUCT"), strings.HasPrefix(duck, "MAP"):
		return sfType{kind: "OBJECT"}
	}
	return sfType{kind: "TEXT"}
}

// String is the type as DESCRIBE TABLE spells it.
func (t sfType) String() string {
	switch t.kind {
	case "FIXED":
		return fmt.Sprintf("NUMBER(%d,%d)", t.precision, t.scale)
	case "REAL":
		return "FLOAT"
	case "TEXT":
		return "VARCHAR(16777216)"
	case "BINARY":
		return "BINARY(8388608)"
	case "TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		return fmt.Sprintf("%s(%d)", t.kind, t.scale)
	}
	return t.kind
}

// json is the type as SHOW COLUMNS reports it in data_type.
func (t sfType) json(nullable bool) string {
	n := strconv.FormatBool(nullable)
	switch t.kind {
	case "FIXED":
		return fmt.Sprintf(`{"type":"FIXED","precision":%d,"scale":%d,"nullable":%s}`, t.precision, t.scale, n)
	case "TEXT":
		return `{"type":"TEXT","length":16777216,"byteLength":16777216,"nullable":` + n + `,"fixed":false}`
	case "BINARY":
		return `{"type":"BINARY","length":8388608,"byteLength":8388608,"nullable":` + n + `,"fixed":false}`
	case "TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		return fmt.Sprintf(`{"type":"%s","precision":0,"scale":%d,"nullable":%s}`, t.kind, t.scale, n)
	}
	return `{"type":"` + t.kind + `","nullable":` + n + `}`
}

// listRows is a result the stand-in built itself.
type listRows struct {
	cols []proxy.Column
	rows [][]any
}

func newListRows(fields []field, items []item) *listRows {
	r := &listRows{cols: make([]proxy.Column, len(fields))}
	for i, f := range fields {
		col := proxy.Column{Name: f.name, Type: f.typ, Nullable: true}
		switch f.typ {
		case typFixed:
			col.Precision = 38
		case typLTZ:
			col.Scale = 3
		}
		r.cols[i] = col
	}
	for _, it := range items {
		row := make([]any, len(fields))
		for i, f := range fields {
			if v, ok := it.vals[f.name]; ok {
				row[i] = v
			} else {
				row[i] = f.def
			}
		}
		r.rows = append(r.rows, row)
	}
	return r
}

func (r *listRows) Columns() []proxy.Column { return r.cols }
func (r *listRows) Close() error            { r.rows = nil; return nil }

func (r *listRows) Next(dst []any) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dst, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}

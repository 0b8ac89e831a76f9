package standin

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// SHOW and DESCRIBE, answered as Snowflake answers them: with the columns
// each command's documentation lists, in its order, named in lower case as
// Snowflake names them, and the stand-in's catalog as the rows. The
// catalog is DuckDB's, read with its duckdb_* functions on the session's
// own connection (which also sees the session's temporary tables). What
// the stand-in keeps no record of (creation times, owners, retention,
// clustering, byte counts) gets a fixed value: see the field lists.
//
// DuckDB matches names case-insensitively, so the stand-in does too, and
// reports every name upper-cased, as Snowflake reports unquoted names (as
// Columns does). The stand-in's own catalog (the user registry) and
// DuckDB's (system, temp, pg_catalog, information_schema, an empty main
// schema) never show.

// A field is one result column of a SHOW or DESCRIBE form.
type field struct {
	name string
	typ  string // Snowflake's type of the column: text, fixed or timestamp_ltz
	def  any    // the value of rows that bring none of their own
}

const (
	typText  = "text"
	typFixed = "fixed"
	typLTZ   = "timestamp_ltz"
)

// createdOn stands for every object's creation time, which DuckDB does
// not keep.
var createdOn = time.Unix(0, 0).UTC()

// The fields of each form, as docs.snowflake.com/en/sql-reference/sql/<command>
// lists them (show_test.go cites each page). Where a page has no Output
// table (SHOW DATABASES, SHOW SCHEMAS) the columns are its examples'.
var (
	terseFields = []field{
		{"created_on", typLTZ, createdOn}, {"name", typText, nil}, {"kind", typText, nil},
		{"database_name", typText, nil}, {"schema_name", typText, nil},
	}
	databaseFields = []field{
		{"created_on", typLTZ, createdOn}, {"name", typText, nil}, {"is_default", typText, "N"},
		{"is_current", typText, "N"}, {"origin", typText, ""}, {"owner", typText, nil},
		{"comment", typText, ""}, {"options", typText, ""}, {"retention_time", typText, "1"},
		{"kind", typText, "STANDARD"}, {"owner_role_type", typText, "ROLE"},
		{"object_visibility", typText, nil}, {"data_quality_monitoring_settings", typText, nil},
	}
	schemaFields = []field{
		{"created_on", typLTZ, createdOn}, {"name", typText, nil}, {"is_default", typText, "N"},
		{"is_current", typText, "N"}, {"database_name", typText, nil}, {"owner", typText, nil},
		{"comment", typText, ""}, {"options", typText, ""}, {"retention_time", typText, "1"},
		{"owner_role_type", typText, "ROLE"}, {"object_visibility", typText, nil},
	}
	objectFields = []field{
		{"created_on", typLTZ, createdOn}, {"name", typText, nil}, {"database_name", typText, nil},
		{"schema_name", typText, nil}, {"kind", typText, nil}, {"comment", typText, ""},
		{"cluster_by", typText, ""}, {"rows", typFixed, nil}, {"bytes", typFixed, nil},
		{"owner", typText, nil}, {"retention_time", typText, "1"}, {"is_hybrid", typText, "N"},
		{"is_dynamic", typText, "N"}, {"is_iceberg", typText, "N"},
	}
	tableFields = []field{
		{"created_on", typLTZ, createdOn}, {"name", typText, nil}, {"database_name", typText, nil},
		{"schema_name", typText, nil}, {"kind", typText, nil}, {"comment", typText, ""},
		{"cluster_by", typText, ""}, {"rows", typFixed, nil}, {"bytes", typFixed, nil},
		{"owner", typText, nil}, {"retention_time", typText, "1"},
		{"automatic_clustering", typText, "OFF"}, {"change_tracking", typText, "OFF"},
		{"search_optimization", typText, "OFF"}, {"search_optimization_progress", typFixed, nil},
		{"search_optimization_bytes", typFixed, nil}, {"is_external", typText, "N"},
		{"enable_schema_evolution", typText, "N"}, {"owner_role_type", typText, "ROLE"},
		{"is_event", typText, "N"}, {"is_hybrid", typText, "N"}, {"is_iceberg", typText, "N"},
		{"is_immutable", typText, "N"},
	}
	viewFields = []field{
		{"created_on", typLTZ, createdOn}, {"name", typText, nil}, {"reserved", typText, ""},
		{"kind", typText, "VIEW"}, {"database_name", typText, nil}, {"schema_name", typText, nil},
		{"owner", typText, nil}, {"comment", typText, ""}, {"text", typText, nil},
		{"is_secure", typText, "false"}, {"is_materialized", typText, "false"},
		{"owner_role_type", typText, "ROLE"}, {"change_tracking", typText, "OFF"},
	}
	// The page's last column is headed SchemaEvolutionRecord; Snowflake
	// names it schema_evolution_record, as DESCRIBE TABLE's page says.
	columnFields = []field{
		{"table_name", typText, nil}, {"schema_name", typText, nil}, {"column_name", typText, nil},
		{"data_type", typText, nil}, {"null?", typText, nil}, {"default", typText, ""},
		{"kind", typText, "COLUMN"}, {"expression", typText, ""}, {"comment", typText, ""},
		{"database_name", typText, nil}, {"autoincrement", typText, ""},
		{"schema_evolution_record", typText, nil},
	}
	keyFields = []field{
		{"created_on", typLTZ, createdOn}, {"database_name", typText, nil}, {"schema_name", typText, nil},
		{"table_name", typText, nil}, {"column_name", typText, nil}, {"key_sequence", typFixed, nil},
		{"comment", typText, nil}, {"constraint_name", typText, nil},
	}
	importedKeyFields = []field{
		{"created_on", typLTZ, createdOn}, {"pk_database_name", typText, nil},
		{"pk_schema_name", typText, nil}, {"pk_table_name", typText, nil}, {"pk_column_name", typText, nil},
		{"fk_database_name", typText, nil}, {"fk_schema_name", typText, nil}, {"fk_table_name", typText, nil},
		{"fk_column_name", typText, nil}, {"key_sequence", typFixed, nil},
		{"update_rule", typText, "NO ACTION"}, {"delete_rule", typText, "NO ACTION"},
		{"fk_name", typText, nil}, {"pk_name", typText, nil},
		{"deferrability", typText, "NOT DEFERRABLE"}, {"rely", typText, "false"}, {"comment", typText, nil},
	}
	describeFields = []field{
		{"name", typText, nil}, {"type", typText, nil}, {"kind", typText, "COLUMN"},
		{"null?", typText, nil}, {"default", typText, nil}, {"primary key", typText, "N"},
		{"unique key", typText, "N"}, {"check", typText, nil}, {"expression", typText, nil},
		{"comment", typText, nil}, {"policy name", typText, nil}, {"privacy domain", typText, nil},
	}
)

// showQuery is a SHOW statement.
type showQuery struct {
	what   string // DATABASES, SCHEMAS, OBJECTS, TABLES, VIEWS, COLUMNS, PRIMARY KEYS, IMPORTED KEYS, UNIQUE KEYS
	terse  bool
	hasIn  bool
	inTok  statement.Token // the word after IN, for messages
	in     string          // after IN: ACCOUNT, DATABASE, SCHEMA, TABLE, VIEW, or "" for a bare name
	inName []string        // the name after IN, if any
	like   *regexp.Regexp
	starts *string
	from   *string
	limit  int // -1 for none
}

// showClauses are the clauses each form takes besides TERSE.
var showClauses = map[string]string{
	"DATABASES": "LIKE STARTS LIMIT", "SCHEMAS": "LIKE IN STARTS LIMIT",
	"OBJECTS": "LIKE IN STARTS LIMIT", "TABLES": "LIKE IN STARTS LIMIT", "VIEWS": "LIKE IN STARTS LIMIT",
	"COLUMNS": "LIKE IN", "PRIMARY KEYS": "IN", "IMPORTED KEYS": "IN", "UNIQUE KEYS": "IN",
}

// An item is one row of a SHOW or DESCRIBE result.
type item struct {
	order []string // sort key: database, schema, name, ...
	name  string   // what LIKE, STARTS WITH and LIMIT ... FROM match
	vals  map[string]any
}

// show answers SHOW and DESCRIBE; p is past the first word. Every form is
// answered here: one the stand-in does not know is an error, never
// DuckDB's own SHOW or DESCRIBE.
func (c *conn) show(ctx context.Context, p *parser) (*proxy.Outcome, bool, error) {
	var (
		fields []field
		items  []item
		err    error
	)
	if p.toks[p.i-1].Value == "SHOW" {
		fields, items, err = c.showList(ctx, p)
	} else {
		fields, items, err = c.describe(ctx, p)
	}
	if err != nil {
		return nil, true, err
	}
	return &proxy.Outcome{Rows: newListRows(fields, items), State: c.snapshot()}, true, nil
}

func (c *conn) showList(ctx context.Context, p *parser) ([]field, []item, error) {
	q, err := parseShow(p)
	if err != nil {
		return nil, nil, err
	}
	sc, err := c.showScope(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	var (
		fields []field
		items  []item
	)
	switch q.what {
	case "DATABASES":
		fields = databaseFields
		items, err = c.listDatabases(ctx)
	case "SCHEMAS":
		fields = schemaFields
		items, err = c.listSchemas(ctx, sc)
	case "OBJECTS", "TABLES", "VIEWS":
		fields = map[string][]field{"OBJECTS": objectFields, "TABLES": tableFields, "VIEWS": viewFields}[q.what]
		items, err = c.listRelations(ctx, sc, q)
	case "COLUMNS":
		fields = columnFields
		items, err = c.listColumns(ctx, sc)
	case "PRIMARY KEYS", "UNIQUE KEYS":
		fields = keyFields
		items, err = c.listKeys(ctx, sc, map[string]string{"PRIMARY KEYS": "PRIMARY KEY", "UNIQUE KEYS": "UNIQUE"}[q.what])
	case "IMPORTED KEYS":
		fields = importedKeyFields
		items, err = c.listImportedKeys(ctx, sc)
	}
	if err != nil {
		return nil, nil, err
	}
	if q.terse && !strings.HasSuffix(q.what, "KEYS") { // the KEYS forms take TERSE and ignore it
		fields = terseFields
	}
	return fields, q.apply(items), nil
}

// scope is what a SHOW lists: "" matches any database, schema or table.
type scope struct{ db, schema, table string }

func (s scope) holds(db, schema, table string) bool {
	return (s.db == "" || strings.EqualFold(s.db, db)) &&
		(s.schema == "" || strings.EqualFold(s.schema, schema)) &&
		(s.table == "" || strings.EqualFold(s.table, table))
}

// sessionScope is the session's scope: its database and schema.
func (c *conn) sessionScope() scope {
	if c.state.Database == "" {
		return scope{}
	}
	return scope{db: c.state.Database, schema: c.state.Schema}
}

// showScope is what IN names, or without IN the session's current
// database (SHOW SCHEMAS), its current schema (the other forms), or the
// account (SHOW DATABASES).
func (c *conn) showScope(ctx context.Context, q *showQuery) (scope, error) {
	cur := c.sessionScope()
	if !q.hasIn {
		switch q.what {
		case "DATABASES":
			return scope{}, nil
		case "SCHEMAS":
			return scope{db: cur.db}, nil
		}
		return cur, nil
	}
	switch q.in {
	case "ACCOUNT":
		return scope{}, nil
	case "DATABASE":
		if q.inName == nil {
			return scope{db: cur.db}, nil
		}
		return c.databaseScope(ctx, q.inName)
	}
	if q.what == "SCHEMAS" {
		if q.in != "" {
			return scope{}, syntaxError(q.inTok)
		}
		return c.databaseScope(ctx, q.inName)
	}
	switch q.in {
	case "SCHEMA":
		if q.inName == nil {
			return cur, nil
		}
		return c.schemaScope(ctx, q.inName)
	case "TABLE", "VIEW":
		if q.what != "COLUMNS" && !strings.HasSuffix(q.what, "KEYS") {
			return scope{}, syntaxError(q.inTok)
		}
		if q.inName == nil {
			return cur, nil
		}
		return c.tableScope(ctx, q.inName, q.in)
	}
	// A bare name: a table for COLUMNS and KEYS; for the others a schema,
	// or when one part names no schema of the current database, a database.
	if q.what == "COLUMNS" || strings.HasSuffix(q.what, "KEYS") {
		return c.tableScope(ctx, q.inName, "TABLE")
	}
	sc, err := c.schemaScope(ctx, q.inName)
	if err != nil && len(q.inName) == 1 {
		if db, dbErr := c.databaseScope(ctx, q.inName); dbErr == nil {
			return db, nil
		}
	}
	return sc, err
}

func (c *conn) databaseScope(ctx context.Context, name []string) (scope, error) {
	dbs, err := c.databases(ctx)
	if err != nil {
		return scope{}, err
	}
	if len(name) == 1 {
		for _, db := range dbs {
			if strings.EqualFold(db, name[0]) {
				return scope{db: db}, nil
			}
		}
	}
	return scope{}, sqlError("002043", "02000", "SQL compilation error:\nDatabase '"+strings.Join(name, ".")+"' does not exist or not authorized.")
}

func (c *conn) schemaScope(ctx context.Context, name []string) (scope, error) {
	want := scope{db: c.state.Database, schema: name[len(name)-1]}
	switch {
	case len(name) == 2:
		want.db = name[0]
	case len(name) > 2:
		return scope{}, sqlError("001003", "42000", "SQL compilation error:\ninvalid schema name '"+strings.Join(name, ".")+"'")
	case want.db == "":
		return scope{}, noDatabase()
	}
	schemas, err := c.schemas(ctx)
	if err != nil {
		return scope{}, err
	}
	for _, s := range schemas {
		if strings.EqualFold(s.db, want.db) && strings.EqualFold(s.name, want.schema) {
			return scope{db: s.db, schema: s.name}, nil
		}
	}
	return scope{}, sqlError("002043", "02000", "SQL compilation error:\nSchema '"+strings.Join(name, ".")+"' does not exist or not authorized.")
}

// tableScope resolves a table or view name as Snowflake does: the missing
// parts are the session's current database and schema.
func (c *conn) tableScope(ctx context.Context, name []string, kind string) (scope, error) {
	want := scope{db: c.state.Database, schema: c.state.Schema, table: name[len(name)-1]}
	switch len(name) {
	case 3:
		want.db, want.schema = name[0], name[1]
	case 2:
		want.schema = name[0]
	}
	switch {
	case want.db == "":
		return scope{}, noDatabase()
	case want.schema == "":
		return scope{}, sqlError("090106", "22000", "Cannot perform SHOW. This session does not have a current schema. Call 'USE SCHEMA', or use a qualified name.")
	}
	rels, err := c.relations(ctx)
	if err != nil {
		return scope{}, err
	}
	for _, r := range rels {
		if want.holds(r.db, r.schema, r.name) {
			return scope{db: r.db, schema: r.schema, table: r.name}, nil
		}
	}
	what := "Table"
	if kind == "VIEW" {
		what = "View"
	}
	return scope{}, sqlError("002003", "42S02", "SQL compilation error:\n"+what+" '"+strings.Join(name, ".")+"' does not exist or not authorized.")
}

func noDatabase() error {
	return sqlError("090105", "22000", "Cannot perform SHOW. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.")
}

// owner is who the stand-in says owns every object: the session's role.
func (c *conn) owner() string {
	if c.state.Role == "" {
		return "SYSADMIN"
	}
	return c.state.Role
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func (c *conn) listDatabases(ctx context.Context) ([]item, error) {
	dbs, err := c.databases(ctx)
	if err != nil {
		return nil, err
	}
	var items []item
	for _, db := range dbs {
		items = append(items, item{order: []string{db}, name: db, vals: map[string]any{
			"name": db, "is_current": yn(strings.EqualFold(db, c.state.Database)), "owner": c.owner(),
		}})
	}
	return items, nil
}

func (c *conn) listSchemas(ctx context.Context, sc scope) ([]item, error) {
	schemas, err := c.schemas(ctx)
	if err != nil {
		return nil, err
	}
	var items []item
	for _, s := range schemas {
		if !sc.holds(s.db, "", "") {
			continue
		}
		vals := map[string]any{
			"name": s.name, "database_name": s.db, "comment": s.comment, "owner": c.owner(),
			"is_current": yn(strings.EqualFold(s.db, c.state.Database) && strings.EqualFold(s.name, c.state.Schema)),
		}
		if s.name == "INFORMATION_SCHEMA" {
			vals["owner"], vals["owner_role_type"] = "", ""
		}
		items = append(items, item{order: []string{s.db, s.name}, name: s.name, vals: vals})
	}
	return items, nil
}

func (c *conn) listRelations(ctx context.Context, sc scope, q *showQuery) ([]item, error) {
	rels, err := c.relations(ctx)
	if err != nil {
		return nil, err
	}
	var items []item
	for _, r := range rels {
		if !sc.holds(r.db, r.schema, r.name) || q.what == "TABLES" && r.view || q.what == "VIEWS" && !r.view {
			continue
		}
		vals := map[string]any{
			"name": r.name, "database_name": r.db, "schema_name": r.schema, "owner": c.owner(),
			"kind": "TABLE", "comment": r.comment,
		}
		switch {
		case r.view:
			vals["kind"], vals["text"] = "VIEW", r.text
		case r.temporary && q.what == "TABLES" && !q.terse: // TERSE's kind is always TABLE
			vals["kind"] = "TEMPORARY"
		}
		if r.rows.Valid {
			vals["rows"] = r.rows.Int64
		}
		items = append(items, item{order: []string{r.db, r.schema, r.name}, name: r.name, vals: vals})
	}
	return items, nil
}

func (c *conn) listColumns(ctx context.Context, sc scope) ([]item, error) {
	cols, err := c.columns(ctx, sc)
	if err != nil {
		return nil, err
	}
	var items []item
	for _, col := range cols {
		t := snowflakeType(col.duckType)
		vals := map[string]any{
			"table_name": col.table, "schema_name": col.schema, "column_name": col.name,
			"data_type": t.json(col.nullable), "null?": strconv.FormatBool(col.nullable),
			"comment": col.comment.String, "database_name": col.db,
		}
		if col.def.Valid {
			vals["default"] = col.def.String
		}
		items = append(items, item{order: []string{col.db, col.schema, col.table, fmt.Sprintf("%09d", col.index)}, name: col.name, vals: vals})
	}
	return items, nil
}

// listKeys lists the primary keys (kind PRIMARY KEY) or unique keys
// (UNIQUE), a row for each column.
func (c *conn) listKeys(ctx context.Context, sc scope, kind string) ([]item, error) {
	keys, err := c.keys(ctx)
	if err != nil {
		return nil, err
	}
	var items []item
	for _, k := range keys {
		if k.kind != kind || !sc.holds(k.db, k.schema, k.table) {
			continue
		}
		for i, col := range k.cols {
			items = append(items, item{order: []string{k.db, k.schema, k.table, k.name, fmt.Sprintf("%09d", i)}, name: k.table, vals: map[string]any{
				"database_name": k.db, "schema_name": k.schema, "table_name": k.table, "column_name": col,
				"key_sequence": int64(i + 1), "constraint_name": k.name,
			}})
		}
	}
	return items, nil
}

// listImportedKeys lists foreign keys, each with the key it references:
// the primary or unique key of the referenced table on the same columns.
func (c *conn) listImportedKeys(ctx context.Context, sc scope) ([]item, error) {
	keys, err := c.keys(ctx)
	if err != nil {
		return nil, err
	}
	var items []item
	for _, fk := range keys {
		if fk.kind != "FOREIGN KEY" || !sc.holds(fk.db, fk.schema, fk.table) {
			continue
		}
		var pk *key
		for i := range keys {
			k := &keys[i]
			if (k.kind == "PRIMARY KEY" || k.kind == "UNIQUE") && k.duckDB == fk.duckDB &&
				strings.EqualFold(k.table, fk.refTable) && equalFold(k.cols, fk.refCols) &&
				(pk == nil || k.schema == fk.schema) {
				pk = k
			}
		}
		pkDB, pkSchema, pkName := fk.db, fk.schema, any(nil)
		if pk != nil {
			pkDB, pkSchema, pkName = pk.db, pk.schema, pk.name
		}
		for i, col := range fk.cols {
			vals := map[string]any{
				"pk_database_name": pkDB, "pk_schema_name": pkSchema, "pk_table_name": strings.ToUpper(fk.refTable),
				"fk_database_name": fk.db, "fk_schema_name": fk.schema, "fk_table_name": fk.table, "fk_column_name": col,
				"key_sequence": int64(i + 1), "fk_name": fk.name, "pk_name": pkName,
			}
			if i < len(fk.refCols) {
				vals["pk_column_name"] = fk.refCols[i]
			}
			items = append(items, item{order: []string{fk.db, fk.schema, fk.table, fk.name, fmt.Sprintf("%09d", i)}, name: fk.table, vals: vals})
		}
	}
	return items, nil
}

// describe answers DESCRIBE|DESC [TABLE|VIEW] name [TYPE = COLUMNS].
func (c *conn) describe(ctx context.Context, p *parser) ([]field, []item, error) {
	kind := "TABLE"
	switch {
	case p.accept("TABLE"), p.accept("VIEW"):
		kind = p.toks[p.i-1].Value
	case p.i+1 < len(p.toks) && p.toks[p.i].Kind == statement.TokIdent &&
		p.toks[p.i+1].Value != "." && p.toks[p.i+1].Value != "(" && p.toks[p.i+1].Value != ";":
		// DESCRIBE DATABASE x, DESCRIBE USER x, DESCRIBE RESULT '...': not
		// a table's name followed by the end of the statement.
		return nil, nil, unsupported(p.toks[p.i-1].Value + " " + p.words(1))
	}
	name, err := p.objectName()
	if err != nil {
		return nil, nil, err
	}
	if p.accept("TYPE", "=") && !p.accept("COLUMNS") {
		return nil, nil, unsupported("DESCRIBE TABLE ... TYPE = " + p.words(1))
	}
	if !p.end() {
		return nil, nil, syntaxError(p.toks[p.i])
	}
	sc, err := c.tableScope(ctx, name, kind)
	if err != nil {
		return nil, nil, err
	}
	cols, err := c.columns(ctx, sc)
	if err != nil {
		return nil, nil, err
	}
	keys, err := c.keys(ctx)
	if err != nil {
		return nil, nil, err
	}
	inKey := func(kind, col string) bool {
		for _, k := range keys {
			if k.kind == kind && sc.holds(k.db, k.schema, k.table) {
				for _, kc := range k.cols {
					if strings.EqualFold(kc, col) {
						return true
					}
				}
			}
		}
		return false
	}
	var items []item
	for _, col := range cols {
		vals := map[string]any{
			"name": col.name, "type": snowflakeType(col.duckType).String(), "null?": yn(col.nullable),
			"primary key": yn(inKey("PRIMARY KEY", col.name)), "unique key": yn(inKey("UNIQUE", col.name)),
		}
		if col.def.Valid {
			vals["default"] = col.def.String
		}
		if col.comment.Valid {
			vals["comment"] = col.comment.String
		}
		items = append(items, item{order: []string{fmt.Sprintf("%09d", col.index)}, name: col.name, vals: vals})
	}
	sortItems(items)
	return describeFields, items, nil
}

package standin

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"regexp"
	"sort"
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

// parseShow reads SHOW [TERSE] <what> and its clauses, in any order.
func parseShow(p *parser) (*showQuery, error) {
	q := &showQuery{limit: -1}
	q.terse = p.accept("TERSE")
	switch {
	case q.terse && p.accept("COLUMNS"):
		return nil, syntaxError(p.toks[p.i-1])
	case p.accept("DATABASES"), p.accept("SCHEMAS"), p.accept("OBJECTS"), p.accept("TABLES"), p.accept("VIEWS"), p.accept("COLUMNS"):
		q.what = p.toks[p.i-1].Value
	case p.accept("PRIMARY", "KEYS"), p.accept("IMPORTED", "KEYS"), p.accept("UNIQUE", "KEYS"):
		q.what = p.toks[p.i-2].Value + " KEYS"
	default:
		return nil, unsupported("SHOW " + p.words(3))
	}
	for !p.end() {
		t := p.toks[p.i]
		var clause string
		switch {
		case p.accept("HISTORY"):
			return nil, unsupported("SHOW " + q.what + " HISTORY")
		case p.accept("LIKE"):
			clause = "LIKE"
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			q.like = likePattern(s)
		case p.accept("IN"):
			clause = "IN"
			if err := q.parseIn(p); err != nil {
				return nil, err
			}
		case p.accept("STARTS", "WITH"):
			clause = "STARTS"
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			q.starts = &s
		case p.accept("LIMIT"):
			clause = "LIMIT"
			n := p.next()
			v, err := strconv.Atoi(n.Value)
			if n.Kind != statement.TokNumber || err != nil || v < 0 {
				return nil, syntaxError(n)
			}
			q.limit = v
			if p.accept("FROM") {
				s, err := p.str()
				if err != nil {
					return nil, err
				}
				q.from = &s
			}
		default:
			return nil, syntaxError(t)
		}
		if !strings.Contains(showClauses[q.what], clause) {
			return nil, syntaxError(t)
		}
	}
	return q, nil
}

func (q *showQuery) parseIn(p *parser) error {
	q.hasIn = true
	if !p.end() {
		q.inTok = p.toks[p.i]
	}
	switch {
	case p.accept("ACCOUNT"):
		q.in = "ACCOUNT"
		return nil
	case p.accept("DATABASE"), p.accept("SCHEMA"), p.accept("TABLE"), p.accept("VIEW"):
		q.in = p.toks[p.i-1].Value
		if !p.atName() {
			return nil
		}
	case p.accept("APPLICATION"):
		return unsupported("SHOW " + q.what + " IN APPLICATION")
	}
	name, err := p.objectName()
	q.inName = name
	return err
}

// atName reports whether a name follows, rather than the next clause.
func (p *parser) atName() bool {
	if p.end() {
		return false
	}
	t := p.toks[p.i]
	return t.Kind == statement.TokQuotedIdent ||
		t.Kind == statement.TokIdent && t.Value != "LIKE" && t.Value != "STARTS" && t.Value != "LIMIT" && t.Value != "HISTORY"
}

// objectName reads a name of up to three parts, each unquoted (folded to
// upper case by the lexer), "quoted", or IDENTIFIER('db.schema.name').
func (p *parser) objectName() ([]string, error) {
	if p.accept("IDENTIFIER", "(") {
		s := p.next()
		if s.Kind != statement.TokString || !p.accept(")") {
			return nil, unsupported("IDENTIFIER() of anything but a string")
		}
		toks, err := statement.Lex(s.Value)
		if err != nil {
			return nil, sqlError("001003", "42000", "SQL compilation error:\ninvalid identifier "+quoteString(s.Value))
		}
		inner := &parser{toks: toks}
		name, err := inner.objectName()
		if err != nil || !inner.end() {
			return nil, sqlError("001003", "42000", "SQL compilation error:\ninvalid identifier "+quoteString(s.Value))
		}
		return name, nil
	}
	var parts []string
	for {
		t := p.next()
		if t.Kind != statement.TokIdent && t.Kind != statement.TokQuotedIdent {
			return nil, syntaxError(t)
		}
		parts = append(parts, t.Value)
		if !p.accept(".") {
			break
		}
	}
	if len(parts) > 3 {
		return nil, sqlError("001003", "42000", "SQL compilation error:\ninvalid identifier '"+strings.Join(parts, ".")+"'")
	}
	return parts, nil
}

// str reads a string literal.
func (p *parser) str() (string, error) {
	t := p.next()
	if t.Kind != statement.TokString && t.Kind != statement.TokDollarString {
		return "", syntaxError(t)
	}
	return t.Value, nil
}

// words is up to n words from here, for messages.
func (p *parser) words(n int) string {
	var w []string
	for k := p.i; k < len(p.toks) && len(w) < n && p.toks[k].Kind == statement.TokIdent; k++ {
		w = append(w, p.toks[k].Value)
	}
	return strings.Join(w, " ")
}

func syntaxError(t statement.Token) error {
	if t.Value == "" {
		return sqlError("001003", "42000", "SQL compilation error:\nsyntax error: unexpected end of statement.")
	}
	return sqlError("001003", "42000", fmt.Sprintf("SQL compilation error:\nsyntax error at position %d unexpected '%s'.", t.Pos, t.Value))
}

func unsupported(what string) error {
	return sqlError("002099", "0A000", "SQL compilation error:\n"+strings.TrimSpace(what)+" is not supported by the stand-in. It answers SHOW [TERSE] DATABASES, SCHEMAS, OBJECTS, TABLES, VIEWS, "+
		"SHOW COLUMNS, SHOW PRIMARY|IMPORTED|UNIQUE KEYS, SHOW USERS and DESCRIBE TABLE|VIEW.")
}

// likePattern compiles SHOW's LIKE: case-insensitive, % any run of
// characters, _ any one, a backslash makes the next one literal.
func likePattern(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?is)\A`)
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '\\' && i+1 < len(rs):
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case r == '%':
			b.WriteString(`.*`)
		case r == '_':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

// apply filters (LIKE, STARTS WITH, FROM), orders and limits the rows.
// STARTS WITH and FROM are case-sensitive; FROM keeps the names after it.
func (q *showQuery) apply(items []item) []item {
	kept := items[:0]
	for _, it := range items {
		if q.like != nil && !q.like.MatchString(it.name) ||
			q.starts != nil && !strings.HasPrefix(it.name, *q.starts) ||
			q.from != nil && it.name <= *q.from {
			continue
		}
		kept = append(kept, it)
	}
	sortItems(kept)
	if q.limit >= 0 && len(kept) > q.limit {
		kept = kept[:q.limit]
	}
	return kept
}

func sortItems(items []item) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].order, items[j].order
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
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

// The stand-in's catalog, as Snowflake would name it.

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

package standin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/snowgate/snowgate/proxy/statement"
)

// The stand-in is confined in two layers.
//
// DuckDB itself: it opens with extension auto-install and auto-load off and
// community and unsigned extensions refused (duckOptions), and once the
// stand-in's own setup is done it runs with external access off and its
// configuration locked (lockDown). From then on DuckDB reads and writes no
// file (CSV, Parquet, JSON, text, globs, COPY, EXPORT/IMPORT, ATTACH),
// installs and loads no extension, and SET and RESET change no setting.
// DuckDB still opens its own files to every statement: those of the
// databases it holds, their write-ahead logs and its temporary directory.
// An in-memory stand-in has none (it runs without a temporary directory);
// a persistent one has those in its data directory. And a few of DuckDB's
// pragmas and functions change its profiling and logging despite the lock
// (PRAGMA enable_profiling, CALL enable_logging).
//
// The stand-in's statements (refuse, checkStatement): it runs only what a
// Snowflake account could, so that no DuckDB-only feature reaches around
// the gateway's analysis of a statement or the lock: statements built from
// strings (query, query_table, json_execute_serialized_sql), COLUMNS() and
// column patterns, variables (SET VARIABLE, getvariable), settings and the
// environment (current_setting, duckdb_settings, getenv), DuckDB's own
// catalog (duckdb_*, pragma_*, pg_catalog), file functions, logging and
// maintenance, macros and secrets, EXPLAIN ANALYZE (which runs its
// statement), DuckDB's own query forms, and every statement DuckDB's parser
// classifies as other than a query, DML, DDL or a transaction. The text
// DuckDB receives is rebuilt from the tokens the gateway analysed (see
// rewrite), so the two read the same statement.

// duckOptions are DuckDB's settings at open, as connection string options.
const duckOptions = "autoinstall_known_extensions=false&autoload_known_extensions=false" +
	"&allow_community_extensions=false&allow_unsigned_extensions=false&allow_persistent_secrets=false"

// lockDown turns DuckDB's external access off and locks its configuration.
// Settings sessions need are made global first: after the lock no session
// can change one.
func (s *Standin) lockDown(ctx context.Context) error {
	// Spilling large sorts and joins to disk needs a temporary directory,
	// which DuckDB then lets every statement read and write. An in-memory
	// stand-in keeps everything in memory; a persistent one spills into its
	// data directory, which DuckDB opens to it anyway.
	tmp := ""
	if s.dir != "" {
		tmp = filepath.Join(s.dir, "standin.duckdb.tmp")
	}
	for _, q := range []string{
		`SET GLOBAL TimeZone = 'UTC'`,
		`SET GLOBAL temp_directory = ` + quoteString(tmp),
		`SET GLOBAL enable_external_access = false`,
		`SET GLOBAL lock_configuration = true`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("lock down the stand-in: %s: %w", q, err)
		}
	}
	s.locked = true
	return nil
}

// refused is the error for a statement the stand-in does not run.
func refused(what string) error {
	return sqlError("002099", "0A000", "SQL compilation error:\n"+what+": not available in the stand-in, which runs only what Snowflake could")
}

// leadWords begin statements DuckDB has and Snowflake either lacks or the
// stand-in cannot run: settings and variables, files, extensions, DuckDB's
// pragmas, procedures and prepared statements, maintenance, and DuckDB's
// own query forms.
var leadWords = map[string]string{
	"SET": "SET", "RESET": "RESET", "PRAGMA": "PRAGMA", "ATTACH": "ATTACH", "DETACH": "DETACH",
	"COPY": "COPY", "EXPORT": "EXPORT", "IMPORT": "IMPORT", "INSTALL": "INSTALL", "FORCE": "FORCE",
	"LOAD": "LOAD", "CALL": "CALL", "PREPARE": "PREPARE", "EXECUTE": "EXECUTE", "DEALLOCATE": "DEALLOCATE",
	"CHECKPOINT": "CHECKPOINT", "VACUUM": "VACUUM", "ANALYZE": "ANALYZE", "ANALYSE": "ANALYZE",
	// DuckDB's own query forms: FROM first, TABLE t, SUMMARIZE (which
	// reads every column's extremes), PIVOT statements (whose columns
	// come from the data).
	"FROM": "FROM-first queries", "TABLE": "TABLE statements", "SUMMARIZE": "SUMMARIZE",
	"PIVOT": "PIVOT statements", "UNPIVOT": "UNPIVOT statements", "PIVOT_WIDER": "PIVOT statements", "PIVOT_LONGER": "UNPIVOT statements",
}

// createWords are the kinds of object CREATE and DROP may not name: DuckDB
// macros (its CREATE FUNCTION), secrets, and procedures.
var createWords = map[string]bool{"MACRO": true, "FUNCTION": true, "SECRET": true, "PROCEDURE": true}

// createModifiers may stand between CREATE or DROP and the kind of object.
var createModifiers = map[string]bool{
	"OR": true, "REPLACE": true, "TEMP": true, "TEMPORARY": true, "PERSISTENT": true, "TRANSIENT": true,
	"VOLATILE": true, "LOCAL": true, "GLOBAL": true, "SECURE": true, "IF": true, "NOT": true, "EXISTS": true,
}

// starFilters follow * in DuckDB's column patterns; Snowflake has only
// * ILIKE.
var starFilters = map[string]bool{"LIKE": true, "SIMILAR": true, "GLOB": true, "NOT": true}

// anyNamePrefixes mark DuckDB's own catalog: its metadata functions and
// views, pragmas and the PostgreSQL-compatible catalog (which includes
// pg_settings). They are refused wherever they are named.
var anyNamePrefixes = []string{"duckdb_", "pragma_", "pg_"}

// callPrefixes and callSuffixes mark DuckDB's file functions and the
// functions that turn its logging and profiling on and off, refused when
// called.
var (
	callPrefixes = []string{"read_", "parquet_", "enable_", "disable_"}
	callSuffixes = []string{"_scan"}
)

// calls are the other DuckDB-only functions refused when called, by what
// they reach.
var calls = map[string]string{
	// files
	"glob": "file access", "sniff_csv": "file access", "import_database": "file access",
	"copy_database": "file access", "add_parquet_key": "file access",
	// statements held in strings
	"query": "running SQL from a string", "query_table": "running SQL from a string",
	"json_execute_serialized_sql": "running SQL from a string", "json_serialize_sql": "running SQL from a string",
	"json_deserialize_sql": "running SQL from a string", "json_serialize_plan": "running SQL from a string",
	"sql_auto_complete": "running SQL from a string", "check_peg_parser": "running SQL from a string",
	// expressions over columns chosen by pattern
	"columns": "COLUMNS()",
	// variables, settings, the environment
	"getvariable": "DuckDB variables", "current_setting": "DuckDB settings", "getenv": "the environment",
	"which_secret": "DuckDB secrets", "extension_versions": "DuckDB extensions",
	// the engine's storage and logs
	"checkpoint": "DuckDB maintenance", "force_checkpoint": "DuckDB maintenance", "storage_info": "DuckDB storage",
	"metadata_info": "DuckDB storage", "database_list": "DuckDB storage", "database_size": "DuckDB storage",
	"truncate_duckdb_logs": "DuckDB logs", "write_log": "DuckDB logs", "all_profiling_output": "DuckDB profiling",
}

// refuse reports a statement the stand-in does not run, from the tokens the
// gateway analysed. It looks at the whole statement: the statement itself
// and every name in it.
func refuse(toks []statement.Token) error {
	if err := refuseLead(toks); err != nil {
		return err
	}
	for i, t := range toks {
		switch t.Kind {
		case statement.TokStage, statement.TokURI:
			// DuckDB would read @name as its abs operator and a name.
			return refused("stages")
		case statement.TokIllegal:
			// Not Snowflake's; DuckDB reads #n as the n-th column.
			return refused("the character " + t.Value)
		case statement.TokOp:
			if t.Value == "*" && i+1 < len(toks) && toks[i+1].Kind == statement.TokIdent && starFilters[toks[i+1].Value] {
				return refused("* " + toks[i+1].Value)
			}
			if t.Value == ";" {
				for _, u := range toks[i+1:] {
					if u.Value != ";" || u.Kind != statement.TokOp {
						return refused("more than one statement at a time")
					}
				}
			}
			continue
		case statement.TokIdent, statement.TokQuotedIdent:
		default:
			continue
		}
		name := strings.ToLower(t.Value)
		for _, p := range anyNamePrefixes {
			if strings.HasPrefix(name, p) {
				return refused("DuckDB's catalog (" + t.Value + ")")
			}
		}
		if t.Kind == statement.TokIdent && t.Value == "POSITIONAL" && i+1 < len(toks) && toks[i+1].Kind == statement.TokIdent && toks[i+1].Value == "JOIN" {
			return refused("POSITIONAL JOIN")
		}
		if i+1 >= len(toks) || toks[i+1].Kind != statement.TokOp || toks[i+1].Value != "(" || tableName(toks, i) {
			continue
		}
		if _, _, ok := resultScanAt(toks, i-2); ok {
			continue // Snowflake's; rewriteWith puts the stored query in its place
		}
		if what, ok := calls[name]; ok {
			return refused(what + " (" + t.Value + ")")
		}
		for _, p := range callPrefixes {
			if strings.HasPrefix(name, p) {
				return refused("DuckDB's " + t.Value)
			}
		}
		for _, s := range callSuffixes {
			if strings.HasSuffix(name, s) {
				return refused("DuckDB's " + t.Value)
			}
		}
	}
	return nil
}

// tableName reports whether the name at i, followed by '(', names a table
// and its columns rather than calls a function: after INTO, TABLE,
// REFERENCES or IF NOT EXISTS, where DuckDB takes no function.
func tableName(toks []statement.Token, i int) bool {
	for i >= 2 && toks[i-1].Kind == statement.TokOp && toks[i-1].Value == "." &&
		(toks[i-2].Kind == statement.TokIdent || toks[i-2].Kind == statement.TokQuotedIdent) {
		i -= 2
	}
	is := func(k int, w string) bool { return k >= 0 && toks[k].Kind == statement.TokIdent && toks[k].Value == w }
	return is(i-1, "INTO") || is(i-1, "TABLE") || is(i-1, "REFERENCES") || is(i-1, "EXISTS") && is(i-2, "NOT") && is(i-3, "IF")
}

// refuseLead looks at how the statement starts.
func refuseLead(toks []statement.Token) error {
	i := 0
	word := func() string {
		for i < len(toks) && toks[i].Kind == statement.TokOp && toks[i].Value == "(" {
			i++
		}
		if i < len(toks) && toks[i].Kind == statement.TokIdent {
			return toks[i].Value
		}
		return ""
	}
	w := word()
	if w == "EXPLAIN" {
		// Snowflake's EXPLAIN [USING format] plans; DuckDB's EXPLAIN
		// ANALYZE, and EXPLAIN with options, run the statement.
		i++
		if i < len(toks) && (toks[i].Kind == statement.TokOp && toks[i].Value == "(" ||
			toks[i].Kind == statement.TokIdent && (toks[i].Value == "ANALYZE" || toks[i].Value == "ANALYSE")) {
			return refused("EXPLAIN ANALYZE")
		}
		if i < len(toks) && toks[i].Kind == statement.TokIdent && toks[i].Value == "USING" {
			i += 2
		}
		w = word()
	}
	if what, ok := leadWords[w]; ok {
		return refused(what + " statements")
	}
	if w == "UPDATE" && i+1 < len(toks) && toks[i+1].Kind == statement.TokIdent && toks[i+1].Value == "EXTENSIONS" {
		return refused("UPDATE EXTENSIONS")
	}
	if w == "CREATE" || w == "DROP" {
		for i++; i < len(toks) && toks[i].Kind == statement.TokIdent && createModifiers[toks[i].Value]; i++ {
		}
		if i < len(toks) && toks[i].Kind == statement.TokIdent && createWords[toks[i].Value] {
			return refused(w + " " + toks[i].Value)
		}
	}
	return nil
}

// stmtMergeInto is DuckDB's DUCKDB_STATEMENT_TYPE_MERGE_INTO, which the
// driver does not name.
const stmtMergeInto duckdb.StmtType = 30

// statementsRun are the kinds of statement, as DuckDB's parser classifies
// them, that the stand-in runs: queries, DML, DDL and transactions.
var statementsRun = map[duckdb.StmtType]bool{
	duckdb.STATEMENT_TYPE_SELECT: true, duckdb.STATEMENT_TYPE_INSERT: true, duckdb.STATEMENT_TYPE_UPDATE: true,
	duckdb.STATEMENT_TYPE_DELETE: true, stmtMergeInto: true,
	duckdb.STATEMENT_TYPE_EXPLAIN: true, duckdb.STATEMENT_TYPE_CREATE: true, duckdb.STATEMENT_TYPE_ALTER: true,
	duckdb.STATEMENT_TYPE_DROP: true, duckdb.STATEMENT_TYPE_TRANSACTION: true,
}

// checked is what checkStatement learnt of a statement.
type checked struct {
	batches bool // a query whose result can be read in record batches (batchable)
	dml     bool // an INSERT, UPDATE, DELETE or MERGE: the catalog stays as it is
}

// checkStatement has DuckDB parse and bind the text it is about to run, as
// exactly one statement, and refuses any kind of statement but those in
// statementsRun.
func (c *conn) checkStatement(ctx context.Context, sqlText string) (checked, error) {
	if err := ctx.Err(); err != nil {
		return checked{}, err
	}
	key := c.checkKey(sqlText)
	if chk, ok := c.s.checked.has(key); ok {
		return chk, nil
	}
	var typ duckdb.StmtType
	var chk checked
	err := c.c.Raw(func(dc any) error {
		dconn, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("stand-in: unexpected DuckDB connection %T", dc)
		}
		// Prepare takes exactly one statement.
		st, err := dconn.Prepare(sqlText)
		if err != nil {
			return err
		}
		defer st.Close()
		ds, ok := st.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("stand-in: unexpected DuckDB statement %T", st)
		}
		typ, err = ds.StatementType()
		chk.batches = err == nil && typ == duckdb.STATEMENT_TYPE_SELECT && batchable(ds)
		return err
	})
	var de *duckdb.Error
	switch {
	case errors.As(err, &de):
		return checked{}, duckError(err)
	case err != nil && strings.Contains(err.Error(), "multi-statement"):
		return checked{}, refused("more than one statement at a time")
	case err != nil:
		return checked{}, err
	case !statementsRun[typ]:
		return checked{}, refused(fmt.Sprintf("this kind of DuckDB statement (%d)", typ))
	}
	switch typ {
	case duckdb.STATEMENT_TYPE_INSERT, duckdb.STATEMENT_TYPE_UPDATE, duckdb.STATEMENT_TYPE_DELETE, stmtMergeInto:
		chk.dml = true
	}
	c.s.checked.add(key, chk)
	return chk, nil
}

// checkedTexts remembers statement texts checkStatement passed. How many
// statements a text holds and of what kind is its parse's alone, so one
// check serves every run of it: a repeated statement, whatever its bind
// values, is prepared once to run rather than twice. Whether its result
// can be read in batches also depends on the tables its names reach: so a
// text is remembered for the session and the current database and schema
// it was checked in (a session's temporary tables hide others of the same
// name), and every statement that may change the catalog forgets them all
// (reset). Bounded: when full, it starts anew.
type checkedTexts struct {
	mu sync.Mutex
	m  map[checkKey]checked
}

// checkKey is a statement text as one session, in one database and
// schema, checked it.
type checkKey struct {
	session          int64
	database, schema string
	text             string
}

func (c *conn) checkKey(text string) checkKey {
	return checkKey{session: c.id, database: c.state.Database, schema: c.state.Schema, text: text}
}

const maxCheckedTexts = 4096

func (t *checkedTexts) has(k checkKey) (checked, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	chk, ok := t.m[k]
	return chk, ok
}

func (t *checkedTexts) add(k checkKey, chk checked) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) >= maxCheckedTexts {
		t.m = make(map[checkKey]checked)
	}
	t.m[k] = chk
}

func (t *checkedTexts) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m = nil
}

// batchable says whether every result column of a prepared query is of a
// type whose Arrow form the gateway reads as the row path reads its Go
// value (rowset.Text): the JSON, UUID, nested and other types are read a
// row at a time.
func batchable(st *duckdb.Stmt) bool {
	n, err := st.ColumnCount()
	if err != nil || n == 0 {
		return false
	}
	for i := range n {
		info, err := st.ColumnTypeInfo(i)
		if err != nil || info.Alias() != "" {
			return false
		}
		switch info.InternalType() {
		case duckdb.TYPE_BOOLEAN, duckdb.TYPE_TINYINT, duckdb.TYPE_SMALLINT, duckdb.TYPE_INTEGER, duckdb.TYPE_BIGINT,
			duckdb.TYPE_UTINYINT, duckdb.TYPE_USMALLINT, duckdb.TYPE_UINTEGER, duckdb.TYPE_DECIMAL,
			duckdb.TYPE_FLOAT, duckdb.TYPE_DOUBLE, duckdb.TYPE_VARCHAR, duckdb.TYPE_BLOB,
			duckdb.TYPE_DATE, duckdb.TYPE_TIME, duckdb.TYPE_TIMESTAMP, duckdb.TYPE_TIMESTAMP_TZ:
		default:
			return false
		}
	}
	return true
}

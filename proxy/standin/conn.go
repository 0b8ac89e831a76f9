package standin

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// conn is one stand-in session on its own DuckDB connection. Statements of
// a session run one at a time, as on one DuckDB connection they must.
type conn struct {
	s    *Standin
	c    *sql.Conn
	user string

	id   int64 // CURRENT_SESSION()
	inTx bool  // a transaction is open

	mu      sync.Mutex // held from a statement's start until its rows are closed
	state   proxy.SessionState
	results []keptResult // the last queries answered, for RESULT_SCAN (resultscan.go)
}

// Open implements proxy.Upstream.
func (s *Standin) Open(ctx context.Context, p proxy.OpenParams) (proxy.Conn, error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("stand-in connection: %w", err)
	}
	db, schema := strings.ToUpper(p.Database), strings.ToUpper(p.Schema)
	if db == "" {
		db = Database
	}
	if schema == "" {
		schema = Schema
	}
	// The time zone is UTC for every session: see lockDown.
	for _, m := range []string{tzMacro, dateaddMacro} {
		if _, err := c.ExecContext(ctx, m); err != nil {
			c.Close()
			return nil, fmt.Errorf("stand-in connection: %w", err)
		}
	}
	if _, err := c.ExecContext(ctx, "USE "+quoteIdent(db)+"."+quoteIdent(schema)); err != nil {
		// A convenience of the stand-in: a database or schema named at
		// login that does not exist yet is created, empty.
		s.log.Info("stand-in: creating the database and schema named at login", "database", db, "schema", schema)
		if err := s.attach(ctx, db); err != nil {
			c.Close()
			return nil, fmt.Errorf("stand-in connection: %w", err)
		}
		for _, q := range []string{"CREATE SCHEMA IF NOT EXISTS " + quoteIdent(db) + "." + quoteIdent(schema), "USE " + quoteIdent(db) + "." + quoteIdent(schema)} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				c.Close()
				return nil, fmt.Errorf("stand-in connection: %w", err)
			}
		}
	}
	role := strings.ToUpper(p.Role)
	if role == "" {
		role = "PUBLIC"
	}
	return &conn{s: s, c: c, user: p.User, id: s.sessions.Add(1), state: proxy.SessionState{
		Database: db, Schema: schema, Warehouse: strings.ToUpper(p.Warehouse), Role: role,
	}}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// Run implements proxy.Conn.
func (c *conn) Run(ctx context.Context, x proxy.Exec) (*proxy.Outcome, error) {
	c.mu.Lock()
	out, err := c.run(ctx, x)
	if err != nil || out.Rows == nil {
		c.mu.Unlock()
		return out, err
	}
	u := &unlockRows{Rows: out.Rows, unlock: c.mu.Unlock}
	out.Rows = u
	if b, ok := u.Rows.(proxy.BatchRows); ok {
		out.Rows = &unlockBatches{unlockRows: u, next: b.NextBatch}
	}
	return out, nil
}

func (c *conn) run(ctx context.Context, x proxy.Exec) (*proxy.Outcome, error) {
	toks, err := statement.Lex(x.SQL)
	if err != nil {
		return nil, sqlError("001003", "42000", "SQL compilation error: "+err.Error())
	}
	if run, handled := c.transaction(&parser{toks: toks}); handled {
		if run != "" {
			_, err := c.c.ExecContext(ctx, run)
			// a rollback may bring back what a DDL statement changed
			c.s.checked.reset()
			if err != nil {
				return nil, duckError(err)
			}
		}
		return &proxy.Outcome{Status: "Statement executed successfully.", State: c.snapshot()}, nil
	}
	if out, handled, err := c.admin(ctx, toks, x.Binds); handled {
		return out, err
	}
	sqlText, args, chk, err := c.prepare(ctx, x.SQL, toks, x.Binds)
	if err != nil {
		return nil, err
	}
	switch x.Kind {
	case statement.KindInsert, statement.KindUpdate, statement.KindDelete, statement.KindMerge:
		res, err := c.c.ExecContext(ctx, sqlText, args...)
		if err != nil {
			return nil, duckError(err)
		}
		n, _ := res.RowsAffected()
		return &proxy.Outcome{Affected: n, State: c.snapshot()}, nil
	case statement.KindSelect, statement.KindShow, statement.KindDescribe, statement.KindExplain, statement.KindCall, statement.KindUnknown:
		if x.Describe {
			sqlText = "SELECT * FROM (" + sqlText + ") LIMIT 0"
		}
		var r proxy.Rows
		if chk.batches && x.Batches && !x.Describe && !c.s.RowsOnly {
			if r, err = c.queryBatches(ctx, sqlText, args, x.SQL); err != nil {
				return nil, err
			}
		}
		if r == nil {
			rows, err := c.c.QueryContext(ctx, sqlText, args...)
			if err != nil {
				return nil, duckError(err)
			}
			if r, err = newRows(rows, x.SQL); err != nil {
				return nil, err
			}
		}
		out := &proxy.Outcome{Rows: r, State: c.snapshot()}
		if x.Kind == statement.KindSelect && !x.Describe && len(args) == 0 {
			out.QueryID = c.keep(sqlText)
		}
		return out, nil
	}
	_, err = c.c.ExecContext(ctx, sqlText, args...)
	if !chk.dml { // DDL may have changed what a checked query's columns are
		c.s.checked.reset()
	}
	if err != nil {
		return nil, duckError(err)
	}
	return &proxy.Outcome{Status: "Statement executed successfully.", State: c.snapshot()}, nil
}

// prepare confines a statement as every statement of the session is: it
// refuses what the stand-in must not run, rewrites the dialect, checks the
// result with DuckDB, and reads the binds.
func (c *conn) prepare(ctx context.Context, sqlText string, toks []statement.Token, binds []proxy.Bind) (text string, args []any, chk checked, err error) {
	if err := refuse(toks); err != nil {
		return "", nil, checked{}, err
	}
	if text, err = rewrite(sqlText, toks, c); err != nil {
		return "", nil, checked{}, err
	}
	if chk, err = c.checkStatement(ctx, text); err != nil {
		return "", nil, checked{}, err
	}
	if args, err = bindArgs(binds); err != nil {
		return "", nil, checked{}, err
	}
	return text, args, chk, nil
}

func (c *conn) snapshot() *proxy.SessionState {
	st := c.state
	return &st
}

var duckLine = regexp.MustCompile(`\n\nLINE \d+:.*`)

// duckError reports a DuckDB error as a Snowflake SQL error.
func duckError(err error) error {
	var de *duckdb.Error
	if errors.As(err, &de) {
		msg := duckLine.ReplaceAllString(de.Msg, "")
		switch de.Type {
		case duckdb.ErrorTypeCatalog:
			return sqlError("002003", "42S02", "SQL compilation error:\n"+msg)
		case duckdb.ErrorTypeParser, duckdb.ErrorTypeBinder:
			return sqlError("001003", "42000", "SQL compilation error:\n"+msg)
		case duckdb.ErrorTypeInterrupt:
			return sqlError("000604", "57014", "SQL execution canceled")
		case duckdb.ErrorTypeConstraint:
			return sqlError("100072", "22000", msg)
		}
		return sqlError("100132", "P0000", "SQL execution error: "+msg)
	}
	return err
}

// bindArgs turns the client's typed binds into DuckDB arguments.
func bindArgs(binds []proxy.Bind) ([]any, error) {
	args := make([]any, 0, len(binds))
	for _, b := range binds {
		if b.Array {
			return nil, sqlError("002099", "0A000", "array binds are not supported by the stand-in")
		}
		if b.Value == nil {
			args = append(args, nil)
			continue
		}
		v := *b.Value
		var arg any = v
		switch b.Type {
		case "FIXED":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				arg = n
			}
		case "REAL":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, sqlError("100038", "22018", "Numeric value '"+v+"' is not recognized")
			}
			arg = f
		case "BOOLEAN":
			arg = strings.EqualFold(v, "true") || v == "1"
		case "BINARY":
			b, err := hex.DecodeString(v)
			if err != nil {
				return nil, sqlError("100115", "22000", "binary bind is not hex")
			}
			arg = b
		case "DATE":
			ms, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				arg = time.UnixMilli(ms).UTC()
			}
		case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP":
			ns, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				arg = time.Unix(0, ns).UTC()
			}
		case "TIMESTAMP_TZ":
			ns, _, _ := strings.Cut(v, " ")
			n, err := strconv.ParseInt(ns, 10, 64)
			if err == nil {
				arg = time.Unix(0, n).UTC()
			}
		case "TIME":
			ns, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				arg = time.Unix(0, ns).UTC().Format("15:04:05.999999999")
			}
		}
		args = append(args, arg)
	}
	return args, nil
}

// rows adapts DuckDB rows to proxy.Rows.
type rows struct {
	r    *sql.Rows
	cols []proxy.Column
	vals []any
	ptrs []any
}

func newRows(r *sql.Rows, sqlText string) (*rows, error) {
	types, err := r.ColumnTypes()
	if err != nil {
		r.Close()
		return nil, duckError(err)
	}
	x := &rows{r: r, cols: make([]proxy.Column, len(types)), vals: make([]any, len(types)), ptrs: make([]any, len(types))}
	for i, t := range types {
		x.cols[i] = column(t.Name(), t.DatabaseTypeName(), sqlText)
		x.ptrs[i] = &x.vals[i]
	}
	return x, nil
}

func (r *rows) Columns() []proxy.Column { return r.cols }
func (r *rows) Close() error            { return r.r.Close() }

func (r *rows) Next(dst []any) error {
	if !r.r.Next() {
		if err := r.r.Err(); err != nil {
			return duckError(err)
		}
		return io.EOF
	}
	if err := r.r.Scan(r.ptrs...); err != nil {
		return duckError(err)
	}
	for i, v := range r.vals {
		dst[i] = value(r.cols[i].Type, v)
	}
	return nil
}

type unlockRows struct {
	proxy.Rows
	once   sync.Once
	unlock func()
}

func (u *unlockRows) Close() error {
	err := u.Rows.Close()
	u.once.Do(u.unlock)
	return err
}

type unlockBatches struct {
	*unlockRows
	next func() (arrow.RecordBatch, error)
}

func (u *unlockBatches) NextBatch() (arrow.RecordBatch, error) { return u.next() }

var decimalType = regexp.MustCompile(`^DECIMAL\((\d+),(\d+)\)$`)

// column maps a DuckDB result column to Snowflake's rowtype. Names are
// upper-cased as Snowflake folds unquoted names, unless the statement wrote
// them quoted.
func column(name, dbType, sqlText string) proxy.Column {
	if !strings.Contains(sqlText, `"`+name+`"`) {
		name = strings.ToUpper(name)
	}
	c := proxy.Column{Name: name, Nullable: true}
	switch {
	case dbType == "BOOLEAN":
		c.Type = "boolean"
	case dbType == "TINYINT", dbType == "SMALLINT", dbType == "INTEGER", dbType == "BIGINT", dbType == "HUGEINT",
		dbType == "UTINYINT", dbType == "USMALLINT", dbType == "UINTEGER", dbType == "UBIGINT", dbType == "UHUGEINT":
		c.Type, c.Precision = "fixed", 38
	case decimalType.MatchString(dbType):
		m := decimalType.FindStringSubmatch(dbType)
		c.Type = "fixed"
		c.Precision, _ = strconv.ParseInt(m[1], 10, 64)
		c.Scale, _ = strconv.ParseInt(m[2], 10, 64)
	case dbType == "FLOAT", dbType == "DOUBLE":
		c.Type = "real"
	case dbType == "BLOB":
		c.Type = "binary"
	case dbType == "DATE":
		c.Type = "date"
	case dbType == "TIME":
		c.Type, c.Scale = "time", 9
	case dbType == "TIMESTAMP", dbType == "TIMESTAMP_NS", dbType == "TIMESTAMP_MS", dbType == "TIMESTAMP_S":
		c.Type, c.Scale = "timestamp_ntz", 9
	case dbType == "TIMESTAMPTZ", dbType == "TIMESTAMP WITH TIME ZONE":
		c.Type, c.Scale = "timestamp_ltz", 9
	case dbType == tzStruct:
		c.Type, c.Scale = "timestamp_tz", 9
	case dbType == "JSON":
		c.Type = "variant"
	case strings.HasSuffix(dbType, "]"):
		c.Type = "array"
	case strings.HasPrefix(dbType, "STRUCT"), strings.HasPrefix(dbType, "MAP"):
		c.Type = "object"
	default:
		c.Type = "text"
	}
	return c
}

// value converts what DuckDB scanned into what proxy.Rows promises.
func value(typ string, v any) any {
	switch x := v.(type) {
	case duckdb.Decimal:
		return proxy.Fixed{Unscaled: x.Value, Scale: int(x.Scale)}
	case duckdb.UUID:
		return x.String()
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d microseconds", x.Months, x.Days, x.Micros)
	case *big.Int:
		return x
	case []byte:
		if typ == "text" && len(x) == 16 {
			return formatUUID(x)
		}
		return x
	case map[string]any:
		if typ == "timestamp_tz" {
			ts, _ := x["ts"].(time.Time)
			off, _ := x["tz"].(int32)
			return ts.In(time.FixedZone("", int(off)*60))
		}
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	case []any:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	return v
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// TableType answers what kind of relation a name is, in Snowflake's
// words (BASE TABLE, TEMPORARY TABLE, VIEW): empty when there is none.
func (c *conn) TableType(ctx context.Context, database, schema, name string) (string, error) {
	var typ string
	err := c.s.db.QueryRowContext(ctx, `SELECT table_type FROM information_schema.tables
		WHERE upper(table_catalog) = upper(?) AND upper(table_schema) = upper(?) AND upper(table_name) = upper(?)`,
		database, schema, name).Scan(&typ)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("stand-in catalog: %w", err)
	case typ == "LOCAL TEMPORARY":
		return "TEMPORARY TABLE", nil
	}
	return typ, nil
}

// Columns implements statement.Catalog: a table's columns, upper-cased as
// Snowflake folds unquoted names. DuckDB matches names case-insensitively,
// and so does this.
func (c *conn) Columns(ctx context.Context, database, schema, table string) ([]string, error) {
	rows, err := c.s.db.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
		WHERE upper(table_catalog) = upper(?) AND upper(table_schema) = upper(?) AND upper(table_name) = upper(?)
		ORDER BY ordinal_position`, database, schema, table)
	if err != nil {
		return nil, fmt.Errorf("stand-in catalog: %w", err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		cols = append(cols, strings.ToUpper(name))
	}
	return cols, rows.Err()
}

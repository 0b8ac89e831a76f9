package proxy

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/snowgate/snowgate/proxy/statement"
)

// Upstream runs statements: Snowflake through gosnowflake, or the embedded
// DuckDB stand-in.
type Upstream interface {
	// Open starts an upstream session as the given user.
	Open(ctx context.Context, p OpenParams) (Conn, error)
}

// OpenParams says how to open an upstream session.
type OpenParams struct {
	User     string // upstream login name
	Password string // upstream password; empty when the upstream needs none
	// PrivateKey is a PEM-encoded RSA private key for key-pair login; when
	// set it is used instead of Password.
	PrivateKey string
	Database   string
	Schema     string
	Warehouse  string
	Role       string
}

// Conn is one upstream session. Its methods may be called from several
// goroutines.
type Conn interface {
	// Run executes one statement.
	Run(ctx context.Context, x Exec) (*Outcome, error)
	Close() error
}

// Exec is one statement to run upstream.
type Exec struct {
	SQL      string
	Kind     statement.Kind
	Binds    []Bind
	QueryTag string // set as the upstream QUERY_TAG when not empty
	Describe bool   // describe only: columns, no rows
	// Batches says the caller reads a result as BatchRows when the
	// upstream offers it.
	Batches bool
}

// Bind is one bind value as the client sent it: Snowflake's type name and
// its text (nil for NULL). Array binds carry Values instead.
type Bind struct {
	Name   string // "1", "2"... for positional binds
	Type   string // upper-case Snowflake type: FIXED, REAL, TEXT, BOOLEAN, DATE, TIME, TIMESTAMP_NTZ...
	Value  *string
	Values []*string
	Array  bool
}

// Outcome is what a statement produced: rows, a row count or a status.
type Outcome struct {
	Rows     Rows   // a result set, or nil
	Affected int64  // rows changed by DML
	Status   string // what DDL and session statements report
	// State is the upstream session's database, schema, warehouse and role
	// after the statement, when the statement changed them.
	State *SessionState
	// QueryID is the upstream's own id for the statement, when the
	// upstream reports it (RESULT_SCAN of the statement needs it).
	QueryID string
}

// Rows is a result set streamed from upstream.
type Rows interface {
	Columns() []Column
	// Next fills dst (len(Columns())) with the next row's values: nil, bool,
	// int64 and the other Go integers, float64, string, []byte, time.Time,
	// Fixed, *big.Int, or maps and slices for semi-structured values. It
	// returns io.EOF after the last row.
	Next(dst []any) error
	Close() error
}

// BatchRows is a result set an upstream hands over a record batch at a
// time, one array per column in standard Arrow types (int64, decimal128,
// float64, utf8, bool, date32, time64, timestamp, binary), or a timestamp
// as Snowflake's epoch/fraction struct: what rowset.Text reads for the
// column's type. Its Next may fail: the caller reads batches.
type BatchRows interface {
	Rows
	// NextBatch returns the next rows, valid until the next call; io.EOF
	// after the last.
	NextBatch() (arrow.RecordBatch, error)
}

// SessionState is the session's current context.
type SessionState struct {
	Database  string
	Schema    string
	Warehouse string
	Role      string
}

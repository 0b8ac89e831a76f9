// Package snowflake is the upstream executor for a real Snowflake account,
// or anything that speaks its protocol, through gosnowflake.
package snowflake

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// Upstream opens gosnowflake sessions. Its fields configure the account;
// the user and its password or private key come per session (OpenParams):
// with a private key the session logs in with Snowflake's key-pair (JWT)
// authentication instead of the password.
type Upstream struct {
	Account      string // required
	Host         string // default <account>.snowflakecomputing.com
	Port         int    // default 443
	Protocol     string // "https" (default) or "http"
	LoginTimeout time.Duration
}

var _ proxy.Upstream = (*Upstream)(nil)

// Open implements proxy.Upstream: one Snowflake session per gateway session.
func (u *Upstream) Open(ctx context.Context, p proxy.OpenParams) (proxy.Conn, error) {
	arrow := "ARROW" // whatever the account's default: results are read in Arrow batches
	cfg := sf.Config{
		Account: u.Account, Host: u.Host, Port: u.Port, Protocol: u.Protocol,
		User: p.User, Password: p.Password,
		Database: p.Database, Schema: p.Schema, Warehouse: p.Warehouse, Role: p.Role,
		LoginTimeout:             u.LoginTimeout,
		Params:                   map[string]*string{"GO_QUERY_RESULT_FORMAT": &arrow},
		DisableTelemetry:         true,
		DisableQueryContextCache: true,
		DisableConsoleLogin:      sf.ConfigBoolTrue,
	}
	if p.PrivateKey != "" {
		key, err := parsePrivateKey(p.PrivateKey)
		if err != nil {
			return nil, err
		}
		cfg.Authenticator, cfg.PrivateKey, cfg.Password = sf.AuthTypeJwt, key, ""
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, cfg))
	db.SetMaxOpenConns(1)
	c, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, sqlError(err)
	}
	return &conn{db: db, c: c}, nil
}

type conn struct {
	db *sql.DB
	c  *sql.Conn
	mu sync.Mutex // statements of a session run one at a time
}

func (c *conn) Close() error {
	c.c.Close()
	return c.db.Close()
}

// Run implements proxy.Conn.
func (c *conn) Run(ctx context.Context, x proxy.Exec) (*proxy.Outcome, error) {
	c.mu.Lock()
	if x.QueryTag != "" {
		ctx = sf.WithQueryTag(ctx, x.QueryTag)
	}
	if x.Describe {
		ctx = sf.WithDescribeOnly(ctx)
	}
	// The upstream's own query id, for RESULT_SCAN of the statement later:
	// gosnowflake sends it here as soon as the upstream answers.
	idc := make(chan string, 1)
	ctx = sf.WithQueryIDChan(ctx, idc)
	args := bindArgs(x.Binds)
	switch x.Kind {
	case statement.KindSelect, statement.KindShow, statement.KindDescribe, statement.KindExplain, statement.KindCall, statement.KindList:
		r, err := c.query(ctx, x, args, c.mu.Unlock)
		if err != nil {
			c.mu.Unlock()
			return nil, err
		}
		return &proxy.Outcome{Rows: r, QueryID: queryID(idc)}, nil
	}
	defer c.mu.Unlock()
	res, err := c.c.ExecContext(ctx, x.SQL, args...)
	if err != nil {
		return nil, sqlError(err)
	}
	n, _ := res.RowsAffected()
	return &proxy.Outcome{Affected: n, QueryID: queryID(idc)}, nil
}

// queryID returns the id gosnowflake reported, or "" when it reported none.
func queryID(c <-chan string) string {
	select {
	case id := <-c:
		return id
	default:
		return ""
	}
}

func bindArgs(binds []proxy.Bind) []any {
	args := make([]any, 0, len(binds))
	for _, b := range binds {
		if b.Value == nil {
			args = append(args, nil)
			continue
		}
		v := *b.Value
		switch b.Type {
		case "FIXED":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				args = append(args, n)
				continue
			}
		case "REAL":
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				args = append(args, f)
				continue
			}
		case "BOOLEAN":
			args = append(args, strings.EqualFold(v, "true") || v == "1")
			continue
		}
		args = append(args, v)
	}
	return args
}

// upstreamErr carries Snowflake's own error code to the client.
type upstreamErr struct{ e *sf.SnowflakeError }

func (u *upstreamErr) Error() string { return u.e.Error() }
func (u *upstreamErr) Unwrap() error { return u.e }

// SnowflakeCode lets the gateway pass Snowflake's code on.
func (u *upstreamErr) SnowflakeCode() (string, string, string) {
	return fmt.Sprintf("%06d", u.e.Number), u.e.SQLState, u.e.Message
}

func sqlError(err error) error {
	var se *sf.SnowflakeError
	if errors.As(err, &se) && se.Number > 0 {
		return &upstreamErr{se}
	}
	return fmt.Errorf("upstream: %w", err)
}

// errPrivateKey is returned for an OpenParams.PrivateKey that is not a
// PEM-encoded RSA private key. Its text never includes the key.
var errPrivateKey = errors.New("upstream key-pair login: private key is not a PEM-encoded RSA key")

// parsePrivateKey reads a PEM-encoded RSA private key, PKCS#8 ("PRIVATE
// KEY", what Vault's database engine issues) or PKCS#1 ("RSA PRIVATE KEY").
// Encrypted keys are not supported.
func parsePrivateKey(pemText string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errPrivateKey
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#8: %w", errPrivateKey, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: PKCS#8 key is %T", errPrivateKey, k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#1: %w", errPrivateKey, err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: PEM block is %q", errPrivateKey, block.Type)
}

// TableType answers what kind of relation a name is, as INFORMATION_SCHEMA
// says (BASE TABLE, TEMPORARY TABLE, VIEW, MATERIALIZED VIEW, ...): empty
// when there is none.
func (c *conn) TableType(ctx context.Context, database, schema, name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := `SELECT TABLE_TYPE FROM "` + strings.ReplaceAll(database, `"`, `""`) + `".INFORMATION_SCHEMA.TABLES
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`
	var typ string
	err := c.c.QueryRowContext(ctx, q, schema, name).Scan(&typ)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", sqlError(err)
	}
	return typ, nil
}

// Columns implements statement.Catalog from the database's
// INFORMATION_SCHEMA, on the session's own connection.
func (c *conn) Columns(ctx context.Context, database, schema, table string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := `SELECT COLUMN_NAME FROM "` + strings.ReplaceAll(database, `"`, `""`) + `".INFORMATION_SCHEMA.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`
	rows, err := c.c.QueryContext(ctx, q, schema, table)
	if err != nil {
		return nil, sqlError(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		cols = append(cols, name)
	}
	return cols, rows.Err()
}

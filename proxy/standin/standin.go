// Package standin is a local Snowflake stand-in on embedded DuckDB: the
// upstream `snowgate dev` runs statements on, with a small realistic sample
// (customers with PII, orders, events with semi-structured payloads), and
// Snowflake users that log in with a password or a key pair, managed with
// CREATE/ALTER/DROP USER and GRANT ROLE as Vault's Snowflake plugin does.
//
// It is a convenience for trying snowgate and for tests, not an emulator:
// SQL runs on DuckDB after a few token-level rewrites of Snowflake-only
// types and functions (see dialect.go). A Snowflake database is a DuckDB
// catalog, so three-part names work.
//
// DuckDB can do much that Snowflake cannot: read and write files, install
// and load extensions, change its own settings, run SQL held in strings.
// None of it is reachable through the stand-in: DuckDB runs with external
// access off and its configuration locked, and the stand-in runs only the
// statements and functions a Snowflake account could (see confine.go).
package standin

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/duckdb/duckdb-go/v2"
)

// Database and Schema hold the sample data.
const (
	Database = "DEMO"
	Schema   = "PUBLIC"
)

// Standin is the DuckDB stand-in. It implements proxy.Upstream and, for its
// own users, proxy.Authenticator.
type Standin struct {
	db    *sql.DB
	dir   string
	sys   string // the DuckDB catalog that holds the user registry
	log   *slog.Logger
	users *users

	sessions atomic.Int64 // numbers sessions for CURRENT_SESSION()

	checked checkedTexts // statements checkStatement passed (confine.go)

	// RowsOnly reads every result a row at a time, as a build without the
	// duckdb_arrow tag does (batches.go): for comparing the two. Set it
	// before the first session opens.
	RowsOnly bool

	// locked is set once DuckDB's external access is off and its
	// configuration locked: from then on no file can be attached.
	locked bool
}

// Open starts the stand-in. With dir empty, everything is in memory;
// otherwise the data lives in dir and survives restarts.
func Open(ctx context.Context, dir string, log *slog.Logger) (*Standin, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := ""
	if dir != "" {
		path = filepath.Join(dir, "standin.duckdb")
	}
	connector, err := duckdb.NewConnector(path+"?"+duckOptions, nil)
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	s := &Standin{db: db, dir: dir, log: log}
	if err := db.QueryRowContext(ctx, `SELECT current_database()`).Scan(&s.sys); err != nil {
		db.Close()
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	s.users = &users{db: db, table: quoteIdent(s.sys) + ".SNOWGATE_STANDIN"}
	if err := s.setup(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.attachExisting(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.lockDown(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Standin) Close() error { return s.db.Close() }

// Ping answers a query on DuckDB, for the gateway's readiness: it fails
// once the stand-in is closed.
func (s *Standin) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("stand-in: %w", err)
	}
	return nil
}

// attach makes a Snowflake database available as a DuckDB catalog. Before
// the stand-in is locked down, a database of a persistent stand-in is a
// file in its directory. Afterwards DuckDB opens no file, so a database
// first named then lives in memory until the stand-in stops.
func (s *Standin) attach(ctx context.Context, name string) error {
	if s.locked {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_databases() WHERE lower(database_name) = lower(?)`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if s.dir != "" {
			s.log.Warn("stand-in: a database created after start is kept in memory, not in the data directory, and is gone when the stand-in stops", "database", name)
		}
		_, err := s.db.ExecContext(ctx, `ATTACH IF NOT EXISTS ':memory:' AS `+quoteIdent(name))
		return err
	}
	src := ":memory:"
	if s.dir != "" {
		src = filepath.Join(s.dir, name+".duckdb")
	}
	_, err := s.db.ExecContext(ctx, fmt.Sprintf(`ATTACH IF NOT EXISTS %s AS %s`, quoteString(src), quoteIdent(name)))
	return err
}

// attachExisting attaches, before the lock-down, every database a
// persistent stand-in holds in its directory, so that databases created
// in an earlier run are there in this one.
func (s *Standin) attachExisting(ctx context.Context) error {
	if s.dir == "" {
		return nil
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read stand-in directory: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".duckdb")
		if !ok || name == "" || name == "standin" || !e.Type().IsRegular() {
			continue
		}
		if err := s.attach(ctx, name); err != nil {
			s.log.Warn("stand-in: a database file in the data directory cannot be attached", "file", e.Name(), "err", err)
		}
	}
	return nil
}

// setup creates the user registry and, once, the sample data.
func (s *Standin) setup(ctx context.Context) error {
	if err := s.attach(ctx, Database); err != nil {
		return fmt.Errorf("attach %s: %w", Database, err)
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? AND table_name = 'CUSTOMERS'`, Database, Schema).Scan(&n)
	if err != nil {
		return fmt.Errorf("inspect stand-in: %w", err)
	}
	if n > 0 {
		return nil
	}
	sys := s.users.table
	for _, q := range []string{
		`CREATE SCHEMA IF NOT EXISTS ` + sys,
		`CREATE TABLE IF NOT EXISTS ` + sys + `.USERS (NAME VARCHAR PRIMARY KEY, PASSWORD_HASH VARCHAR, RSA_PUBLIC_KEY VARCHAR, RSA_PUBLIC_KEY_2 VARCHAR, DEFAULT_ROLE VARCHAR, DISABLED BOOLEAN DEFAULT false)`,
		`CREATE TABLE IF NOT EXISTS ` + sys + `.GRANTS (ROLE VARCHAR, GRANTEE VARCHAR, PRIMARY KEY (ROLE, GRANTEE))`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("set up stand-in: %w", err)
		}
	}
	for _, q := range sampleSQL {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("load sample data: %s: %w", q, err)
		}
	}
	return nil
}

func quoteIdent(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}

func quoteString(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// RowCount counts a table's rows, bypassing every session (for tests and
// diagnostics).
func (s *Standin) RowCount(ctx context.Context, table string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n)
	return n, err
}

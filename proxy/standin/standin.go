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
package standin

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"

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
	connector, err := duckdb.NewConnector(path, nil)
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
	return s, nil
}

// Close closes the database.
func (s *Standin) Close() error { return s.db.Close() }

// attach makes a Snowflake database available as a DuckDB catalog.
func (s *Standin) attach(ctx context.Context, name string) error {
	src := ":memory:"
	if s.dir != "" {
		src = filepath.Join(s.dir, name+".duckdb")
	}
	_, err := s.db.ExecContext(ctx, fmt.Sprintf(`ATTACH IF NOT EXISTS %s AS %s`, quoteString(src), quoteIdent(name)))
	return err
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

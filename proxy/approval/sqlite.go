package approval

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // the SQLite driver
)

// SQLite is a Store in a SQLite file: approvals survive a restart.
type SQLite struct {
	db *sql.DB
}

// OpenSQLite opens (creating if needed) the store at path.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("open approvals store: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS approvals (
		id TEXT PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL, body TEXT NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("open approvals store: %w", err)
	}
	return &SQLite{db: db}, nil
}

func (s *SQLite) Create(ctx context.Context, r *Request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO approvals (id, state, version, created_at, body) VALUES (?, ?, ?, ?, ?)`,
		r.ID, string(r.State), r.Version, r.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), string(b))
	if err != nil {
		return fmt.Errorf("store approval: %w", err)
	}
	return nil
}

func (s *SQLite) Get(ctx context.Context, id string) (*Request, error) {
	var body string
	err := s.db.QueryRowContext(ctx, `SELECT body FROM approvals WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read approval: %w", err)
	}
	var r Request
	return &r, json.Unmarshal([]byte(body), &r)
}

func (s *SQLite) List(ctx context.Context, states ...State) ([]*Request, error) {
	q := `SELECT body FROM approvals`
	args := make([]any, len(states))
	if len(states) > 0 {
		q += ` WHERE state IN (?` + strings.Repeat(", ?", len(states)-1) + `)`
		for i, st := range states {
			args[i] = string(st)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	defer rows.Close()
	var out []*Request
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var r Request
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

func (s *SQLite) Update(ctx context.Context, r *Request, from State) error {
	next := *r
	next.Version++
	b, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE approvals SET state = ?, version = ?, body = ? WHERE id = ? AND state = ? AND version = ?`,
		string(r.State), next.Version, string(b), r.ID, string(from), r.Version)
	if err != nil {
		return fmt.Errorf("update approval: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	r.Version = next.Version
	return nil
}

func (s *SQLite) Close() error { return s.db.Close() }

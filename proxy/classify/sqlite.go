package classify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // the SQLite driver
)

// SQLite is a Store in a SQLite file, for a gateway with one replica:
// inherited classifications survive a restart.
type SQLite struct {
	db *sql.DB
}

// OpenSQLite opens (creating if needed) the store at path.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open classifications store: path %q: ? and # are not allowed", path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("open classifications store: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS inherited_classifications (
		seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
		body TEXT NOT NULL, forgotten TEXT)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("open classifications store: %w", err)
	}
	return &SQLite{db: db}, nil
}

func (s *SQLite) Add(ctx context.Context, recs []*Record) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store classifications: %w", err)
	}
	defer tx.Rollback()
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inherited_classifications (id, created_at, body) VALUES (?, ?, ?)`,
			r.ID, r.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), string(b)); err != nil {
			return fmt.Errorf("store classifications: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store classifications: %w", err)
	}
	return nil
}

func (s *SQLite) List(ctx context.Context) ([]*Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT body, forgotten FROM inherited_classifications ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("list classifications: %w", err)
	}
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		var body string
		var forgotten sql.NullString
		if err := rows.Scan(&body, &forgotten); err != nil {
			return nil, err
		}
		r, err := decodeRecord([]byte(body), []byte(forgotten.String))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *SQLite) Forget(ctx context.Context, ids []string, f Forgotten) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return 0, err
	}
	args := []any{string(b)}
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE inherited_classifications SET forgotten = ? WHERE forgotten IS NULL AND id IN (?`+
		strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("forget classifications: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (s *SQLite) Version(ctx context.Context) (string, error) {
	var n, f int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), count(forgotten) FROM inherited_classifications`).Scan(&n, &f); err != nil {
		return "", fmt.Errorf("classifications store version: %w", err)
	}
	return fmt.Sprintf("%d:%d", n, f), nil
}

func (s *SQLite) Close() error { return s.db.Close() }

// decodeRecord reads a stored record and, when set, how it was forgotten.
func decodeRecord(body, forgotten []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("read classification record: %w", err)
	}
	r.Forgotten = nil
	if len(forgotten) > 0 {
		var f Forgotten
		if err := json.Unmarshal(forgotten, &f); err != nil {
			return nil, fmt.Errorf("read classification record %s: %w", r.ID, err)
		}
		r.Forgotten = &f
	}
	return &r, nil
}

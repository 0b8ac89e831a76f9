package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// SQLite is the single-file store, for a gateway with one replica. It runs
// in WAL mode with synchronous=FULL, so a committed transaction has been
// fsync'd to the WAL; writers take the database lock with BEGIN IMMEDIATE,
// which serialises Appends across processes.
type SQLite struct {
	db   *sql.DB
	path string
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS audit_records (
	replica    TEXT    NOT NULL,
	seq        INTEGER NOT NULL,
	time       TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	session_id TEXT    NOT NULL DEFAULT '',
	subject    TEXT    NOT NULL DEFAULT '',
	body       TEXT    NOT NULL,
	hash       TEXT    NOT NULL,
	PRIMARY KEY (replica, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_session ON audit_records (session_id);
CREATE INDEX IF NOT EXISTS audit_records_subject ON audit_records (subject);
CREATE INDEX IF NOT EXISTS audit_records_time    ON audit_records (time);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
	replica    TEXT    NOT NULL,
	seq        INTEGER NOT NULL,
	hash       TEXT    NOT NULL,
	time       TEXT    NOT NULL,
	public_key TEXT    NOT NULL DEFAULT '',
	signature  TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (replica, seq)
);`

// OpenSQLite opens (creating unless o.ReadOnly) the SQLite audit database
// at path. A new file is created with mode 0600.
func OpenSQLite(ctx context.Context, path string, o StoreOptions) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("audit: sqlite: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("audit: sqlite: path %q: ? and # are not allowed", path)
	}
	if o.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s", ErrNotFound, path)
		}
	} else if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("audit: sqlite: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("audit: sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &SQLite{db: db, path: path}
	if !o.ReadOnly {
		if err := createSchema(ctx, db); err != nil {
			db.Close()
			return nil, fmt.Errorf("audit: sqlite %s: create schema: %w", path, err)
		}
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("audit: sqlite %s: %w", path, err)
	}
	return s, nil
}

// createSchema creates the tables in a write transaction (BEGIN IMMEDIATE
// waits for the lock). Opening the connection switches the file to WAL,
// which SQLite refuses at once, without waiting, while another process
// holds the file at that moment (two opening it together): that is
// retried for up to 5 s.
func createSchema(ctx context.Context, db *sql.DB) error {
	for attempt := 1; ; attempt++ {
		err := createSchemaOnce(ctx, db)
		var se interface{ Code() int }
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != 5 || attempt == 50 { // SQLITE_BUSY
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func createSchemaOnce(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, sqliteSchema); err != nil {
		return err
	}
	return tx.Commit()
}

// createPrivate makes sure path exists and can be written, creating it
// and its directory readable by the owner only. A trail that cannot be
// written (a read-only filesystem, its permissions) is said so here, not
// as SQLite's "unable to open database file".
func createPrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR, 0)
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// DB exposes the database handle, for tests that tamper with the trail.
func (s *SQLite) DB() *sql.DB { return s.db }

// Tail implements Store.
func (s *SQLite) Tail(ctx context.Context, replica string) (Position, error) {
	return sqliteTail(ctx, s.db, replica)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func sqliteTail(ctx context.Context, q queryRower, replica string) (Position, error) {
	var p Position
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_records WHERE replica = ? ORDER BY seq DESC LIMIT 1`, replica).Scan(&p.Seq, &p.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Position{}, nil
	}
	if err != nil {
		return p, fmt.Errorf("audit: sqlite: tail of %s: %w", replica, err)
	}
	return p, nil
}

// Append implements Store.
func (s *SQLite) Append(ctx context.Context, recs []Record, cp *Checkpoint) error {
	if len(recs) == 0 && cp == nil {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		return fmt.Errorf("audit: sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	replica, want := expectedTail(recs, cp)
	tail, err := sqliteTail(ctx, tx, replica)
	if err != nil {
		return err
	}
	if tail != want {
		return fmt.Errorf("%w: %s ends at seq %d, batch expects %d", ErrConflict, replica, tail.Seq, want.Seq)
	}
	if len(recs) > 0 {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO audit_records (replica, seq, time, type, session_id, subject, body, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("audit: sqlite: prepare: %w", err)
		}
		defer ins.Close()
		for _, r := range recs {
			if _, err := ins.ExecContext(ctx, r.Replica, r.Seq, r.Time.UTC().Format(timeLayout), r.Type, r.SessionID, r.Subject, string(r.Body), r.Hash); err != nil {
				return fmt.Errorf("audit: sqlite: insert %s: %w", r.ID(), err)
			}
		}
	}
	if cp != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (replica, seq, hash, time, public_key, signature) VALUES (?, ?, ?, ?, ?, ?)`,
			cp.Replica, cp.Seq, cp.Hash, cp.Time.UTC().Format(timeLayout), cp.PublicKey, cp.Signature); err != nil {
			return fmt.Errorf("audit: sqlite: insert checkpoint %s: %w", RecordID(cp.Replica, cp.Seq), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit: sqlite: commit: %w", err)
	}
	return nil
}

// expectedTail is where the chain must end for a batch to apply.
func expectedTail(recs []Record, cp *Checkpoint) (string, Position) {
	if len(recs) > 0 {
		return recs[0].Replica, Position{Seq: recs[0].Seq - 1, Hash: recs[0].Prev}
	}
	return cp.Replica, Position{Seq: cp.Seq, Hash: cp.Hash}
}

const sqliteColumns = `replica, seq, time, type, session_id, subject, body, hash`

// Chain implements Store.
func (s *SQLite) Chain(ctx context.Context, replica string, fn func(Record) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sqliteColumns+` FROM audit_records WHERE replica = ? ORDER BY seq`, replica)
	if err != nil {
		return fmt.Errorf("audit: sqlite: read chain %s: %w", replica, err)
	}
	return sqliteEach(rows, fn)
}

// Scan implements Store.
func (s *SQLite) Scan(ctx context.Context, f Filter, fn func(Record) error) error {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Replica != "" {
		add("replica = ?", f.Replica)
	}
	if f.SessionID != "" {
		add("session_id = ?", f.SessionID)
	}
	if f.Subject != "" {
		add("subject = ?", f.Subject)
	}
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UTC().Format(timeLayout))
	}
	if !f.Until.IsZero() {
		add("time < ?", f.Until.UTC().Format(timeLayout))
	}
	if len(f.Types) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?,", len(f.Types)), ",")
		where = append(where, "type IN ("+ph+")")
		for _, t := range f.Types {
			args = append(args, t)
		}
	}
	q := `SELECT ` + sqliteColumns + ` FROM audit_records`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time, replica, seq"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("audit: sqlite: scan: %w", err)
	}
	return sqliteEach(rows, fn)
}

func sqliteEach(rows *sql.Rows, fn func(Record) error) error {
	defer rows.Close()
	for rows.Next() {
		var r Record
		var ts, body string
		if err := rows.Scan(&r.Replica, &r.Seq, &ts, &r.Type, &r.SessionID, &r.Subject, &body, &r.Hash); err != nil {
			return fmt.Errorf("audit: sqlite: read record: %w", err)
		}
		t, err := time.Parse(timeLayout, ts)
		if err != nil {
			t = time.Time{} // left zero; Verify reports the disagreement with the body
		}
		r.Time, r.Body = t, []byte(body)
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: sqlite: read records: %w", err)
	}
	return nil
}

// Checkpoints implements Store.
func (s *SQLite) Checkpoints(ctx context.Context, replica string) ([]Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT replica, seq, hash, time, public_key, signature FROM audit_checkpoints WHERE replica = ? ORDER BY seq`, replica)
	if err != nil {
		return nil, fmt.Errorf("audit: sqlite: read checkpoints %s: %w", replica, err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var ts string
		if err := rows.Scan(&c.Replica, &c.Seq, &c.Hash, &ts, &c.PublicKey, &c.Signature); err != nil {
			return nil, fmt.Errorf("audit: sqlite: read checkpoint: %w", err)
		}
		c.Time, _ = time.Parse(timeLayout, ts) // a mangled time fails the signature check
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: sqlite: read checkpoints: %w", err)
	}
	return out, nil
}

// Replicas implements Store.
func (s *SQLite) Replicas(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT replica FROM audit_records UNION SELECT replica FROM audit_checkpoints ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("audit: sqlite: list replicas: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("audit: sqlite: list replicas: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Close implements Store.
func (s *SQLite) Close() error { return s.db.Close() }

var _ Store = (*SQLite)(nil)

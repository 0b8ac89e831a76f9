package quota

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" driver
)

// SQL is a Store in PostgreSQL (shared by the replicas) or SQLite (one
// replica's own).
type SQL struct {
	db       *sql.DB
	postgres bool
	pruned   time.Time
}

const schema = `
CREATE TABLE IF NOT EXISTS snowgate_quota_counters (
	key          TEXT   NOT NULL,
	metric       TEXT   NOT NULL,
	window_start BIGINT NOT NULL,
	value        BIGINT NOT NULL,
	PRIMARY KEY (key, metric, window_start)
);
CREATE TABLE IF NOT EXISTS snowgate_quota_sessions (
	replica TEXT   NOT NULL,
	key     TEXT   NOT NULL,
	n       BIGINT NOT NULL,
	seen    BIGINT NOT NULL,
	PRIMARY KEY (replica, key)
)`

// Open opens the store named by dsn: a postgres:// URL, or an SQLite file
// path (sqlite:// or bare), creating its tables.
func Open(ctx context.Context, dsn string) (*SQL, error) {
	s := &SQL{postgres: strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")}
	var err error
	if s.postgres {
		s.db, err = sql.Open("pgx", dsn)
	} else {
		path := strings.TrimPrefix(dsn, "sqlite://")
		// Counters are not evidence: a crash may lose the last second's.
		s.db, err = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_txlock=immediate")
		s.db.SetMaxOpenConns(1)
	}
	if err != nil {
		return nil, fmt.Errorf("quota store: %w", err)
	}
	if err := s.createTables(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("quota store: create tables: %w", err)
	}
	return s, nil
}

// createTables runs the schema in one write transaction, which waits for
// another replica creating it at the same time.
func (s *SQL) createTables(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range strings.Split(schema, ";") {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// q writes the ? placeholders of query as PostgreSQL's $n when needed.
func (s *SQL) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Sync implements Store, in one transaction.
func (s *SQL) Sync(ctx context.Context, replica string, deltas map[Cell]int64, sessions map[string]int64, now time.Time) (map[Cell]int64, map[string]int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	add := s.q(`INSERT INTO snowgate_quota_counters (key, metric, window_start, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (key, metric, window_start) DO UPDATE SET value = snowgate_quota_counters.value + excluded.value`)
	for c, n := range deltas {
		if _, err := tx.ExecContext(ctx, add, c.Key, c.Metric, c.Window, n); err != nil {
			return nil, nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM snowgate_quota_sessions WHERE replica = ?`), replica); err != nil {
		return nil, nil, err
	}
	put := s.q(`INSERT INTO snowgate_quota_sessions (replica, key, n, seen) VALUES (?, ?, ?, ?)`)
	for k, n := range sessions {
		if _, err := tx.ExecContext(ctx, put, replica, k, n, now.Unix()); err != nil {
			return nil, nil, err
		}
	}
	if now.Sub(s.pruned) > time.Hour { // windows older than a day and a half count for nothing
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM snowgate_quota_counters WHERE window_start < ?`), now.Add(-36*time.Hour).Unix()); err != nil {
			return nil, nil, err
		}
		s.pruned = now
	}
	counters := map[Cell]int64{}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT key, metric, window_start, value FROM snowgate_quota_counters
		WHERE (metric = ? AND window_start = ?) OR (metric = ? AND window_start = ?) OR (metric = ? AND window_start = ?)`),
		Statements, Window(Statements, now), Rows, Window(Rows, now), Bytes, Window(Bytes, now))
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var c Cell
		var v int64
		if err := rows.Scan(&c.Key, &c.Metric, &c.Window, &v); err != nil {
			rows.Close()
			return nil, nil, err
		}
		counters[c] = v
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	open := map[string]int64{}
	rows, err = tx.QueryContext(ctx, s.q(`SELECT key, SUM(n) FROM snowgate_quota_sessions WHERE seen >= ? GROUP BY key`), now.Add(-staleAfter).Unix())
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		open[k] = n
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	return counters, open, tx.Commit()
}

// Close implements Store.
func (s *SQL) Close() error { return s.db.Close() }

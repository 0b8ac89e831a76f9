package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the shared store for several replicas. Each replica appends
// under a transaction-scoped advisory lock on its name, so its seq order is
// the commit order even if two processes share a name, and every commit
// runs with synchronous_commit=on whatever the server's default.
type Postgres struct {
	pool *pgxpool.Pool
}

const postgresSchema = `
CREATE TABLE IF NOT EXISTS audit_records (
	replica    text        NOT NULL,
	seq        bigint      NOT NULL,
	time       timestamptz NOT NULL,
	type       text        NOT NULL,
	session_id text        NOT NULL DEFAULT '',
	subject    text        NOT NULL DEFAULT '',
	body       text        NOT NULL,
	hash       text        NOT NULL,
	PRIMARY KEY (replica, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_session ON audit_records (session_id);
CREATE INDEX IF NOT EXISTS audit_records_subject ON audit_records (subject);
CREATE INDEX IF NOT EXISTS audit_records_time    ON audit_records (time);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
	replica    text        NOT NULL,
	seq        bigint      NOT NULL,
	hash       text        NOT NULL,
	time       timestamptz NOT NULL,
	public_key text        NOT NULL DEFAULT '',
	signature  text        NOT NULL DEFAULT '',
	PRIMARY KEY (replica, seq)
);`

// OpenPostgres connects to the database a postgres:// URL names and, unless
// o.ReadOnly, creates the tables. Several replicas may share it.
func OpenPostgres(ctx context.Context, url string, o StoreOptions) (*Postgres, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("audit: postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("audit: postgres: %w", err)
	}
	if !o.ReadOnly {
		// Two replicas starting together would race on CREATE ... IF NOT
		// EXISTS; a session lock makes it one at a time.
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('snowgate.audit.schema', 0))`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, postgresSchema)
			return err
		})
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("audit: postgres: create schema: %w", err)
		}
	}
	return &Postgres{pool: pool}, nil
}

// Pool exposes the connection pool, for tests that tamper with the trail.
func (p *Postgres) Pool() *pgxpool.Pool { return p.pool }

type pgQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func pgTail(ctx context.Context, q pgQuerier, replica string) (Position, error) {
	var p Position
	err := q.QueryRow(ctx, `SELECT seq, hash FROM audit_records WHERE replica = $1 ORDER BY seq DESC LIMIT 1`, replica).Scan(&p.Seq, &p.Hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return Position{}, nil
	}
	if err != nil {
		return p, fmt.Errorf("audit: postgres: tail of %s: %w", replica, err)
	}
	return p, nil
}

// Tail implements Store.
func (p *Postgres) Tail(ctx context.Context, replica string) (Position, error) {
	return pgTail(ctx, p.pool, replica)
}

// Append implements Store. It takes two round trips before the commit's
// fsync: BEGIN, the replica's advisory lock and the tail in one batch; the
// inserts and COMMIT (or ROLLBACK on a conflict) in the second.
func (p *Postgres) Append(ctx context.Context, recs []Record, cp *Checkpoint) error {
	if len(recs) == 0 && cp == nil {
		return nil
	}
	replica, want := expectedTail(recs, cp)
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("audit: postgres: %w", err)
	}
	// A connection left inside a transaction (any error below) is closed
	// by the pool on Release rather than reused.
	defer conn.Release()

	var tail Position
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended('snowgate.audit.replica.' || $1, 0))`, replica)
	b.Queue(`SET LOCAL synchronous_commit = on`)
	b.Queue(`SELECT seq, hash FROM audit_records WHERE replica = $1 ORDER BY seq DESC LIMIT 1`, replica).QueryRow(func(r pgx.Row) error {
		err := r.Scan(&tail.Seq, &tail.Hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("audit: postgres: lock and read the tail of %s: %w", replica, err)
	}
	if tail != want {
		_, _ = conn.Exec(ctx, `ROLLBACK`)
		return fmt.Errorf("%w: %s ends at seq %d, batch expects %d", ErrConflict, replica, tail.Seq, want.Seq)
	}
	b = &pgx.Batch{}
	if n := len(recs); n > 0 {
		seqs, times := make([]int64, n), make([]time.Time, n)
		types, sessions, subjects, bodies, hashes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, r := range recs {
			seqs[i], times[i], types[i], sessions[i], subjects[i], bodies[i], hashes[i] = r.Seq, r.Time, r.Type, r.SessionID, r.Subject, string(r.Body), r.Hash
		}
		b.Queue(`INSERT INTO audit_records (replica, seq, time, type, session_id, subject, body, hash)
			SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
			replica, seqs, times, types, sessions, subjects, bodies, hashes)
	}
	if cp != nil {
		b.Queue(`INSERT INTO audit_checkpoints (replica, seq, hash, time, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6)`,
			cp.Replica, cp.Seq, cp.Hash, cp.Time, cp.PublicKey, cp.Signature)
	}
	b.Queue(`COMMIT`)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("audit: postgres: write %d records to %s: %w", len(recs), replica, err)
	}
	if st := conn.Conn().PgConn().TxStatus(); st != 'I' {
		return fmt.Errorf("audit: postgres: write to %s: transaction not committed (status %c)", replica, st)
	}
	return nil
}

const pgColumns = `replica, seq, time, type, session_id, subject, body, hash`

// Chain implements Store.
func (p *Postgres) Chain(ctx context.Context, replica string, fn func(Record) error) error {
	rows, err := p.pool.Query(ctx, `SELECT `+pgColumns+` FROM audit_records WHERE replica = $1 ORDER BY seq`, replica)
	if err != nil {
		return fmt.Errorf("audit: postgres: read chain %s: %w", replica, err)
	}
	return pgEach(rows, fn)
}

// Scan implements Store.
func (p *Postgres) Scan(ctx context.Context, f Filter, fn func(Record) error) error {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Replica != "" {
		add("replica = $%d", f.Replica)
	}
	if f.SessionID != "" {
		add("session_id = $%d", f.SessionID)
	}
	if f.Subject != "" {
		add("subject = $%d", f.Subject)
	}
	if !f.Since.IsZero() {
		add("time >= $%d", f.Since)
	}
	if !f.Until.IsZero() {
		add("time < $%d", f.Until)
	}
	if len(f.Types) > 0 {
		add("type = ANY($%d)", f.Types)
	}
	q := `SELECT ` + pgColumns + ` FROM audit_records`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time, replica, seq"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := p.pool.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("audit: postgres: scan: %w", err)
	}
	return pgEach(rows, fn)
}

func pgEach(rows pgx.Rows, fn func(Record) error) error {
	defer rows.Close()
	for rows.Next() {
		var r Record
		var body string
		if err := rows.Scan(&r.Replica, &r.Seq, &r.Time, &r.Type, &r.SessionID, &r.Subject, &body, &r.Hash); err != nil {
			return fmt.Errorf("audit: postgres: read record: %w", err)
		}
		r.Time, r.Body = r.Time.UTC(), []byte(body)
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: postgres: read records: %w", err)
	}
	return nil
}

// Checkpoints implements Store.
func (p *Postgres) Checkpoints(ctx context.Context, replica string) ([]Checkpoint, error) {
	rows, err := p.pool.Query(ctx, `SELECT replica, seq, hash, time, public_key, signature FROM audit_checkpoints WHERE replica = $1 ORDER BY seq`, replica)
	if err != nil {
		return nil, fmt.Errorf("audit: postgres: read checkpoints %s: %w", replica, err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		if err := rows.Scan(&c.Replica, &c.Seq, &c.Hash, &c.Time, &c.PublicKey, &c.Signature); err != nil {
			return nil, fmt.Errorf("audit: postgres: read checkpoint: %w", err)
		}
		c.Time = c.Time.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: postgres: read checkpoints: %w", err)
	}
	return out, nil
}

// Replicas implements Store.
func (p *Postgres) Replicas(ctx context.Context) ([]string, error) {
	rows, err := p.pool.Query(ctx, `SELECT replica FROM audit_records UNION SELECT replica FROM audit_checkpoints ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("audit: postgres: list replicas: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("audit: postgres: list replicas: %w", err)
	}
	return out, nil
}

// Close implements Store.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

var _ Store = (*Postgres)(nil)

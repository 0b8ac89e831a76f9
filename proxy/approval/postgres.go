package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is a Store in PostgreSQL, shared by several gateway replicas:
// the compare-and-set in Update keeps one approval from being used twice.
type Postgres struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to the database at url (postgres://...) and
// creates the table when missing.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open approvals store: %w", err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS snowgate_approvals (
		id TEXT PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL, created_at TIMESTAMPTZ NOT NULL, body JSONB NOT NULL)`); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open approvals store: %w", err)
	}
	return &Postgres{pool: pool}, nil
}

func (p *Postgres) Create(ctx context.Context, r *Request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = p.pool.Exec(ctx, `INSERT INTO snowgate_approvals (id, state, version, created_at, body) VALUES ($1, $2, $3, $4, $5)`,
		r.ID, string(r.State), r.Version, r.CreatedAt, b)
	if err != nil {
		return fmt.Errorf("store approval: %w", err)
	}
	return nil
}

func (p *Postgres) Get(ctx context.Context, id string) (*Request, error) {
	var body []byte
	err := p.pool.QueryRow(ctx, `SELECT body FROM snowgate_approvals WHERE id = $1`, id).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read approval: %w", err)
	}
	var r Request
	return &r, json.Unmarshal(body, &r)
}

func (p *Postgres) List(ctx context.Context, states ...State) ([]*Request, error) {
	q := `SELECT body FROM snowgate_approvals`
	args := make([]any, len(states))
	if len(states) > 0 {
		marks := make([]string, len(states))
		for i, st := range states {
			marks[i], args[i] = fmt.Sprintf("$%d", i+1), string(st)
		}
		q += ` WHERE state IN (` + strings.Join(marks, ", ") + `)`
	}
	rows, err := p.pool.Query(ctx, q+` ORDER BY created_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	defer rows.Close()
	var out []*Request
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var r Request
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

func (p *Postgres) Update(ctx context.Context, r *Request, from State) error {
	next := *r
	next.Version++
	b, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	tag, err := p.pool.Exec(ctx, `UPDATE snowgate_approvals SET state = $1, version = $2, body = $3 WHERE id = $4 AND state = $5 AND version = $6`,
		string(r.State), next.Version, b, r.ID, string(from), r.Version)
	if err != nil {
		return fmt.Errorf("update approval: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrConflict
	}
	r.Version = next.Version
	return nil
}

func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

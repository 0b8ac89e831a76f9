package classify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is a Store in PostgreSQL, shared by several gateway replicas:
// each polls Version and reloads when another has recorded or forgotten.
type Postgres struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to the database at url (postgres://...) and
// creates the table when missing.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open classifications store: %w", err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS snowgate_inherited_classifications (
		seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, created_at TIMESTAMPTZ NOT NULL,
		body JSONB NOT NULL, forgotten JSONB)`); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open classifications store: %w", err)
	}
	return &Postgres{pool: pool}, nil
}

func (p *Postgres) Add(ctx context.Context, recs []*Record) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		for _, r := range recs {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO snowgate_inherited_classifications (id, created_at, body) VALUES ($1, $2, $3)`,
				r.ID, r.CreatedAt, b); err != nil {
				return fmt.Errorf("store classifications: %w", err)
			}
		}
		return nil
	})
}

func (p *Postgres) List(ctx context.Context) ([]*Record, error) {
	rows, err := p.pool.Query(ctx, `SELECT body, forgotten FROM snowgate_inherited_classifications ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("list classifications: %w", err)
	}
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		var body, forgotten []byte
		if err := rows.Scan(&body, &forgotten); err != nil {
			return nil, err
		}
		r, err := decodeRecord(body, forgotten)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (p *Postgres) Forget(ctx context.Context, ids []string, f Forgotten) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return 0, err
	}
	tag, err := p.pool.Exec(ctx, `UPDATE snowgate_inherited_classifications SET forgotten = $1 WHERE forgotten IS NULL AND id = ANY($2)`, b, ids)
	if err != nil {
		return 0, fmt.Errorf("forget classifications: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

func (p *Postgres) Version(ctx context.Context) (string, error) {
	var n, f int64
	if err := p.pool.QueryRow(ctx, `SELECT count(*), count(forgotten) FROM snowgate_inherited_classifications`).Scan(&n, &f); err != nil {
		return "", fmt.Errorf("classifications store version: %w", err)
	}
	return fmt.Sprintf("%d:%d", n, f), nil
}

func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

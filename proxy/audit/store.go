package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors.
var (
	// ErrConflict is returned by Store.Append when the replica's chain no
	// longer ends where the batch expects (another writer appended).
	ErrConflict = errors.New("audit: chain tail moved")
	// ErrClosed is returned by Log.Record after Close.
	ErrClosed = errors.New("audit: log closed")
	// ErrInvalidEvent is returned by Log.Record for an event it cannot store.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrNotFound is returned when an audit database does not exist and
	// the store was opened read-only.
	ErrNotFound = errors.New("audit: no audit database")
	// ErrTruncated is returned by Open when the replica's chain ends before
	// its last checkpoint: records were removed from its tail.
	ErrTruncated = errors.New("audit: chain truncated")
)

// Position is where a replica's chain ends: the last record's seq and
// hash, or 0 and "" when it is empty.
type Position struct {
	Seq  int64
	Hash string
}

// Filter selects records for Store.Scan. Zero fields select everything.
type Filter struct {
	Replica   string
	SessionID string
	Subject   string
	Types     []string
	Since     time.Time // records at or after
	Until     time.Time // records before
	Limit     int       // at most this many; 0 for all
}

// Store keeps the records and checkpoints of any number of replicas.
// Implementations must make Append durable before it returns and must
// serialise Appends to the same replica across processes.
type Store interface {
	// Tail returns where the replica's chain ends.
	Tail(ctx context.Context, replica string) (Position, error)
	// Append writes recs, which continue one replica's chain, and cp when
	// it is not nil, in one durable transaction. It fails with ErrConflict,
	// writing nothing, when the chain does not end at (recs[0].Seq-1,
	// recs[0].Prev), or at (cp.Seq, cp.Hash) when recs is empty.
	Append(ctx context.Context, recs []Record, cp *Checkpoint) error
	// Chain calls fn for every record of the replica in stored seq order.
	Chain(ctx context.Context, replica string, fn func(Record) error) error
	// Scan calls fn for the records f selects, by time, then replica and seq.
	Scan(ctx context.Context, f Filter, fn func(Record) error) error
	// Checkpoints returns the replica's checkpoints in seq order.
	Checkpoints(ctx context.Context, replica string) ([]Checkpoint, error)
	// Replicas names every replica with a record or a checkpoint.
	Replicas(ctx context.Context) ([]string, error)
	// Close releases the store.
	Close() error
}

// StoreOptions tune OpenStore.
type StoreOptions struct {
	// ReadOnly opens an existing store for reading (verify, show, export):
	// a missing SQLite file is ErrNotFound and no schema is created.
	ReadOnly bool
}

// OpenStore opens the store a DSN names: "sqlite:///path/audit.db" (or a
// bare path) for SQLite, "postgres://..." or "postgresql://..." for
// PostgreSQL.
func OpenStore(ctx context.Context, dsn string, o StoreOptions) (Store, error) {
	switch {
	case dsn == "":
		return nil, errors.New("audit: DSN is empty: want sqlite:///path/audit.db or postgres://...")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return OpenPostgres(ctx, dsn, o)
	case strings.HasPrefix(dsn, "sqlite://"):
		return OpenSQLite(ctx, strings.TrimPrefix(dsn, "sqlite://"), o)
	case strings.Contains(dsn, "://"):
		return nil, fmt.Errorf("audit: DSN %q: unknown scheme, want sqlite:// or postgres://", dsn)
	}
	return OpenSQLite(ctx, dsn, o)
}

// timeLayout is how SQLite keeps times: fixed width, so text order is
// time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

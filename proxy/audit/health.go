package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// CommitBounds are the upper bounds, in seconds, of the buckets Stats
// counts commits in.
var CommitBounds = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Stats is a snapshot of the writer: what waits for it and how long its
// commits take.
type Stats struct {
	// Waiting is how many Record calls wait for their commit: the group
	// commit's queue, the one being committed included.
	Waiting int
	// Deferred is how many Defer'd events wait for the next commit.
	Deferred int
	// CommitCounts are the commits (one transaction and fsync each, of a
	// batch and any checkpoint) by duration, in CommitBounds' buckets (not
	// cumulative; the last counts those above every bound). Failed commits
	// are counted too.
	CommitCounts []uint64
	// CommitSeconds is the time all commits took.
	CommitSeconds float64
	// Records is how many records were committed.
	Records int64
	// Failures is how many commits failed.
	Failures int64
}

// meter is the writer's counters, read by Stats.
type meter struct {
	waiting  atomic.Int64
	commits  [len(CommitBounds) + 1]atomic.Uint64
	nanos    atomic.Int64
	records  atomic.Int64
	failures atomic.Int64
}

func (m *meter) committed(took time.Duration, records int, err error) {
	i, _ := slices.BinarySearch(CommitBounds[:], took.Seconds())
	m.commits[i].Add(1)
	m.nanos.Add(int64(took))
	if err != nil {
		m.failures.Add(1)
		return
	}
	m.records.Add(int64(records))
}

// Stats returns the writer's queue and commit counters.
func (l *Log) Stats() Stats {
	m := &l.meter
	s := Stats{Waiting: int(m.waiting.Load()), CommitCounts: make([]uint64, len(m.commits)),
		CommitSeconds: time.Duration(m.nanos.Load()).Seconds(), Records: m.records.Load(), Failures: m.failures.Load()}
	for i := range m.commits {
		s.CommitCounts[i] = m.commits[i].Load()
	}
	l.deferMu.Lock()
	s.Deferred = len(l.deferred)
	l.deferMu.Unlock()
	return s
}

// writableStore is a Store that can tell cheaply whether it takes writes
// now.
type writableStore interface {
	CheckWritable(ctx context.Context) error
}

// Check reports whether the trail can be written now: the log is open and
// its store takes writes (SQLite: its write lock can be had; PostgreSQL: the
// server answers and is not read-only). It writes nothing.
func (l *Log) Check(ctx context.Context) error {
	select {
	case <-l.quit:
		return ErrClosed
	default:
	}
	if w, ok := l.store.(writableStore); ok {
		return w.CheckWritable(ctx)
	}
	return nil
}

// CheckWritable takes the database's write lock (BEGIN IMMEDIATE, as
// Append does) and gives it back at once: it fails when the file cannot be
// written or another connection holds the lock until ctx ends (the
// connection waits for the lock that long instead of the usual busy
// timeout).
func (s *SQLite) CheckWritable(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("audit: sqlite %s: %w", s.path, err)
	}
	defer conn.Close()
	wait := time.Second
	if d, ok := ctx.Deadline(); ok {
		wait = max(time.Until(d)*3/4, time.Millisecond)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, wait.Milliseconds())); err != nil {
		return fmt.Errorf("audit: sqlite %s: %w", s.path, err)
	}
	// Back to OpenSQLite's busy timeout before the connection is reused.
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = 10000`)
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("audit: sqlite %s: cannot take the write lock: %w", s.path, err)
	}
	_, err = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
	return err
}

// errReadOnly: the PostgreSQL session would be read-only.
var errReadOnly = errors.New("the database is read-only (a standby, or default_transaction_read_only is on)")

// CheckWritable asks the server whether a transaction here could write:
// it fails when the server cannot be reached or is read-only.
func (p *Postgres) CheckWritable(ctx context.Context) error {
	var ro string
	if err := p.pool.QueryRow(ctx, `SELECT current_setting('transaction_read_only')`).Scan(&ro); err != nil {
		return fmt.Errorf("audit: postgres: %w", err)
	}
	if ro == "on" {
		return fmt.Errorf("audit: postgres: %w", errReadOnly)
	}
	return nil
}

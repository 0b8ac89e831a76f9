// Package quota counts what each caller does — statements per minute, rows
// returned per hour, bytes returned per day, sessions open — so that the
// policy can read it (engine.Input.Usage) and limit it. Counts are kept in
// memory and synced every Interval with a store the replicas share
// (PostgreSQL) or a local one (SQLite): a replica's counts reach the others
// within an Interval.
package quota

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Metrics and the windows they are counted in.
const (
	Statements = "statements" // per minute
	Rows       = "rows"       // per hour
	Bytes      = "bytes"      // per day
)

var windows = map[string]time.Duration{Statements: time.Minute, Rows: time.Hour, Bytes: 24 * time.Hour}

// Window is the start of metric's window at t, in Unix seconds.
func Window(metric string, t time.Time) int64 { return t.Truncate(windows[metric]).Unix() }

// Usage is one key's counts in the current windows.
type Usage struct {
	StatementsMinute int64 `json:"statements_minute"`
	RowsHour         int64 `json:"rows_hour"`
	BytesDay         int64 `json:"bytes_day"`
	Sessions         int64 `json:"sessions"`
}

// Cell is one counter: a key's metric in one window.
type Cell struct {
	Key, Metric string
	Window      int64 // Unix seconds
}

// Store is what the replicas share.
type Store interface {
	// Sync adds deltas to the counters, records sessions as this
	// replica's open sessions by key, and returns, in one round, the
	// counters of the windows current at now and the sessions open on
	// every replica that synced within the last staleAfter.
	Sync(ctx context.Context, replica string, deltas map[Cell]int64, sessions map[string]int64, now time.Time) (map[Cell]int64, map[string]int64, error)
	Close() error
}

// Defaults for Counter.
const (
	DefaultInterval = time.Second
	// staleAfter is how old the last sync may be before Usage fails (the
	// policy is told the counts are unavailable), and how long a replica
	// that stopped syncing keeps counting in the others' sessions.
	staleAfter = 15 * time.Second
)

// ErrStale is Usage's error when the counts could not be synced lately.
var ErrStale = errors.New("quota: the usage counters have not been synced lately")

// Counter counts for one replica. Its methods are safe for concurrent use.
type Counter struct {
	store    Store
	replica  string
	interval time.Duration
	log      *slog.Logger

	mu       sync.Mutex
	pending  map[Cell]int64   // added since the last sync
	inflight map[Cell]int64   // sent by the sync under way, not yet in synced
	synced   map[Cell]int64   // the store's counters at the last sync
	sessions map[string]int64 // this replica's open sessions
	mine     map[string]int64 // this replica's open sessions as of the last sync
	all      map[string]int64 // every replica's open sessions at the last sync
	at       time.Time        // the last sync
	failures int64            // syncs that failed
	stop     chan struct{}
	done     chan struct{}
}

// New syncs once with store, so that a replica starts with the shared
// counts, and keeps syncing every interval (DefaultInterval when zero)
// until Close.
func New(ctx context.Context, store Store, replica string, interval time.Duration, log *slog.Logger) (*Counter, error) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Counter{store: store, replica: replica, interval: interval, log: log,
		pending: map[Cell]int64{}, sessions: map[string]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
	go c.loop()
	return c, nil
}

func (c *Counter) loop() {
	defer close(c.done)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), staleAfter)
			if err := c.sync(ctx); err != nil {
				c.log.Warn("quota counters not synced", "err", err)
			}
			cancel()
		}
	}
}

// sync sends what was counted since the last sync and takes the shared
// counts. On failure nothing is lost: the deltas are sent with the next.
// Syncs do not overlap: the loop runs them in turn, and Close after it.
func (c *Counter) sync(ctx context.Context) error {
	c.mu.Lock()
	deltas := c.pending
	c.pending, c.inflight = map[Cell]int64{}, deltas // Usage still counts them while they travel
	sessions := make(map[string]int64, len(c.sessions))
	for k, n := range c.sessions {
		sessions[k] = n
	}
	c.mu.Unlock()
	now := time.Now()
	synced, all, err := c.store.Sync(ctx, c.replica, deltas, sessions, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight = nil
	if err != nil {
		for cell, n := range deltas {
			c.pending[cell] += n
		}
		c.failures++
		return fmt.Errorf("quota: sync: %w", err)
	}
	c.synced, c.all, c.mine, c.at = synced, all, sessions, now
	return nil
}

// Add counts n of metric for each key, now.
func (c *Counter) Add(keys []string, metric string, n int64) {
	if n == 0 {
		return
	}
	w := Window(metric, time.Now())
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.pending[Cell{k, metric, w}] += n
	}
}

// Open counts a session opened for keys; Close it with Closed.
func (c *Counter) Open(keys []string) { c.sessionDelta(keys, 1) }

// Closed counts a session of keys closed.
func (c *Counter) Closed(keys []string) { c.sessionDelta(keys, -1) }

func (c *Counter) sessionDelta(keys []string, d int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.sessions[k] += d
		if c.sessions[k] <= 0 {
			delete(c.sessions, k)
		}
	}
}

// Usage returns each key's counts in the current windows: every replica's
// as of the last sync, and this replica's since. It fails with ErrStale
// when the last sync is older than 15 s.
func (c *Counter) Usage(keys []string) (map[string]Usage, error) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.at) > staleAfter {
		return nil, fmt.Errorf("%w (last %s ago)", ErrStale, now.Sub(c.at).Round(time.Second))
	}
	out := make(map[string]Usage, len(keys))
	for _, k := range keys {
		count := func(metric string) int64 {
			cell := Cell{k, metric, Window(metric, now)}
			return c.synced[cell] + c.inflight[cell] + c.pending[cell]
		}
		out[k] = Usage{
			StatementsMinute: count(Statements), RowsHour: count(Rows), BytesDay: count(Bytes),
			Sessions: c.all[k] - c.mine[k] + c.sessions[k],
		}
	}
	return out, nil
}

// Synced reports when the counters last synced with the store, and how
// many syncs have failed: for /metrics.
func (c *Counter) Synced() (at time.Time, failures int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at, c.failures
}

// Close syncs a last time, withdrawing this replica's sessions, and closes
// the store.
func (c *Counter) Close(ctx context.Context) error {
	close(c.stop)
	<-c.done
	c.mu.Lock()
	c.sessions = map[string]int64{}
	c.mu.Unlock()
	err := c.sync(ctx)
	return errors.Join(err, c.store.Close())
}

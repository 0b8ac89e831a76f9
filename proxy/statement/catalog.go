package statement

import (
	"context"
	"sync"
	"time"
)

// CachedCatalog wraps a Catalog (typically the upstream's
// INFORMATION_SCHEMA) with a cache: answers are kept for TTL, at most Max
// tables are held, and errors are never cached (a failed lookup leaves '*'
// untraced for that statement only).
type CachedCatalog struct {
	Inner Catalog
	TTL   time.Duration // default 5 minutes
	Max   int           // default 10,000 tables

	mu      sync.Mutex
	entries map[string]cacheEntry
	now     func() time.Time
}

type cacheEntry struct {
	cols []string
	at   time.Time
}

// Defaults for CachedCatalog.
const (
	DefaultCatalogTTL = 5 * time.Minute
	DefaultCatalogMax = 10000
)

var _ Catalog = (*CachedCatalog)(nil)

// Columns implements Catalog.
func (c *CachedCatalog) Columns(ctx context.Context, database, schema, table string) ([]string, error) {
	key := database + "\x00" + schema + "\x00" + table
	ttl, limit := c.TTL, c.Max
	if ttl <= 0 {
		ttl = DefaultCatalogTTL
	}
	if limit <= 0 {
		limit = DefaultCatalogMax
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && now().Sub(e.at) < ttl {
		c.mu.Unlock()
		return e.cols, nil
	}
	c.mu.Unlock()
	cols, err := c.Inner.Columns(ctx, database, schema, table)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= limit {
		c.entries = make(map[string]cacheEntry) // crude but bounded: start over when full
	}
	c.entries[key] = cacheEntry{cols: cols, at: now()}
	return cols, nil
}

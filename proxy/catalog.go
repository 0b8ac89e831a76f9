package proxy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/snowgate/snowgate/proxy/statement"
)

// catalogTTL is how long a session remembers a table's columns.
const catalogTTL = time.Minute

// sessionCatalog answers the analyser's questions about table columns
// (to expand '*') from the upstream session, remembering answers briefly.
// Without an upstream that can answer, '*' stays untraced.
type sessionCatalog struct {
	upstream statement.Catalog
	mu       sync.Mutex
	m        map[string]cachedColumns
}

type cachedColumns struct {
	cols []string
	err  error
	at   time.Time
}

func newSessionCatalog(c Conn) statement.Catalog {
	up, ok := c.(statement.Catalog)
	if !ok {
		return nil
	}
	return &sessionCatalog{upstream: up, m: map[string]cachedColumns{}}
}

func (c *sessionCatalog) Columns(ctx context.Context, database, schema, table string) ([]string, error) {
	key := strings.Join([]string{database, schema, table}, "\x00")
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && time.Since(e.at) < catalogTTL {
		return e.cols, e.err
	}
	cols, err := c.upstream.Columns(ctx, database, schema, table)
	if err == nil && len(cols) == 0 {
		err = fmt.Errorf("catalog: no table %s.%s.%s", database, schema, table)
	}
	c.mu.Lock()
	c.m[key] = cachedColumns{cols: cols, err: err, at: time.Now()}
	c.mu.Unlock()
	return cols, err
}

//go:build !duckdb_arrow

package standin

import (
	"context"

	"github.com/snowgate/snowgate/proxy"
)

// Batches says whether this build reads query results in record batches:
// built without the duckdb_arrow tag, DuckDB has no Arrow interface, and
// every result is read a row at a time.
const Batches = false

func (c *conn) queryBatches(context.Context, string, []any, string) (proxy.Rows, error) {
	return nil, nil
}

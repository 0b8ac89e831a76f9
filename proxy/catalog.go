package proxy

import (
	"context"
	"fmt"
	"time"

	"github.com/snowgate/snowgate/proxy/statement"
)

// catalogTTL is how long a session remembers a table's columns.
const catalogTTL = time.Minute

// newSessionCatalog answers the analyser's questions about table columns
// (to expand '*') from the upstream session, when the upstream can list
// them; otherwise '*' stays untraced.
func newSessionCatalog(c Conn) statement.Catalog {
	up, ok := c.(statement.Catalog)
	if !ok {
		return nil
	}
	return &statement.CachedCatalog{Inner: known{up}, TTL: catalogTTL}
}

// known turns "no columns" into an error: a table the upstream does not
// know must leave '*' untraced, not expand it to nothing.
type known struct{ statement.Catalog }

func (k known) Columns(ctx context.Context, database, schema, table string) ([]string, error) {
	cols, err := k.Catalog.Columns(ctx, database, schema, table)
	if err == nil && len(cols) == 0 {
		err = fmt.Errorf("catalog: no table %s.%s.%s", database, schema, table)
	}
	return cols, err
}

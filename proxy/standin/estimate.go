package standin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// EstimateRows counts, exactly, the rows of the target that the predicate
// selects and the rows of the target, with the statement's own target and
// predicate text:
//
//	SELECT count_if(<predicate>), count(*) FROM <target>
//
// It runs like any statement of the session (the dialect rewrite and the
// confinement checks apply), on the session's own connection. The analysis
// offers an estimate only for predicates that run without effects.
func (c *conn) EstimateRows(ctx context.Context, q statement.EstimateQuery, binds []proxy.Bind) (proxy.Estimate, error) {
	if q.Target == "" || q.Predicate == "" {
		return proxy.Estimate{}, errors.New("stand-in estimate: no target or predicate")
	}
	sqlText := "SELECT count_if(" + q.Predicate + "), count(*) FROM " + q.Target
	out, err := c.Run(ctx, proxy.Exec{SQL: sqlText, Kind: statement.KindSelect, Binds: binds})
	if err != nil {
		return proxy.Estimate{}, fmt.Errorf("stand-in estimate: %w", err)
	}
	if out.Rows == nil {
		return proxy.Estimate{}, errors.New("stand-in estimate: no result")
	}
	defer out.Rows.Close()
	if n := len(out.Rows.Columns()); n != 2 {
		return proxy.Estimate{}, fmt.Errorf("stand-in estimate: %d columns, want 2", n)
	}
	row := make([]any, 2)
	if err := out.Rows.Next(row); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("no row")
		}
		return proxy.Estimate{}, fmt.Errorf("stand-in estimate: %w", err)
	}
	rows, err1 := count(row[0])
	total, err2 := count(row[1])
	if err := errors.Join(err1, err2); err != nil {
		return proxy.Estimate{}, fmt.Errorf("stand-in estimate: %w", err)
	}
	return proxy.Estimate{Rows: rows, Total: total, Method: engine.EstimateCount}, nil
}

// count reads a COUNT result as the stand-in returns it.
func count(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil // count_if over no rows
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case uint64:
		if x <= 1<<63-1 {
			return int64(x), nil
		}
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
	case proxy.Fixed:
		if x.Scale == 0 && x.Unscaled != nil && x.Unscaled.IsInt64() {
			return x.Unscaled.Int64(), nil
		}
	}
	return 0, fmt.Errorf("count of type %T: %v", v, v)
}

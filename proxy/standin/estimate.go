package standin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

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

// EstimateScans plans a read without running it,
//
//	EXPLAIN (FORMAT JSON) <statement>
//
// after the same dialect rewrite and confinement checks as running it, and
// reads each table scan of DuckDB's plan: the planner's estimated rows
// (engine.EstimatePlanRows), the table's rows, and whether any filter
// reaches the scan. A scan no filter reaches reads the whole table (Full);
// so does one whose filter the planner dropped as always true.
func (c *conn) EstimateScans(ctx context.Context, sqlText string, binds []proxy.Bind) (engine.Estimate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	toks, err := statement.Lex(sqlText)
	if err != nil {
		return engine.Estimate{}, fmt.Errorf("stand-in plan: %w", err)
	}
	text, args, _, err := c.prepare(ctx, sqlText, toks, binds)
	if err != nil {
		return engine.Estimate{}, err
	}
	var key, plan string
	if err := c.c.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+text, args...).Scan(&key, &plan); err != nil {
		return engine.Estimate{}, fmt.Errorf("stand-in plan: %w", duckError(err))
	}
	var nodes []planNode
	if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
		return engine.Estimate{}, fmt.Errorf("stand-in plan: %w", err)
	}
	est := engine.Estimate{Method: engine.EstimatePlanRows}
	var walk func(ns []planNode) error
	walk = func(ns []planNode) error {
		for _, n := range ns {
			if table, ok := n.Extra["Table"].(string); ok {
				sc, err := c.scan(ctx, table, n.Extra)
				if err != nil {
					return err
				}
				est.Scans = append(est.Scans, sc)
				est.Rows += sc.Rows
				est.Total += sc.Total
			}
			if err := walk(n.Children); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(nodes); err != nil {
		return engine.Estimate{}, fmt.Errorf("stand-in plan: %w", err)
	}
	if est.Total > 0 {
		est.Share = float64(est.Rows) / float64(est.Total)
	}
	return est, nil
}

// planNode is one operator of DuckDB's JSON plan.
type planNode struct {
	Name     string         `json:"name"`
	Children []planNode     `json:"children"`
	Extra    map[string]any `json:"extra_info"`
}

// scan reads one table scan: table is DuckDB's catalog.schema.table, which
// the stand-in names as Snowflake's DB.SCHEMA.TABLE.
func (c *conn) scan(ctx context.Context, table string, extra map[string]any) (engine.Scan, error) {
	parts := strings.Split(table, ".")
	if len(parts) != 3 {
		return engine.Scan{}, fmt.Errorf("scan of %q: not catalog.schema.table", table)
	}
	var total int64
	err := c.c.QueryRowContext(ctx, `SELECT estimated_size FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?`,
		parts[0], parts[1], parts[2]).Scan(&total)
	if err != nil {
		return engine.Scan{}, fmt.Errorf("rows of %s: %w", table, err)
	}
	rows := total
	_, filtered := extra["Filters"]
	if s, ok := extra["Estimated Cardinality"].(string); ok && filtered {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n < total {
			rows = n
		}
	}
	sc := engine.Scan{Object: strings.ToUpper(table), Rows: rows, Total: total, Full: !filtered || rows >= total}
	if total > 0 {
		sc.Share = float64(rows) / float64(total)
	}
	return sc, nil
}

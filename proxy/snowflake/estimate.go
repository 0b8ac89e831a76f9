package snowflake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// EstimateRows asks Snowflake to compile, not run, a query over the target
// with the statement's own predicate,
//
//	EXPLAIN USING JSON SELECT 1 FROM <target> WHERE <predicate>
//
// and reads how many of the table's micro-partitions are left after
// compile-time pruning (GlobalStats.partitionsAssigned of
// partitionsTotal): an upper bound of the share of the table the
// predicate can select, at micro-partition granularity. EXPLAIN needs no
// running warehouse and uses no compute credits.
func (c *conn) EstimateRows(ctx context.Context, q statement.EstimateQuery, binds []proxy.Bind) (proxy.Estimate, error) {
	if q.Target == "" || q.Predicate == "" {
		return proxy.Estimate{}, errors.New("snowflake estimate: no target or predicate")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, err := c.c.QueryContext(ctx, "EXPLAIN USING JSON SELECT 1 FROM "+q.Target+" WHERE "+q.Predicate, bindArgs(binds)...)
	if err != nil {
		return proxy.Estimate{}, fmt.Errorf("snowflake estimate: %w", sqlError(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return proxy.Estimate{}, fmt.Errorf("snowflake estimate: %w", err)
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return proxy.Estimate{}, fmt.Errorf("snowflake estimate: %w", sqlError(err))
		}
		return proxy.Estimate{}, errors.New("snowflake estimate: EXPLAIN returned no row")
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return proxy.Estimate{}, fmt.Errorf("snowflake estimate: %w", err)
	}
	for _, v := range vals { // the plan is the one JSON object among the columns
		var text string
		switch x := v.(type) {
		case string:
			text = x
		case []byte:
			text = string(x)
		}
		if strings.HasPrefix(strings.TrimSpace(text), "{") {
			return parseExplainPartitions(text)
		}
	}
	return proxy.Estimate{}, fmt.Errorf("snowflake estimate: no JSON plan among %d columns", len(cols))
}

// explainPlan is the part of EXPLAIN USING JSON's plan the estimate reads.
type explainPlan struct {
	GlobalStats *struct {
		PartitionsTotal    *int64 `json:"partitionsTotal"`
		PartitionsAssigned *int64 `json:"partitionsAssigned"`
	} `json:"GlobalStats"`
}

// parseExplainPartitions reads the partitions left after pruning and the
// table's partitions from a JSON plan.
func parseExplainPartitions(text string) (proxy.Estimate, error) {
	var p explainPlan
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		return proxy.Estimate{}, fmt.Errorf("snowflake estimate: plan: %w", err)
	}
	g := p.GlobalStats
	if g == nil || g.PartitionsTotal == nil || g.PartitionsAssigned == nil {
		return proxy.Estimate{}, errors.New("snowflake estimate: plan has no GlobalStats partitionsTotal and partitionsAssigned")
	}
	if *g.PartitionsTotal < 0 || *g.PartitionsAssigned < 0 || *g.PartitionsAssigned > *g.PartitionsTotal {
		return proxy.Estimate{}, fmt.Errorf("snowflake estimate: plan assigns %d of %d partitions", *g.PartitionsAssigned, *g.PartitionsTotal)
	}
	return proxy.Estimate{Rows: *g.PartitionsAssigned, Total: *g.PartitionsTotal, Method: engine.EstimateExplainPartitions}, nil
}

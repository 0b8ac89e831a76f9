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
	text, err := c.explain(ctx, "SELECT 1 FROM "+q.Target+" WHERE "+q.Predicate, binds)
	if err != nil {
		return proxy.Estimate{}, fmt.Errorf("snowflake estimate: %w", err)
	}
	return parseExplainPartitions(text)
}

// parseExplainPartitions reads the partitions left after pruning and the
// table's partitions from a JSON plan.
func parseExplainPartitions(text string) (proxy.Estimate, error) {
	var p scanPlan
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

// EstimateScans asks Snowflake to compile, not run, the read,
//
//	EXPLAIN USING JSON <statement>
//
// and reads each TableScan of the plan: the micro-partitions left after
// compile-time pruning of the table's, and their bytes
// (engine.EstimateExplainPartitions). A scan that prunes nothing reads the
// whole table (Full). Like EstimateRows it needs no running warehouse.
func (c *conn) EstimateScans(ctx context.Context, sqlText string, binds []proxy.Bind) (engine.Estimate, error) {
	text, err := c.explain(ctx, sqlText, binds)
	if err != nil {
		return engine.Estimate{}, err
	}
	return parseExplainScans(text)
}

// explain returns the JSON plan EXPLAIN USING JSON gives for sqlText.
func (c *conn) explain(ctx context.Context, sqlText string, binds []proxy.Bind) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, err := c.c.QueryContext(ctx, "EXPLAIN USING JSON "+sqlText, bindArgs(binds)...)
	if err != nil {
		return "", fmt.Errorf("snowflake plan: %w", sqlError(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", fmt.Errorf("snowflake plan: %w", err)
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return "", fmt.Errorf("snowflake plan: %w", sqlError(err))
		}
		return "", errors.New("snowflake plan: EXPLAIN returned no row")
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", fmt.Errorf("snowflake plan: %w", err)
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
			return text, nil
		}
	}
	return "", fmt.Errorf("snowflake plan: no JSON plan among %d columns", len(cols))
}

// scanPlan is the part of EXPLAIN USING JSON's plan the estimates read:
// the totals, and each operation of each step.
type scanPlan struct {
	GlobalStats *struct {
		PartitionsTotal    *int64 `json:"partitionsTotal"`
		PartitionsAssigned *int64 `json:"partitionsAssigned"`
		BytesAssigned      *int64 `json:"bytesAssigned"`
	} `json:"GlobalStats"`
	Operations [][]struct {
		Operation          string   `json:"operation"`
		Objects            []string `json:"objects"`
		PartitionsTotal    *int64   `json:"partitionsTotal"`
		PartitionsAssigned *int64   `json:"partitionsAssigned"`
	} `json:"Operations"`
}

// parseExplainScans reads a read's table scans from a JSON plan. A scan
// without its partition counts, or counts that do not add up, make the
// plan unreadable: an error, which the policy sees as a failed estimate.
func parseExplainScans(text string) (engine.Estimate, error) {
	var p scanPlan
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		return engine.Estimate{}, fmt.Errorf("snowflake plan: %w", err)
	}
	g := p.GlobalStats
	if g == nil || g.PartitionsTotal == nil || g.PartitionsAssigned == nil {
		return engine.Estimate{}, errors.New("snowflake plan: no GlobalStats partitionsTotal and partitionsAssigned")
	}
	est := engine.Estimate{Method: engine.EstimateExplainPartitions, Rows: *g.PartitionsAssigned, Total: *g.PartitionsTotal}
	if g.BytesAssigned != nil {
		est.Bytes = *g.BytesAssigned
	}
	for _, step := range p.Operations {
		for _, op := range step {
			if op.Operation != "TableScan" {
				continue
			}
			if len(op.Objects) != 1 || op.PartitionsTotal == nil || op.PartitionsAssigned == nil {
				return engine.Estimate{}, fmt.Errorf("snowflake plan: a TableScan of %v without its partitions", op.Objects)
			}
			assigned, total := *op.PartitionsAssigned, *op.PartitionsTotal
			if assigned < 0 || total < 0 || assigned > total {
				return engine.Estimate{}, fmt.Errorf("snowflake plan: a TableScan of %s assigns %d of %d partitions", op.Objects[0], assigned, total)
			}
			sc := engine.Scan{Object: op.Objects[0], Rows: assigned, Total: total, Full: assigned == total}
			if total > 0 {
				sc.Share = float64(assigned) / float64(total)
			}
			est.Scans = append(est.Scans, sc)
		}
	}
	if est.Rows < 0 || est.Total < 0 || est.Rows > est.Total || est.Bytes < 0 {
		return engine.Estimate{}, fmt.Errorf("snowflake plan: assigns %d of %d partitions", est.Rows, est.Total)
	}
	if est.Total > 0 {
		est.Share = float64(est.Rows) / float64(est.Total)
	}
	return est, nil
}

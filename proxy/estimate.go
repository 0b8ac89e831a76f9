package proxy

// Row estimates before the decision: for a bounded single-table UPDATE or
// DELETE (statement.EstimateQuery), the gateway asks the upstream how much
// of the table the statement's WHERE clause selects, so that the policy
// can hold writes that touch most of a table even though their predicate
// is not always true (DELETE FROM orders WHERE id > 0).

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/statement"
)

// Estimate is an upstream's answer: Rows of Total are selected, by Method
// (engine.EstimateCount: rows, exactly; engine.EstimateExplainPartitions:
// micro-partitions left after pruning, an upper bound).
type Estimate struct {
	Rows   int64
	Total  int64
	Method string
}

// rowEstimator is implemented by upstream sessions (Conn) that can
// estimate the rows a predicate selects without changing anything.
type rowEstimator interface {
	// EstimateRows runs q; binds are the values of q.Predicate's ?, in order.
	EstimateRows(ctx context.Context, q statement.EstimateQuery, binds []Bind) (Estimate, error)
}

// defaultEstimateTimeout bounds an estimate when Config.EstimateTimeout is
// zero.
const defaultEstimateTimeout = 2 * time.Second

// estimateContext bounds one estimate by Config.EstimateTimeout.
func (s *Server) estimateContext(ctx context.Context) (context.Context, context.CancelFunc) {
	timeout := s.cfg.EstimateTimeout
	if timeout == 0 {
		timeout = defaultEstimateTimeout
	}
	return context.WithTimeout(ctx, timeout)
}

// estimate returns the policy input's estimate for stmt, or nil when the
// statement has no estimate query or estimates are turned off. An estimate
// that cannot be had (an upstream that cannot estimate, an error, the time
// bound; logged) reaches the policy as method "failed", which the default
// library holds like an unbounded write.
func (s *Server) estimate(ctx context.Context, sess *session, stmt statement.Statement, binds []Bind, log *slog.Logger) *engine.Estimate {
	if stmt.Estimate == nil || s.cfg.EstimateTimeout < 0 {
		return nil
	}
	failed := &engine.Estimate{Object: qualified(stmt.Estimate.Object), Method: engine.EstimateFailed}
	est, ok := sess.conn.(rowEstimator)
	if !ok {
		log.Warn("the upstream cannot estimate rows; the policy is told so", "object", failed.Object)
		return failed
	}
	ctx, cancel := s.estimateContext(ctx)
	defer cancel()
	started := time.Now()
	values, err := predicateBinds(stmt.Estimate.Binds, binds)
	var e Estimate
	if err == nil {
		e, err = est.EstimateRows(ctx, *stmt.Estimate, values)
	}
	if err == nil && (e.Rows < 0 || e.Total < 0) {
		err = fmt.Errorf("negative counts %d of %d", e.Rows, e.Total)
	}
	if err != nil {
		// The predicate may read masked columns, and the decision is not
		// made yet: the log gets the error without the values it quotes.
		log.Warn("row estimate failed; the policy is told so", "object", failed.Object, "err", redactValues(err.Error()), "elapsed", time.Since(started))
		return failed
	}
	return inputEstimate(stmt.Estimate.Object, e)
}

// predicateBinds picks the request's bind values the predicate uses, in
// its order. An array bind (a statement run once per value) has no single
// estimate: the estimate fails, and the policy holds the write.
func predicateBinds(idx []int, binds []Bind) ([]Bind, error) {
	out := make([]Bind, 0, len(idx))
	for k, i := range idx {
		if i < 0 || i >= len(binds) {
			return nil, fmt.Errorf("the predicate uses bind %d of %d", i+1, len(binds))
		}
		if binds[i].Array {
			return nil, fmt.Errorf("bind %d is an array: the statement runs once per value", i+1)
		}
		b := binds[i]
		b.Name = strconv.Itoa(k + 1)
		out = append(out, b)
	}
	return out, nil
}

func inputEstimate(o statement.Object, e Estimate) *engine.Estimate {
	share := 0.0
	if e.Total > 0 {
		share = min(float64(e.Rows)/float64(e.Total), 1)
	}
	return &engine.Estimate{Object: qualified(o), Rows: e.Rows, Total: e.Total, Share: share, Method: e.Method}
}

// scanEstimator is implemented by upstream sessions (Conn) that can plan a
// read without running it.
type scanEstimator interface {
	// EstimateScans plans sql with its binds and returns what each table
	// scan of the plan reads.
	EstimateScans(ctx context.Context, sql string, binds []Bind) (engine.Estimate, error)
}

// scanEstimate returns the policy input's estimate of what a statement
// scans, which the policy asked for (engine.Decision.Estimate): the
// upstream's plan of it, made without running it (EXPLAIN). An upstream that
// cannot plan, a statement it cannot plan, an error or the time bound
// (logged) reach the policy as method "failed".
func (s *Server) scanEstimate(ctx context.Context, sess *session, stmt statement.Statement, binds []Bind, log *slog.Logger) *engine.Estimate {
	failed := &engine.Estimate{Method: engine.EstimateFailed}
	est, ok := sess.conn.(scanEstimator)
	if !ok || s.cfg.EstimateTimeout < 0 {
		log.Warn("the upstream cannot plan statements; the policy is told so")
		return failed
	}
	ctx, cancel := s.estimateContext(ctx)
	defer cancel()
	started := time.Now()
	e, err := est.EstimateScans(ctx, stmt.SQL, binds)
	if err != nil {
		log.Warn("plan estimate failed; the policy is told so", "err", redactValues(err.Error()), "elapsed", time.Since(started))
		return failed
	}
	return &e
}

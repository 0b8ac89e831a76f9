package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Reasons the engine gives when the policy could not decide.
const (
	ReasonNoPolicy  = "no policy is active"
	ReasonTimeout   = "policy evaluation timed out"
	ReasonEvalError = "policy evaluation failed"
	ReasonUndefined = "policy gave no decision"
	ReasonMalformed = "policy gave a malformed decision"
	ReasonVersion   = "unsupported input version"
	ReasonCanceled  = "the request was canceled before the policy decided"
)

// Decide evaluates data.snowgate.decision for in. It never fails: every
// error, timeout, undefined or malformed result is a deny with a reason.
func (e *Engine) Decide(ctx context.Context, in Input) Decision {
	id := e.id()
	p := e.active.Load()
	if p == nil {
		return denied(id, "", ReasonNoPolicy)
	}
	if in.Version == "" {
		in.Version = InputVersion
	}
	if in.Version != InputVersion {
		return denied(id, p.revision, fmt.Sprintf("%s %q (want %q)", ReasonVersion, in.Version, InputVersion))
	}
	if err := canceled(ctx); err != nil {
		return e.failed(ctx, id, p.revision, "decide", err)
	}
	m := p.memo.Load()
	key, keyed := m.key(&in)
	if keyed {
		if d, ok := m.get(key); ok {
			e.remembered.Add(1)
			d.ID = id
			return d
		}
	}
	rs, err := e.eval(ctx, p, &p.decide, inputValue(&in))
	if err != nil {
		return e.failed(ctx, id, p.revision, "decide", err)
	}
	d, err := decodeDecision(rs)
	if err != nil {
		return e.failed(ctx, id, p.revision, "decide", err)
	}
	d.ID, d.Revision = id, p.revision
	if keyed {
		m.put(key, d)
	}
	return d
}

// eval runs a prepared query of p under the engine's timeout.
func (e *Engine) eval(ctx context.Context, p *policy, q *rego.PreparedEvalQuery, input ast.Value) (rego.ResultSet, error) {
	if err := canceled(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	rs, err := p.eval(ctx, q, input, e.opts.Now())
	if err != nil {
		switch ctxErr := ctx.Err(); {
		case errors.Is(ctxErr, context.DeadlineExceeded):
			return nil, fmt.Errorf("%w: %w", errTimeout, ctxErr)
		case ctxErr != nil:
			return nil, fmt.Errorf("%w: %w", errCanceled, ctxErr)
		}
		return nil, fmt.Errorf("%w: %w", errEval, err)
	}
	return rs, nil
}

// canceled is the failure of a request canceled before its decision, or
// nil: a remembered decision is no more given to it than an evaluated one.
func canceled(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", errCanceled, err)
	}
	return nil
}

// The failure classes, mapped to reasons by reason.
var (
	errTimeout   = errors.New(ReasonTimeout)
	errCanceled  = errors.New(ReasonCanceled)
	errEval      = errors.New(ReasonEvalError)
	errUndefined = errors.New(ReasonUndefined)
	errMalformed = errors.New(ReasonMalformed)
)

// failed logs err and turns it into a deny decision.
func (e *Engine) failed(ctx context.Context, id, revision, query string, err error) Decision {
	e.log.WarnContext(ctx, "policy failed closed",
		slog.String("decision_id", id), slog.String("revision", revision),
		slog.String("query", query), slog.Any("error", err))
	return denied(id, revision, reason(err))
}

// reason is the client-safe text for an evaluation failure: the class, and
// for malformed decisions what was wrong (policy authors need it; it names no
// data).
func reason(err error) string {
	switch {
	case errors.Is(err, errTimeout):
		return ReasonTimeout
	case errors.Is(err, errCanceled):
		return ReasonCanceled
	case errors.Is(err, errUndefined):
		return ReasonUndefined
	case errors.Is(err, errMalformed):
		return err.Error()
	default:
		return ReasonEvalError
	}
}

package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// The documents the engine evaluates.
const (
	DecisionQuery = "data.snowgate.decision"
	ConnectQuery  = "data.snowgate.connect.decision"
)

// bundleName is the name the active bundle is stored under.
const bundleName = "snowgate"

// policy is one activated bundle with its prepared queries.
type policy struct {
	revision string
	store    storage.Store // the bundle's data, and the engine's (SetData)
	decide   rego.PreparedEvalQuery
	connect  rego.PreparedEvalQuery
	compiler *ast.Compiler
	memoSize int
	memo     atomic.Pointer[memo] // nil: every decision is evaluated

	// mu is held to read while evaluating, and to write while the data
	// changes, so that an evaluation never meets fixed values computed
	// from other data than it reads.
	mu    sync.RWMutex
	fixed topdown.VirtualCache // the fixed rules' values (fixed.go)
}

// settle computes what the policy's data, as it is now, fixes: the values
// of its fixed rules (fixed.go) and a new memo of decisions (memo.go). The
// caller holds mu, or the policy is not active yet. Both take at most
// timeout together, as long as one evaluation may: a rule not fixed by
// then is evaluated, and fails, in every evaluation, and a condition the
// memo could not test is taken as one that may apply.
func (p *policy) settle(ctx context.Context, timeout time.Duration) error {
	// Nothing derived from the old data survives: until the new is
	// computed, and for good if that fails, every rule is evaluated and no
	// decision is remembered.
	p.fixed = topdown.NewVirtualCache()
	p.memo.Store(nil)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	txn, err := p.store.NewTransaction(ctx)
	if err != nil {
		return fmt.Errorf("read policy store: %w", err)
	}
	defer p.store.Abort(ctx, txn)
	r := newReach(ctx, p.compiler, p.store, txn)
	p.fixed = r.fixedValues()
	p.memo.Store(newMemo(r, p.memoSize))
	return nil
}

// eval runs q on input with the fixed values. A panic in the evaluation
// (a built-in's) is its failure.
func (p *policy) eval(ctx context.Context, q *rego.PreparedEvalQuery, input ast.Value, now time.Time) (rs rego.ResultSet, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	defer func() {
		if r := recover(); r != nil {
			rs, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return q.Eval(ctx, rego.EvalParsedInput(input), rego.EvalTime(now), rego.EvalVirtualCache(newSeeded(p.fixed)))
}

// prepare compiles b once for both queries, in a store of its own, so a
// failed activation leaves nothing behind.
func prepare(ctx context.Context, b *bundle.Bundle, memoSize int) (p *policy, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("prepare policy: panic: %v", r)
		}
	}()
	if b, err = parsed(b); err != nil {
		return nil, err
	}
	store := inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	compiler := ast.NewCompiler().WithEnablePrintStatements(false)
	common := func(query string) []func(*rego.Rego) {
		return []func(*rego.Rego){
			rego.Query(query),
			rego.Store(store),
			rego.Compiler(compiler),
			rego.StrictBuiltinErrors(true),
			rego.SetRegoVersion(ast.RegoV1),
		}
	}
	// The first preparation activates the bundle into the store and the
	// compiler, inside one write transaction; the second reuses both.
	var txn storage.Transaction
	txn, err = store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		return nil, fmt.Errorf("open policy store: %w", err)
	}
	decide, err := rego.New(append(common(DecisionQuery), rego.ParsedBundle(bundleName, b), rego.Transaction(txn))...).PrepareForEval(ctx)
	if err != nil {
		store.Abort(ctx, txn)
		return nil, fmt.Errorf("prepare %s: %w", DecisionQuery, err)
	}
	if err := store.Commit(ctx, txn); err != nil {
		return nil, fmt.Errorf("commit policy store: %w", err)
	}
	connect, err := rego.New(common(ConnectQuery)...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", ConnectQuery, err)
	}
	rev := b.Manifest.Revision
	if rev == "" {
		rev = contentRevision(b)
	}
	return &policy{revision: rev, store: store, decide: decide, connect: connect, compiler: compiler, memoSize: memoSize}, nil
}

// parsed returns b with every module parsed (bundles read by OPA's reader
// are; hand-built ones may not be), without changing the caller's bundle.
func parsed(b *bundle.Bundle) (*bundle.Bundle, error) {
	cp := *b
	cp.Modules = make([]bundle.ModuleFile, len(b.Modules))
	copy(cp.Modules, b.Modules)
	for i := range cp.Modules {
		m := &cp.Modules[i]
		if m.Parsed != nil {
			continue
		}
		mod, err := ast.ParseModuleWithOpts(m.Path, string(m.Raw), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", m.Path, err)
		}
		m.Parsed = mod
	}
	return &cp, nil
}

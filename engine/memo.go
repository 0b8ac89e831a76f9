package engine

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// DefaultMemoSize is how many decisions the engine remembers per policy
// (twice that at most: see memo).
const DefaultMemoSize = 4096

// A memo remembers a policy's decisions by what the policy reads of their
// input. The compiled policy names every part of the input a decision can
// read: a reference input.a.b[x] reads at most input.a.b, and a bare input
// (passed to a function, iterated with a variable key) reads all of it.
// Only rules the decision can reach count, and not those that cannot apply
// to any input: a rule whose first condition reads only data (no input)
// and is undefined or false for the active data, such as the quota rules
// when no quota is set (lib/quotas.rego's enabled). Two inputs equal on
// what is left get the same decision from a policy that reads nothing else
// that changes: its data is fixed while the memo lives (SetData makes a new
// one) and it calls no built-in whose answer changes from call to call
// (time.now_ns, http.send, rand.intn, ...), or the policy gets no memo.
// Agents and tools send the same statement shapes again and again: the
// session's identity, the statement's kind, objects, columns and flags
// repeat, while its text, literals and request ids, which the default
// library does not read, vary.
//
// Decisions are kept in two generations of at most size entries: when the
// newer fills, it becomes the older and the older is dropped; a hit in the
// older moves to the newer. Failed evaluations are never kept.
type memo struct {
	paths []ast.Ref // what the policy reads of the input, none a prefix of another; nil: all of it
	size  int

	mu       sync.Mutex
	cur, old map[memoKey]Decision
}

type memoKey [sha256.Size]byte

// newMemo returns the memo for the decision of the policy r reads, or nil
// when a rule the decision can reach calls a built-in whose answer can
// change between calls with the same input (or one OPA does not know,
// whose nature cannot be told).
func newMemo(r *reach, size int) *memo {
	if size <= 0 {
		return nil
	}
	// The decision's rules: data.snowgate.decision itself, or the rules
	// under it when a package of that name builds it.
	rules := r.c.GetRules(ast.MustParseRef(DecisionQuery))
	if len(rules) == 0 {
		return nil // no decision to remember: every input is evaluated (and denied)
	}
	for _, rule := range rules {
		r.visit(rule)
	}
	if r.nondeterministic {
		return nil
	}
	paths := minimalPaths(r.paths)
	if r.whole {
		paths = nil
	}
	return &memo{paths: paths, size: size, cur: map[memoKey]Decision{}}
}

// reach reads a compiled policy over the data a transaction reads: which
// rules vary with the input (for the fixed rules and the memo), and what
// the decision's rules read of the input (for the memo).
type reach struct {
	ctx   context.Context
	c     *ast.Compiler
	store storage.Store
	txn   storage.Transaction

	seen    map[*ast.Rule]bool
	varying map[*ast.Rule]bool // memo of varies

	paths            []ast.Ref
	whole            bool
	nondeterministic bool
}

func newReach(ctx context.Context, c *ast.Compiler, store storage.Store, txn storage.Transaction) *reach {
	return &reach{ctx: ctx, c: c, store: store, txn: txn, seen: map[*ast.Rule]bool{}, varying: map[*ast.Rule]bool{}}
}

// query evaluates body over the policy's data until r's context is done.
// A panic in the evaluation (a built-in's) is its failure.
func (r *reach) query(body ast.Body) (rs topdown.QueryResultSet, err error) {
	defer func() {
		if v := recover(); v != nil {
			rs, err = nil, fmt.Errorf("panic: %v", v)
		}
	}()
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	if body, err = r.c.QueryCompiler().Compile(body); err != nil {
		return nil, err
	}
	cancel := topdown.NewCancel()
	stop := context.AfterFunc(r.ctx, cancel.Cancel)
	defer stop()
	return topdown.NewQuery(body).WithCompiler(r.c).WithStore(r.store).WithTransaction(r.txn).
		WithStrictBuiltinErrors(true).WithCancel(cancel).Run(r.ctx)
}

func (r *reach) visit(rule *ast.Rule) {
	if r.seen[rule] {
		return
	}
	r.seen[rule] = true
	if r.cannotApply(rule) {
		return
	}
	ast.WalkRefs(rule, func(ref ast.Ref) bool {
		if ref.HasPrefix(ast.InputRootRef) {
			p := ref.StringPrefix()[1:]
			r.whole = r.whole || len(p) == 0
			r.paths = append(r.paths, p.Copy())
		}
		return false
	})
	ast.WalkExprs(rule, func(e *ast.Expr) bool {
		r.whole = r.whole || len(e.With) > 0 // with input ... reads the input some other way
		return false
	})
	r.nondeterministic = r.nondeterministic || callsNondeterministic(rule)
	// The compiler's graph holds every rule a reference may select, data[x]
	// and a bare data (which depends on every rule) included.
	for node := rule; node != nil; node = node.Else {
		for dep := range r.c.Graph.Dependencies(node) {
			r.visit(dep.(*ast.Rule))
		}
	}
}

// cannotApply reports whether rule's first condition is a reference that
// reads no input, calls no built-in whose answer changes, and is undefined
// or false for the active data, so that the rule gives nothing for any
// input at any time.
func (r *reach) cannotApply(rule *ast.Rule) bool {
	if rule.Default || rule.Else != nil || len(rule.Body) == 0 {
		return false
	}
	e := rule.Body[0]
	t, ok := e.Terms.(*ast.Term)
	if !ok || e.Negated || len(e.With) > 0 {
		return false
	}
	ref, ok := t.Value.(ast.Ref)
	if !ok || !ref.HasPrefix(ast.DefaultRootRef) || !ref.IsGround() {
		return false
	}
	for _, dep := range r.c.GetRules(ref) {
		if r.varies(dep) {
			return false
		}
	}
	// One that fails (an error, a panic, the deadline) may apply: it is
	// evaluated, and fails, in each decision.
	rs, err := r.query(ast.NewBody(ast.NewExpr(ast.NewTerm(ref))))
	return err == nil && len(rs) == 0
}

// varies reports whether rule, or a rule it depends on, refers to the
// input or calls a built-in whose answer can change between calls: what
// it gives is then not fixed by the active data.
func (r *reach) varies(rule *ast.Rule) bool {
	if v, ok := r.varying[rule]; ok {
		return v
	}
	r.varying[rule] = true // while it is being decided (recursion is a compile error anyway)
	v := callsNondeterministic(rule)
	ast.WalkRefs(rule, func(ref ast.Ref) bool {
		v = v || ref.HasPrefix(ast.InputRootRef)
		return v
	})
	for node := rule; node != nil && !v; node = node.Else {
		for dep := range r.c.Graph.Dependencies(node) {
			if r.varies(dep.(*ast.Rule)) {
				v = true
				break
			}
		}
	}
	r.varying[rule] = v
	return v
}

// callsNondeterministic reports whether rule itself calls a built-in
// whose answer can change between calls with the same arguments.
func callsNondeterministic(rule *ast.Rule) bool {
	found := false
	ast.WalkExprs(rule, func(e *ast.Expr) bool {
		found = found || e.IsCall() && !deterministicCall(e.Operator())
		return found
	})
	ast.WalkTerms(rule, func(t *ast.Term) bool {
		if call, ok := t.Value.(ast.Call); ok && !deterministicCall(call[0].Value.(ast.Ref)) {
			found = true
		}
		return found
	})
	return found
}

// deterministicCall reports whether a call of op gives the same answer for
// the same arguments: a function of the policy (its body is walked like
// any rule's), or a built-in OPA does not mark nondeterministic and that
// does not read the clock.
func deterministicCall(op ast.Ref) bool {
	if op.HasPrefix(ast.DefaultRootRef) {
		return true
	}
	name := op.String()
	b, ok := ast.BuiltinMap[name]
	return ok && !b.Nondeterministic && !readsClock[name]
}

// readsClock names the built-ins that read the wall clock though OPA does
// not mark them nondeterministic: they verify a certificate chain at the
// current time (the second when no CurrentTime is given), so a chain that
// expires makes the same call answer otherwise.
var readsClock = map[string]bool{
	"crypto.x509.parse_and_verify_certificates":              true,
	"crypto.x509.parse_and_verify_certificates_with_options": true,
}

// minimalPaths sorts paths and drops those another one is a prefix of.
func minimalPaths(paths []ast.Ref) []ast.Ref {
	slices.SortFunc(paths, func(a, b ast.Ref) int { return a.Compare(b) })
	out := paths[:0]
	for _, p := range paths {
		if len(out) > 0 && p.HasPrefix(out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// get returns the decision remembered for k, a copy the caller may change.
func (m *memo) get(k memoKey) (Decision, bool) {
	m.mu.Lock()
	d, ok := m.cur[k]
	if !ok {
		if d, ok = m.old[k]; ok {
			m.putLocked(k, d)
		}
	}
	m.mu.Unlock()
	if ok {
		d = d.clone()
	}
	return d, ok
}

// put keeps d for k.
func (m *memo) put(k memoKey, d Decision) {
	d = d.clone()
	m.mu.Lock()
	m.putLocked(k, d)
	m.mu.Unlock()
}

func (m *memo) putLocked(k memoKey, d Decision) {
	if len(m.cur) >= m.size {
		m.old, m.cur = m.cur, make(map[memoKey]Decision, m.size)
	}
	m.cur[k] = d
}

// clone copies d deeply, so that neither the memo nor a caller sees the
// other's changes.
func (d Decision) clone() Decision {
	d.Reasons = slices.Clone(d.Reasons)
	d.Rules = slices.Clone(d.Rules)
	d.Masks = maps.Clone(d.Masks)
	d.RowFilters = maps.Clone(d.RowFilters)
	if d.Approval != nil {
		a := *d.Approval
		a.Groups = slices.Clone(a.Groups)
		d.Approval = &a
	}
	if d.Limits != nil {
		l := *d.Limits
		d.Limits = &l
	}
	return d
}

package engine

import (
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Fixed rules: a policy's rules whose value no input can change are
// evaluated once, when the policy is activated or its data changes, and
// every evaluation starts with their values, as OPA would have computed
// them in that evaluation. The default library reads its configuration
// through such rules (lib.config, the classifications, each package's
// settings and whether its feature is on at all), and they were most of
// the cost of a decision that none of them applies to.
//
// A rule is fixed when neither it nor any rule it depends on refers to the
// input or calls a built-in whose answer can change between calls (reach.
// varies, the memo's own test), it is not a function, and it is a whole
// document of one name in its package (p := ..., p contains ..., p[k] :=
// ...). A rule whose evaluation fails (an error, a panic, the deadline) is
// left to fail in every decision.

// fixedValues evaluates the fixed rules of the policy r reads into a
// cache that evaluations read through seeded.
func (r *reach) fixedValues() topdown.VirtualCache {
	vc := topdown.NewVirtualCache()
	done := map[string]bool{}
	x := ast.VarTerm("x")
	for _, m := range r.c.Modules {
		for _, rule := range m.Rules {
			path := rule.Path()
			key := path.String()
			if done[key] {
				continue
			}
			done[key] = true
			if !r.fixed(path) {
				continue
			}
			rs, err := r.query(ast.NewBody(ast.Equality.Expr(x, ast.NewTerm(path))))
			switch {
			case err != nil:
				continue
			case len(rs) == 0:
				vc.Put(path, nil) // undefined
			case len(rs) == 1:
				vc.Put(path, rs[0][x.Value.(ast.Var)])
			}
		}
	}
	return vc
}

// fixed reports whether every rule that gives the document at path is a
// fixed rule of that one name.
func (r *reach) fixed(path ast.Ref) bool {
	rules := r.c.GetRules(path)
	if len(rules) == 0 {
		return false
	}
	for _, rule := range rules {
		if len(rule.Head.Args) > 0 || len(rule.Head.Ref().GroundPrefix()) != 1 || !rule.Path().Equal(path) || r.varies(rule) {
			return false
		}
	}
	return true
}

// seeded is the virtual cache of one evaluation: what it computes itself,
// over the fixed values. Inside a with modifier (a frame above the first),
// which may replace the data the fixed values were computed from, only its
// own values are used.
type seeded struct {
	fixed topdown.VirtualCache // shared, read-only
	own   topdown.VirtualCache
	depth int
}

func newSeeded(fixed topdown.VirtualCache) *seeded {
	return &seeded{fixed: fixed, own: topdown.NewVirtualCache()}
}

func (s *seeded) Push() { s.depth++; s.own.Push() }

func (s *seeded) Pop() { s.depth--; s.own.Pop() }

func (s *seeded) Get(ref ast.Ref) (*ast.Term, bool) {
	if v, undefined := s.own.Get(ref); v != nil || undefined || s.depth > 0 {
		return v, undefined
	}
	return s.fixed.Get(ref)
}

func (s *seeded) Put(ref ast.Ref, value *ast.Term) { s.own.Put(ref, value) }

func (s *seeded) Keys() []ast.Ref { return s.own.Keys() }

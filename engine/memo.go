package engine

import (
	"crypto/sha256"
	"hash"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// DefaultMemoSize is how many decisions the engine remembers per policy
// (twice that at most: see memo).
const DefaultMemoSize = 4096

// A memo remembers a policy's decisions by what the policy reads of their
// input. The compiled policy names every part of the input it can read: a
// reference input.a.b[x] reads at most input.a.b, and a bare input (passed
// to a function, iterated with a variable key) reads all of it. Two inputs
// equal on those parts get the same decision from a policy that reads
// nothing else that changes: its data is fixed while the memo lives (SetData
// clears it) and it calls no built-in whose answer changes from call to call
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

	gen atomic.Uint64 // bumped by clear; a decision evaluated in an older generation is not kept

	mu       sync.Mutex
	cur, old map[memoKey]Decision
	hits     atomic.Uint64
}

type memoKey [sha256.Size]byte

// newMemo returns the memo for a policy compiled by c, or nil when the
// policy calls a built-in whose answer can change between calls with the
// same input (or one OPA does not know, whose nature cannot be told).
func newMemo(c *ast.Compiler, size int) *memo {
	if size <= 0 {
		return nil
	}
	var paths []ast.Ref
	whole, deterministic := false, true
	for _, m := range c.Modules {
		ast.WalkRefs(m, func(r ast.Ref) bool {
			if !r.HasPrefix(ast.InputRootRef) {
				return false
			}
			p := r.StringPrefix()[1:]
			if len(p) == 0 {
				whole = true
			}
			paths = append(paths, p.Copy())
			return false
		})
		ast.WalkExprs(m, func(e *ast.Expr) bool {
			if e.IsCall() && !deterministicCall(e.Operator()) {
				deterministic = false
			}
			return false
		})
		ast.WalkTerms(m, func(t *ast.Term) bool {
			if call, ok := t.Value.(ast.Call); ok && !deterministicCall(call[0].Value.(ast.Ref)) {
				deterministic = false
			}
			return false
		})
	}
	if !deterministic {
		return nil
	}
	if whole {
		paths = nil
	} else {
		paths = minimalPaths(paths)
	}
	return &memo{paths: paths, size: size, cur: map[memoKey]Decision{}}
}

// deterministicCall reports whether a call of op gives the same answer for
// the same arguments: a function of the policy (its body is walked like
// any rule's), or a built-in OPA does not mark nondeterministic.
func deterministicCall(op ast.Ref) bool {
	if op.HasPrefix(ast.DefaultRootRef) {
		return true
	}
	b, ok := ast.BuiltinMap[op.String()]
	return ok && !b.Nondeterministic
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

// key digests the parts of input the policy reads, each as canonical Rego
// text (objects and sets in sorted order, strings quoted) or as absent.
func (m *memo) key(input ast.Value) memoKey {
	h := sha256.New()
	if m.paths == nil {
		writeValue(h, input)
	} else {
		obj, _ := input.(ast.Object)
		for _, p := range m.paths {
			var v ast.Value
			if obj != nil {
				v, _ = obj.Find(p)
			}
			if v == nil {
				h.Write([]byte{0}) // absent: no Rego text starts with a zero byte
				continue
			}
			writeValue(h, v)
			h.Write([]byte{'\n'})
		}
	}
	var k memoKey
	h.Sum(k[:0])
	return k
}

type appendTexter interface {
	AppendText([]byte) ([]byte, error)
}

var textBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func writeValue(h hash.Hash, v ast.Value) {
	bp := textBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	if at, ok := v.(appendTexter); ok {
		buf, _ = at.AppendText(buf)
	} else {
		buf = append(buf, v.String()...)
	}
	h.Write(buf)
	*bp = buf
	textBufs.Put(bp)
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
		m.hits.Add(1)
		d = d.clone()
	}
	return d, ok
}

// put keeps d for k if no clear came since generation gen began.
func (m *memo) put(k memoKey, gen uint64, d Decision) {
	d = d.clone()
	m.mu.Lock()
	if m.gen.Load() == gen {
		m.putLocked(k, d)
	}
	m.mu.Unlock()
}

func (m *memo) putLocked(k memoKey, d Decision) {
	if len(m.cur) >= m.size {
		m.old, m.cur = m.cur, make(map[memoKey]Decision, m.size)
	}
	m.cur[k] = d
}

// clear forgets every decision, for a change of the policy's data.
func (m *memo) clear() {
	m.mu.Lock()
	m.gen.Add(1)
	m.cur, m.old = map[memoKey]Decision{}, nil
	m.mu.Unlock()
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

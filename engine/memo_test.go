package engine

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/snowgate/snowgate/internal/regotest"
	"github.com/snowgate/snowgate/proxy/statement"
)

// TestMemo_corpus: on every input of opa-tests/fixtures, an engine that
// remembers decisions gives, the first time and when it remembers, the
// decision an engine that evaluates every time gives.
func TestMemo_corpus(t *testing.T) {
	ctx := context.Background()
	memo := newTestEngine(t, Options{})
	eval := newTestEngine(t, Options{MemoSize: -1})
	if eval.active.Load().memo.Load() != nil {
		t.Fatal("MemoSize -1 kept a memo")
	}
	names := fixtureNames(t)
	for round := range 2 {
		for _, name := range names {
			in := fixture(t, name)
			want := eval.Decide(ctx, in)
			if got := memo.Decide(ctx, in); !reflect.DeepEqual(got, want) {
				t.Errorf("round %d, %s: remembered %+v, evaluated %+v", round, name, got, want)
			}
		}
	}
	if hits := memo.Remembered(); hits < uint64(len(names)) {
		t.Errorf("%d hits over two rounds of %d inputs", hits, len(names))
	}
}

// TestMemo_keyIsWhatThePolicyReads: inputs that differ only where the
// default library does not look (the statement's text, the request, the
// session id) share a decision; a difference where it looks (the groups,
// a column, a flag) is a decision of its own.
func TestMemo_keyIsWhatThePolicyReads(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, Options{})
	base := input(analyst(), selectCustomers())
	if d := e.Decide(ctx, base); d.Action != ActionMask {
		t.Fatalf("analyst: %s %v", d.Action, d.Reasons)
	}
	same := base
	same.Statement.SQL = "select id , email from customers -- again"
	same.Statement.Fingerprint = "other"
	same.Request = Request{ID: "r-2", Time: testTime.Add(time.Hour)}
	same.Session.ID = "s-2"
	before := e.Remembered()
	if d := e.Decide(ctx, same); d.Action != ActionMask || e.Remembered() != before+1 {
		t.Errorf("same shape: %s, hits %d → %d", d.Action, before, e.Remembered())
	}
	if e.Remembered() != 1 {
		t.Errorf("Remembered() = %d after one remembered decision", e.Remembered())
	}

	cleared := base
	cleared.Identity = admin()
	if d := e.Decide(ctx, cleared); d.Action != ActionAllow {
		t.Errorf("admin after analyst: %s %v", d.Action, d.Reasons)
	}
	orders := base
	orders.Statement = selectOrders()
	if d := e.Decide(ctx, orders); d.Action != ActionAllow {
		t.Errorf("orders after customers: %s %v", d.Action, d.Reasons)
	}
	switcher := base
	switcher.Identity = agent()
	switcher.Statement.Flags.RoleChange = true
	if d := e.Decide(ctx, switcher); d.Action != ActionDeny {
		t.Errorf("an agent's role switch after a read: %s %v", d.Action, d.Reasons)
	}
	if d := e.Decide(ctx, base); d.Action != ActionMask {
		t.Errorf("analyst again: %s %v", d.Action, d.Reasons)
	}
}

// TestMemo_copies: a caller that changes a decision does not change what
// is remembered.
func TestMemo_copies(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, Options{})
	in := input(analyst(), selectCustomers())
	first := e.Decide(ctx, in)
	want := first.clone()
	first.Reasons[0] = "changed"
	for k := range first.Masks {
		first.Masks[k] = "none"
	}
	if got := e.Decide(ctx, in); !reflect.DeepEqual(got, want) {
		t.Errorf("after the caller changed its copy: %+v, want %+v", got, want)
	}
}

// TestMemo_none: a policy that reads the clock (or any built-in whose
// answer changes between calls) is evaluated every time.
func TestMemo_none(t *testing.T) {
	ctx := context.Background()
	now := testTime
	e, err := New(ctx, Options{
		FS:  policyFS("package snowgate\ndecision := {\"action\": \"deny\", \"reasons\": [sprintf(\"%d\", [time.now_ns()])]}\n"),
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.active.Load().memo.Load() != nil {
		t.Fatal("a policy calling time.now_ns has a memo")
	}
	in := input(analyst(), selectOrders())
	a := e.Decide(ctx, in)
	now = now.Add(time.Second)
	if b := e.Decide(ctx, in); reflect.DeepEqual(a.Reasons, b.Reasons) {
		t.Errorf("the clock moved and the decision did not: %v", b.Reasons)
	}
}

// TestMemo_wholeInput: a policy that hands the whole input to a function
// reads all of it, so any difference is a decision of its own.
func TestMemo_wholeInput(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, Options{FS: policyFS("package snowgate\ndecision := {\"action\": \"deny\", \"reasons\": [object.get(input, [\"statement\", \"sql\"], \"\")]}\n")})
	if m := e.active.Load().memo.Load(); m == nil || m.paths != nil {
		t.Fatalf("memo %+v: want one over the whole input", m)
	}
	in := input(analyst(), selectOrders())
	if d := e.Decide(ctx, in); d.Reasons[0] != in.Statement.SQL {
		t.Fatalf("reasons %v", d.Reasons)
	}
	in.Statement.SQL = "SELECT 2"
	if d := e.Decide(ctx, in); d.Reasons[0] != "SELECT 2" {
		t.Errorf("a new text got the old text's decision: %v", d.Reasons)
	}
}

// TestMemo_setData: data the gateway adds clears what was remembered.
func TestMemo_setData(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{"p.rego": {Data: []byte("package snowgate\ndefault n := 0\nn := data.extra.n\ndecision := {\"action\": \"deny\", \"reasons\": [sprintf(\"%d\", [n])]}\n")}}
	e := newTestEngine(t, Options{FS: fsys})
	in := input(analyst(), selectOrders())
	for i, want := range []string{"0", "0", "7", "7"} {
		if i == 2 {
			if err := e.SetData("extra/n", 7); err != nil {
				t.Fatal(err)
			}
		}
		if d := e.Decide(ctx, in); d.Reasons[0] != want {
			t.Errorf("decision %d: %v, want %s", i, d.Reasons, want)
		}
	}
}

// TestMemo_bounded: the memo holds at most twice its size.
func TestMemo_bounded(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, Options{MemoSize: 4})
	m := e.active.Load().memo.Load()
	in := input(analyst(), selectOrders())
	for i := range 20 {
		in.Identity.Groups = []string{"g" + strings.Repeat("x", i)}
		e.Decide(ctx, in)
	}
	if n := len(m.cur) + len(m.old); n > 8 {
		t.Errorf("%d decisions kept, want at most 8", n)
	}
}

// TestMemo_quotas: with no quota set, the quota rules cannot apply, so the
// counts, which change with every statement, are left out of the key and
// the shape is remembered; with a quota set they are in it, and a caller
// over the limit is denied after one under it was allowed.
func TestMemo_quotas(t *testing.T) {
	ctx := context.Background()
	in := input(analyst(), selectOrders())
	in.Usage = &Usage{Subject: Counts{StatementsMinute: 1}, Groups: map[string]Counts{}}
	over := in
	over.Usage = &Usage{Subject: Counts{StatementsMinute: 5}, Groups: map[string]Counts{}}

	e := newTestEngine(t, Options{})
	m := e.active.Load().memo.Load()
	for _, p := range m.paths {
		if len(p) > 0 && p[0].Equal(ast.StringTerm("usage")) {
			t.Errorf("no quota is set, yet the key holds %v", p)
		}
	}
	e.Decide(ctx, in)
	if d := e.Decide(ctx, over); d.Action != ActionAllow || e.Remembered() != 1 {
		t.Errorf("no quota: %s, %d hits; want allow, remembered", d.Action, e.Remembered())
	}

	dir := regotest.With(t, filepath.Join("..", "rego"), `"subjects": {}`, `"subjects": {"statements_per_minute": 3}`)
	q := newTestEngine(t, Options{Dir: dir})
	for i, tc := range []struct {
		in   Input
		want Action
	}{{in, ActionAllow}, {over, ActionDeny}, {in, ActionAllow}, {over, ActionDeny}} {
		if d := q.Decide(ctx, tc.in); d.Action != tc.want {
			t.Errorf("with a quota, decision %d: %s %v, want %s", i, d.Action, d.Reasons, tc.want)
		}
	}
	if hits := q.Remembered(); hits != 2 {
		t.Errorf("with a quota: %d hits, want 2 (each count once evaluated, once remembered)", hits)
	}
}

// TestMemo_decisionPackage: a decision built by a package of its own
// (package snowgate.decision) is walked from its rules, so what they read
// is in the key.
func TestMemo_decisionPackage(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, Options{FS: policyFS("package snowgate.decision\naction := \"deny\" if input.statement.kind == \"delete\"\nelse := \"allow\"\nreasons := []\n")})
	if m := e.active.Load().memo.Load(); m == nil || len(m.paths) != 1 || !m.paths[0].Equal(ast.Ref{ast.StringTerm("statement"), ast.StringTerm("kind")}) {
		t.Fatalf("memo %+v: want one keyed on the statement's kind", m)
	}
	for i, tc := range []struct {
		s    func() statement.Statement
		want Action
	}{{selectOrders, ActionAllow}, {deleteAll, ActionDeny}, {selectOrders, ActionAllow}, {deleteAll, ActionDeny}} {
		if d := e.Decide(ctx, input(analyst(), tc.s())); d.Action != tc.want {
			t.Errorf("decision %d: %s, want %s", i, d.Action, tc.want)
		}
	}
}

// TestMemo_anyData: a policy that reads data through a reference with a
// variable (data[x]) reaches the rules it may select, and what they read
// of the input is in the key.
func TestMemo_anyData(t *testing.T) {
	ctx := context.Background()
	module := `package snowgate
decision := {"action": a, "reasons": []} if {
	some a
	data[_].verdicts.kind[a]
} else := {"action": "allow", "reasons": []}

package x.verdicts
kind["deny"] if input.statement.kind == "delete"
`
	mods := strings.SplitN(module, "\npackage x.verdicts", 2)
	fsys := fstest.MapFS{"a.rego": {Data: []byte(mods[0])}, "b.rego": {Data: []byte("package x.verdicts" + mods[1])}}
	e := newTestEngine(t, Options{FS: fsys})
	for i, tc := range []struct {
		s    func() statement.Statement
		want Action
	}{{selectOrders, ActionAllow}, {deleteAll, ActionDeny}, {selectOrders, ActionAllow}, {deleteAll, ActionDeny}} {
		if d := e.Decide(ctx, input(analyst(), tc.s())); d.Action != tc.want {
			t.Errorf("decision %d: %s %v, want %s", i, d.Action, d.Reasons, tc.want)
		}
	}
}

// TestMemo_claims: with no row filter set, a new token of the same caller
// (other iat, exp, jti) shares the decisions of the old one; with a
// filter set on a claim, the claims are in the key and a caller with other
// values gets other rows.
func TestMemo_claims(t *testing.T) {
	ctx := context.Background()
	in := input(analyst(), selectOrders())
	in.Identity.Claims = map[string]any{"sub": "u-1001", "iat": 1, "countries": []any{"DE"}}
	next := in
	next.Identity.Claims = map[string]any{"sub": "u-1001", "iat": 2, "countries": []any{"FR"}}

	e := newTestEngine(t, Options{})
	e.Decide(ctx, in)
	if e.Decide(ctx, next); e.Remembered() != 1 {
		t.Errorf("no row filter: a new token's decision was not remembered")
	}

	dir := regotest.With(t, filepath.Join("..", "rego"), `"row_filters": {}`, `"row_filters": {"DEMO.PUBLIC.ORDERS": {"column": "COUNTRY", "values_from": "claim:countries"}}`)
	f := newTestEngine(t, Options{Dir: dir})
	for i, tc := range []struct {
		in   Input
		want string
	}{{in, "COUNTRY IN ('DE')"}, {next, "COUNTRY IN ('FR')"}, {in, "COUNTRY IN ('DE')"}} {
		if got := f.Decide(ctx, tc.in).RowFilters["DEMO.PUBLIC.ORDERS"]; got != tc.want {
			t.Errorf("with a filter, decision %d: %q, want %q", i, got, tc.want)
		}
	}
}

// TestMemo_concurrent: decisions taken from many goroutines while the data
// changes stay right (run with -race).
func TestMemo_concurrent(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, Options{MemoSize: 2})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			if err := e.SetData("extra/n", i); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	cases := []struct {
		in   Input
		want Action
	}{
		{input(analyst(), selectCustomers()), ActionMask},
		{input(admin(), selectCustomers()), ActionAllow},
		{input(analyst(), deleteAll()), ActionRequireApproval},
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 60 {
				c := cases[(g+i)%len(cases)]
				if d := e.Decide(ctx, c.in); d.Action != c.want {
					t.Errorf("goroutine %d, decision %d: %s, want %s", g, i, d.Action, c.want)
					return
				}
			}
		})
	}
	wg.Wait()
	<-done
}

// TestMemo_canceled: a request canceled before its decision is denied as
// canceled, though the decision for its shape is remembered.
func TestMemo_canceled(t *testing.T) {
	e := newTestEngine(t, Options{})
	in := input(admin(), selectOrders())
	if d := e.Decide(context.Background(), in); d.Action != ActionAllow {
		t.Fatalf("first: %s", d.Action)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d := e.Decide(ctx, in); d.Action != ActionDeny || !d.FailedClosed || d.Reasons[0] != ReasonCanceled {
		t.Errorf("canceled: %+v, want a deny that failed closed (%s)", d, ReasonCanceled)
	}
}

// TestMemo_clockGuard: a rule guarded by a condition that reads only data
// but calls the clock is not left out as one that cannot apply: the
// policy gets no memo, and the rule applies once its time comes.
func TestMemo_clockGuard(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	e, err := New(ctx, Options{
		FS: policyFS(`package snowgate
after_2100 if time.now_ns() > 4102444800000000000
default decision := {"action": "allow", "reasons": []}
decision := {"action": "deny", "reasons": ["closed after 2100"]} if {
	after_2100
	input.statement.kind == "select"
}
`),
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.active.Load().memo.Load() != nil {
		t.Error("a policy whose guard calls time.now_ns has a memo")
	}
	in := input(analyst(), selectOrders())
	if d := e.Decide(ctx, in); d.Action != ActionAllow {
		t.Fatalf("before 2100: %s %v", d.Action, d.Reasons)
	}
	now = now.AddDate(2, 0, 0)
	if d := e.Decide(ctx, in); d.Action != ActionDeny {
		t.Errorf("after 2100 the same statement: %s %v, want deny", d.Action, d.Reasons)
	}
}

package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
	"testing/fstest"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
)

// TestFixed_corpus: on every input of the corpus, the default library
// gives the same result with its fixed rules' values as when it computes
// them itself; and the values are there (the configuration, a feature
// that is off), so the comparison is not between two plain evaluations.
func TestFixed_corpus(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, Options{MemoSize: -1})
	p := e.active.Load()
	for _, path := range []string{"data.snowgate.lib.config", "data.snowgate.rules.masking.cfg", "data.snowgate.lib.quotas.cfg"} {
		if v, _ := p.fixed.Get(ast.MustParseRef(path)); v == nil {
			t.Errorf("%s has no fixed value", path)
		}
	}
	for _, path := range []string{"data.snowgate.rules.cost.limited", "data.snowgate.lib.quotas.enabled"} {
		if v, undefined := p.fixed.Get(ast.MustParseRef(path)); v != nil || !undefined {
			t.Errorf("%s = %v, want fixed as undefined", path, v)
		}
	}
	for _, path := range []string{"data.snowgate.decision", "data.snowgate.rules.masking.guarded", "data.snowgate.lib.agent_name"} {
		if v, undefined := p.fixed.Get(ast.MustParseRef(path)); v != nil || undefined {
			t.Errorf("%s reads the input and has a fixed value", path)
		}
	}

	for _, name := range fixtureNames(t) {
		in := fixture(t, name)
		v := inputValue(&in)
		plain, err := p.decide.Eval(ctx, rego.EvalParsedInput(v), rego.EvalTime(testTime))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fixed, err := p.eval(ctx, &p.decide, v, testTime)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, _ := json.Marshal(plain)
		got, _ := json.Marshal(fixed)
		if string(got) != string(want) {
			t.Errorf("%s: with fixed values\n%s\nwithout\n%s", name, got, want)
		}
	}
}

// TestFixed_with: under a with modifier that replaces the data a fixed
// value was computed from, the rule is evaluated, not taken as fixed.
func TestFixed_with(t *testing.T) {
	module := `package snowgate

level := data.cfg.level

act := "deny" if level == "strict"

else := "allow"

decision := {"action": a, "reasons": [input.statement.kind]} if {
	a := act with data.cfg.level as "strict"
}
`
	fsys := fstest.MapFS{"p.rego": {Data: []byte(module)}, "data.json": {Data: []byte(`{"cfg": {"level": "lax"}}`)}}
	e := newTestEngine(t, Options{FS: fsys, MemoSize: -1})
	if v, _ := e.active.Load().fixed.Get(ast.MustParseRef("data.snowgate.act")); v == nil || v.String() != `"allow"` {
		t.Fatalf("act's fixed value = %v, want \"allow\"", v)
	}
	if d := e.Decide(context.Background(), input(analyst(), selectOrders())); d.Action != ActionDeny {
		t.Errorf("action = %s, want deny: the fixed value was used under with", d.Action)
	}
}

// TestFixed_bounded: a fixed rule that takes longer than an evaluation may
// is not fixed, so decisions still time out (TestEngine_Decide_failClosed),
// and activation does not wait for it.
func TestFixed_bounded(t *testing.T) {
	module := "package snowgate\nn := count([x | some x in numbers.range(1, 1000000000)])\ndecision := {\"action\": \"allow\"} if n > 0\n"
	e := newTestEngine(t, Options{FS: policyFS(module), Timeout: 50 * time.Millisecond})
	if v, undefined := e.active.Load().fixed.Get(ast.MustParseRef("data.snowgate.n")); v != nil || undefined {
		t.Errorf("n is fixed as %v (undefined %v) though it could not be computed in time", v, undefined)
	}
	if d := e.Decide(context.Background(), input(analyst(), selectOrders())); d.Action != ActionDeny || d.Reasons[0] != ReasonTimeout {
		t.Errorf("decision = %s %q, want deny %q", d.Action, d.Reasons, ReasonTimeout)
	}
}

// TestFixed_clock: a rule that verifies a certificate chain reads the
// clock, though OPA does not mark the built-in nondeterministic: neither
// fixed nor remembered, its answer changes when the certificate expires.
func TestFixed_clock(t *testing.T) {
	ctx := context.Background()
	chain := certChain(t, time.Now().Add(2*time.Second))
	doc, err := json.Marshal(map[string]any{"chain": chain})
	if err != nil {
		t.Fatal(err)
	}
	module := `package snowgate

valid := crypto.x509.parse_and_verify_certificates(data.chain)[0]

default decision := {"action": "deny", "reasons": ["the certificate is not valid"]}

decision := {"action": "allow", "reasons": []} if valid
`
	e := newTestEngine(t, Options{FS: fstest.MapFS{"p.rego": {Data: []byte(module)}, "data.json": {Data: doc}}})
	p := e.active.Load()
	if v, undefined := p.fixed.Get(ast.MustParseRef("data.snowgate.valid")); v != nil || undefined {
		t.Errorf("valid is fixed as %v (undefined %v)", v, undefined)
	}
	if p.memo.Load() != nil {
		t.Error("a policy that verifies a certificate chain has a memo")
	}
	in := input(analyst(), selectOrders())
	if d := e.Decide(ctx, in); d.Action != ActionAllow {
		t.Fatalf("before the certificate expired: %s %q", d.Action, d.Reasons)
	}
	time.Sleep(time.Until(time.Now().Add(3 * time.Second).Truncate(time.Second)))
	if d := e.Decide(ctx, in); d.Action != ActionDeny {
		t.Errorf("after the certificate expired: %s, want deny", d.Action)
	}
}

// certChain is a root and a leaf it signed, as PEM, the leaf valid until
// notAfter.
func certChain(t *testing.T, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	root := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "root"}, NotBefore: now, NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "leaf"}, NotBefore: now, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, root, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}))
}

// A built-in that panics, registered for TestFixed_panic only.
var panicking = &rego.Function{Name: "test.panics", Decl: types.NewFunction(types.Args(types.S), types.S)}

func init() {
	rego.RegisterBuiltin1(panicking, func(rego.BuiltinContext, *ast.Term) (*ast.Term, error) { panic("the built-in broke") })
}

// TestFixed_panic: a rule that panics when it is computed (for its fixed
// value, or for the memo's test of a first condition) leaves the
// activation going and the rule not fixed, and the decision that reads it
// fails closed rather than taking the gateway down.
func TestFixed_panic(t *testing.T) {
	module := "package snowgate\n\nboom := test.panics(\"x\")\n\nbroken if boom\n\ndecision := {\"action\": \"allow\", \"reasons\": [boom]} if {\n\tbroken\n\tinput.statement.kind\n}\n"
	e := newTestEngine(t, Options{FS: policyFS(module)})
	if v, undefined := e.active.Load().fixed.Get(ast.MustParseRef("data.snowgate.boom")); v != nil || undefined {
		t.Errorf("boom is fixed as %v (undefined %v)", v, undefined)
	}
	d := e.Decide(context.Background(), input(analyst(), selectOrders()))
	if d.Action != ActionDeny || !d.FailedClosed || d.Reasons[0] != ReasonEvalError {
		t.Errorf("decision = %s %q (failed closed %v), want deny %q", d.Action, d.Reasons, d.FailedClosed, ReasonEvalError)
	}
}

package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"
)

func TestNew_sources(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.rego"), []byte("package snowgate\ndecision := {\"action\": \"allow\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A test file must not be loaded: it would not compile here.
	if err := os.WriteFile(filepath.Join(dir, "p_test.rego"), []byte("package broken\ntest_x if {"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, Options{Dir: dir})
	if d := e.Decide(context.Background(), input(analyst(), deleteAll())); d.Action != ActionAllow {
		t.Errorf("directory policy: action = %s, want allow", d.Action)
	}
	if !strings.HasPrefix(e.Revision(), "sha256:") {
		t.Errorf("revision = %q, want a content digest", e.Revision())
	}

	for name, opts := range map[string]Options{
		"missing dir": {Dir: filepath.Join(dir, "nope")},
		"no modules":  {FS: os.DirFS(t.TempDir())},
		"bad rego":    {FS: policyFS("package snowgate\ndecision := {")},
		"bad type":    {FS: policyFS("package snowgate\ndecision := 1 + \"a\"\n")},
	} {
		if _, err := New(context.Background(), opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestEngine_Activate(t *testing.T) {
	e := newTestEngine(t, Options{})
	ctx := context.Background()
	first := e.Revision()
	if d := e.Decide(ctx, input(analyst(), deleteAll())); d.Action != ActionRequireApproval {
		t.Fatalf("default policy: action = %s", d.Action)
	}

	allow, err := LoadFS(policyFS("package snowgate\ndecision := {\"action\": \"allow\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	allow.Manifest.Revision = "r2"
	if err := e.Activate(allow); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if d := e.Decide(ctx, input(analyst(), deleteAll())); d.Action != ActionAllow || d.Revision != "r2" {
		t.Errorf("after activate: action, revision = %s, %s; want allow, r2", d.Action, d.Revision)
	}

	broken := &bundle.Bundle{Manifest: bundle.Manifest{Revision: "r3"}, Modules: []bundle.ModuleFile{
		{Path: "/x.rego", URL: "/x.rego", Raw: []byte("package snowgate\ndecision := undefined_fn(1)\n")},
	}}
	if err := e.Activate(broken); err == nil {
		t.Fatal("Activate of a broken bundle succeeded")
	}
	unnamed, err := LoadFS(policyFS("package snowgate\ndecision := {\"action\": \"deny\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	unnamed.Manifest.Revision = ""
	if err := e.Activate(unnamed); err != nil || !strings.HasPrefix(e.Revision(), "sha256:") {
		t.Fatalf("bundle without revision: err %v, revision %q; want a content digest", err, e.Revision())
	}
	if err := e.Activate(allow); err != nil {
		t.Fatal(err)
	}
	if err := e.Activate(nil); err == nil {
		t.Fatal("Activate(nil) succeeded")
	}
	if e.Revision() != "r2" {
		t.Errorf("revision after failed activation = %q, want r2 (was %q before)", e.Revision(), first)
	}
}

func TestEngine_noPolicy(t *testing.T) {
	var e Engine
	if d := e.Decide(context.Background(), Input{}); d.Action != ActionDeny || d.Reasons[0] != ReasonNoPolicy {
		t.Errorf("decision = %+v, want deny: %s", d, ReasonNoPolicy)
	}
	if d := e.Connect(context.Background(), ConnectInput{}); d.Action != ActionDeny {
		t.Errorf("connect = %+v, want deny", d)
	}
}

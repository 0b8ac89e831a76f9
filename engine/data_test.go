package engine

import (
	"context"
	"testing"
	"testing/fstest"
)

// TestEngine_SetData: documents the gateway adds are seen by the policy,
// survive the activation of a new bundle, and can be removed.
func TestEngine_SetData(t *testing.T) {
	ctx := context.Background()
	module := `package snowgate
default copied := {}

copied := data.snowgate.inherited.classifications.DEMO.PUBLIC.COPY

decision := {"action": "deny", "reasons": [concat(",", sort(object.keys(copied)))]}
`
	fsys := fstest.MapFS{"p.rego": {Data: []byte(module)}, "data.json": {Data: []byte(`{"snowgate": {"config": {"x": 1}}}`)}}
	e := newTestEngine(t, Options{FS: fsys})
	reasons := func() string {
		t.Helper()
		d := e.Decide(ctx, input(analyst(), deleteAll()))
		if len(d.Reasons) != 1 {
			t.Fatalf("reasons = %v", d.Reasons)
		}
		return d.Reasons[0]
	}
	inherited := map[string]any{"DEMO": map[string]any{"PUBLIC": map[string]any{"COPY": map[string]any{
		"EMAIL": map[string]any{"class": "pii", "strategy": "email_domain", "from": []string{"DEMO.PUBLIC.CUSTOMERS.EMAIL"}}}}}}
	if err := e.SetData("snowgate/inherited/classifications", inherited); err != nil {
		t.Fatal(err)
	}
	if got := reasons(); got != "EMAIL" {
		t.Errorf("after SetData: %q", got)
	}
	if v, ok, err := e.Data(ctx, "snowgate/config/x"); err != nil || !ok || v == nil {
		t.Errorf("bundle data: %v %v %v", v, ok, err)
	}
	if v, ok, err := e.Data(ctx, "snowgate/inherited/classifications/DEMO/PUBLIC/COPY/EMAIL/class"); err != nil || !ok || v != "pii" {
		t.Errorf("added data: %v %v %v", v, ok, err)
	}
	if _, ok, err := e.Data(ctx, "snowgate/nothing"); ok || err != nil {
		t.Errorf("missing data: %v %v", ok, err)
	}

	// A new bundle (with data of its own) keeps what the gateway added.
	b, err := LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	b.Manifest.Revision = "r2"
	if err := e.Activate(b); err != nil {
		t.Fatal(err)
	}
	if got := reasons(); got != "EMAIL" {
		t.Errorf("after a bundle activation: %q", got)
	}
	if v, ok, _ := e.Data(ctx, "snowgate/config/x"); !ok || v == nil {
		t.Errorf("the new bundle's data is missing")
	}

	if err := e.SetData("snowgate/inherited/classifications", nil); err != nil {
		t.Fatal(err)
	}
	if got := reasons(); got != "" {
		t.Errorf("after removal: %q", got)
	}
	if err := e.Activate(b); err != nil {
		t.Fatal(err)
	}
	if got := reasons(); got != "" {
		t.Errorf("removed data came back with an activation: %q", got)
	}
}

package engine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/snowgate/snowgate/engine/schema"
)

// validate checks doc against a JSON Schema with OPA's json.match_schema
// built-in and returns the violations.
func validate(t *testing.T, schemaJSON []byte, doc any) []any {
	t.Helper()
	var sch, d any
	if err := json.Unmarshal(schemaJSON, &sch); err != nil {
		t.Fatalf("schema: %v", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(rego.Query("x := json.match_schema(input.doc, input.schema)"),
		rego.Input(map[string]any{"doc": d, "schema": sch}), rego.StrictBuiltinErrors(true)).Eval(context.Background())
	if err != nil {
		t.Fatalf("match_schema: %v", err)
	}
	res := rs[0].Bindings["x"].([]any)
	if res[0].(bool) {
		return nil
	}
	return res[1].([]any)
}

func TestSchema_input(t *testing.T) {
	var full Input
	fill(reflect.ValueOf(&full).Elem(), 0)
	full.Version = InputVersion
	full.Identity.Agent.Source = AgentSourceAct
	full.Statement.Kind, full.Statement.Category = "select", "read"
	full.Statement.Outputs[0].Transform, full.Statement.Outputs[1].Transform = "copy", "aggregate"
	full.Statement.Objects[0].Access, full.Statement.Objects[1].Access = "read", "write"
	for i := range full.Statement.Derived {
		full.Statement.Derived[i].Columns[0].Transform, full.Statement.Derived[i].Columns[1].Transform = "copy", "expression"
	}
	full.Statement.Effects[0].Effect, full.Statement.Effects[1].Effect = "rows_removed", "protection_removed"
	full.Estimate.Method = EstimateExplainPartitions
	docs := map[string]Input{
		"every field":      full,
		"select customers": input(analyst(), selectCustomers()),
		"agent delete":     input(agent(), deleteAll()),
		"empty statement":  input(analyst(), Input{}.Statement),
	}
	for name, in := range docs {
		t.Run(name, func(t *testing.T) {
			if errs := validate(t, schema.Input, in); errs != nil {
				t.Errorf("input does not match engine/schema/input.json: %v", errs)
			}
		})
	}
	bad := input(analyst(), selectCustomers())
	bad.Version = "2"
	if validate(t, schema.Input, bad) == nil {
		t.Error("version 2 matched the schema")
	}
	if validate(t, schema.Input, map[string]any{"version": "1"}) == nil {
		t.Error("an input without identity matched the schema")
	}
}

func TestSchema_decision(t *testing.T) {
	e := newTestEngine(t, Options{})
	ctx := context.Background()
	for name, in := range map[string]Input{
		"allow":    input(analyst(), selectOrders()),
		"mask":     input(analyst(), selectCustomers()),
		"approval": input(analyst(), deleteAll()),
		"deny":     {},
	} {
		t.Run(name, func(t *testing.T) {
			if errs := validate(t, schema.Decision, e.Decide(ctx, in)); errs != nil {
				t.Errorf("decision does not match engine/schema/decision.json: %v", errs)
			}
		})
	}
	for name, d := range map[string]map[string]any{
		"bad action":        {"action": "permit"},
		"approval missing":  {"action": "require_approval"},
		"mask without mask": {"action": "mask", "masks": map[string]any{}},
		"bad strategy":      {"action": "mask", "masks": map[string]any{"A.B.C.D": "rot13"}},
	} {
		if validate(t, schema.Decision, d) == nil {
			t.Errorf("%s: matched the schema", name)
		}
	}
	for _, id := range []Identity{analyst(), {Subject: "x"}} {
		if errs := validate(t, schema.Connect, e.Connect(ctx, ConnectInput{Identity: id})); errs != nil {
			t.Errorf("connect decision does not match engine/schema/connect.json: %v", errs)
		}
	}
}

// TestSchema_generatedInputs validates every input the analyser generated
// for the Rego test fixtures (opa-tests/fixtures) against the schema, so the
// schema keeps describing what the gateway really sends.
func TestSchema_generatedInputs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "opa-tests", "fixtures", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		in := fixture(t, name)
		if errs := validate(t, schema.Input, in); errs != nil {
			t.Errorf("%s does not match engine/schema/input.json: %v", name, errs)
		}
	}
}

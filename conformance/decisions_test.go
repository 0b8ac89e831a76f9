package conformance

import (
	"bytes"
	"context"
	"encoding/xml"
	"testing"

	"github.com/snowgate/snowgate/engine"
)

// MinDecisionCases is the least number of decision cases the corpus holds.
const MinDecisionCases = 200

// TestDecisions runs every case of conformance/decisions through the engine
// with the embedded default library.
func TestDecisions(t *testing.T) {
	cases, err := LoadDecisionCases("decisions")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < MinDecisionCases {
		t.Errorf("%d decision cases, want at least %d", len(cases), MinDecisionCases)
	}
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, r := range RunDecisions(ctx, cases, eng) {
		switch {
		case r.Skipped != "":
			skipped++
			t.Logf("%s/%s: known gap (%s): %v", r.Case.File, r.Case.Name, r.Skipped, r.Failures)
		case !r.Passed():
			t.Errorf("%s/%s: %s\n  sql: %s", r.Case.File, r.Case.Name, r.Failures, r.Case.SQL)
		}
	}
	t.Logf("%d cases, %d skipped as known gaps", len(cases), skipped)
}

func TestDecisionExpect_compare(t *testing.T) {
	got := engine.Decision{Action: engine.ActionMask, Reasons: []string{"EMAIL masked (email_domain)"},
		Masks: map[string]string{"A.B.C.EMAIL": "email_domain"}}
	tests := []struct {
		name  string
		want  DecisionExpect
		fails int
	}{
		{"match", DecisionExpect{Action: "mask", Reasons: []string{"EMAIL masked"}, Masks: map[string]string{"A.B.C.EMAIL": "email_domain"}}, 0},
		{"action", DecisionExpect{Action: "allow"}, 1},
		{"reason", DecisionExpect{Action: "mask", Reasons: []string{"SSN"}}, 1},
		{"masks", DecisionExpect{Action: "mask", Masks: map[string]string{"A.B.C.EMAIL": "redact"}}, 1},
		{"no masks", DecisionExpect{Action: "mask", NoMasks: true}, 1},
		{"approval groups", DecisionExpect{Action: "mask", ApprovalGroups: []string{"x"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f := tt.want.compare(got); len(f) != tt.fails {
				t.Errorf("failures = %q, want %d", f, tt.fails)
			}
		})
	}
}

func TestDecisionCase_check(t *testing.T) {
	for name, c := range map[string]DecisionCase{
		"no name":         {SQL: "SELECT 1", Expect: DecisionExpect{Action: "allow"}},
		"no sql":          {Name: "x", Expect: DecisionExpect{Action: "allow"}},
		"asserts nothing": {Name: "x", SQL: "SELECT 1"},
		"mask no masks":   {Name: "x", SQL: "SELECT 1", Expect: DecisionExpect{Action: "mask"}},
	} {
		if err := c.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWriteDecisionsJUnit(t *testing.T) {
	results := []DecisionResult{
		{Case: DecisionCase{Name: "ok", File: "a.yaml"}},
		{Case: DecisionCase{Name: "bad", File: "a.yaml", SQL: "DROP TABLE X"}, Failures: []string{"action allow, want deny"}},
		{Case: DecisionCase{Name: "gap", File: "b.yaml"}, Failures: []string{"x"}, Skipped: "lowering"},
	}
	var buf bytes.Buffer
	if err := WriteDecisionsJUnit(&buf, results); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.String())
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 2 {
		t.Errorf("junit = %d tests, %d failures, %d skipped, %d suites", doc.Tests, doc.Failures, doc.Skipped, len(doc.Suites))
	}
}

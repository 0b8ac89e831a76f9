package rego_test

import (
	"context"
	"testing"

	"github.com/snowgate/snowgate/engine/policytest"
)

// MinCoverage is the share of the library's lines its Rego tests must reach.
const MinCoverage = 90.0

// TestLibrary runs opa-tests against this library as `opa test rego
// opa-tests --coverage` would, and fails below MinCoverage.
func TestLibrary(t *testing.T) {
	rep, err := policytest.Run(context.Background(), []string{".", "../opa-tests"}, policytest.Options{Coverage: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if !r.Pass && !r.Skip {
			t.Errorf("%s (%s): %s", r.Name, r.Location, r.Error)
		}
	}
	if !rep.OK() {
		t.Fatalf("%d passed, %d failed", rep.Passed, rep.Failed)
	}
	t.Logf("%d tests passed, coverage %.1f%%", rep.Passed, *rep.Coverage)
	if *rep.Coverage < MinCoverage {
		for name, f := range rep.Files {
			if len(f.NotCovered) > 0 {
				t.Logf("%s: %.1f%%, lines not covered: %v", name, f.Percent, f.NotCovered)
			}
		}
		t.Errorf("coverage %.1f%% is below %.0f%%", *rep.Coverage, MinCoverage)
	}
}

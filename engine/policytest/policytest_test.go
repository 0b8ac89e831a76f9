package policytest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "p.rego", "package p\n\nallow if input.x == 1\n\ndeny if input.x == 2\n")
	write(t, dir, "p_test.rego", "package p_test\n\nimport data.p\n\ntest_allow if p.allow with input as {\"x\": 1}\n\ntest_wrong if p.allow with input as {\"x\": 3}\n")
	rep, err := Run(context.Background(), []string{dir}, Options{Coverage: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed != 1 || rep.Failed != 1 || rep.OK() {
		t.Errorf("passed %d, failed %d, ok %v; want 1, 1, false", rep.Passed, rep.Failed, rep.OK())
	}
	if rep.Coverage == nil || *rep.Coverage <= 0 || *rep.Coverage >= 100 {
		t.Fatalf("coverage = %v, want between 0 and 100 (deny is never reached)", rep.Coverage)
	}
	for name := range rep.Files {
		if filepath.Ext(name) != ".rego" || filepath.Base(name) == "p_test.rego" {
			t.Errorf("coverage counts %s", name)
		}
	}

	rep, err = Run(context.Background(), []string{dir}, Options{Filter: "test_allow"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Passed != 1 || rep.Coverage != nil {
		t.Errorf("filtered run: %+v", rep)
	}
}

func TestRun_loadError(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "p.rego", "package p\nallow if {")
	if _, err := Run(context.Background(), []string{dir}, Options{}); err == nil {
		t.Error("a policy that does not parse ran")
	}
}

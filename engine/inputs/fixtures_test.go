package inputs

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite opa-tests/fixtures from sources.yaml")

const fixturesDir = "../../opa-tests/fixtures"

// TestFixtures_inStep fails when the Rego test fixtures differ from what
// the analyser produces for their SQL today. Regenerate with
// `snowgate policy test` or `go test ./engine/inputs -run TestFixtures -update`.
func TestFixtures_inStep(t *testing.T) {
	changed, err := SyncFixtures(context.Background(), fixturesDir, *update)
	if err != nil {
		t.Fatal(err)
	}
	if *update && len(changed) > 0 {
		t.Logf("rewrote %d fixtures: %v", len(changed), changed)
	}
}

func TestSyncFixtures(t *testing.T) {
	dir := t.TempDir()
	src := "sources:\n- name: one\n  as: agent\n  sql: SELECT id FROM orders\n"
	if err := os.WriteFile(filepath.Join(dir, SourcesFile), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := SyncFixtures(ctx, dir, false); !errors.Is(err, ErrStale) {
		t.Fatalf("missing fixture: err = %v, want ErrStale", err)
	}
	if changed, err := SyncFixtures(ctx, dir, true); err != nil || len(changed) != 1 {
		t.Fatalf("write: changed %v, err %v", changed, err)
	}
	if _, err := SyncFixtures(ctx, dir, false); err != nil {
		t.Fatalf("after write: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "orphan.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := SyncFixtures(ctx, dir, false); !errors.Is(err, ErrStale) {
		t.Fatalf("orphan: err = %v, want ErrStale", err)
	}
}

func TestReadFixtureSources_invalid(t *testing.T) {
	for name, src := range map[string]string{
		"bad name":      "sources:\n- name: Bad-Name\n  sql: SELECT 1\n",
		"reserved name": "sources:\n- name: sources\n  sql: SELECT 1\n",
		"duplicate":     "sources:\n- name: a\n  sql: SELECT 1\n- name: a\n  sql: SELECT 2\n",
		"no sql":        "sources:\n- name: a\n",
		"unknown field": "sources:\n- name: a\n  sql: SELECT 1\n  identity: x\n",
		"a list":        "- name: a\n  sql: SELECT 1\n",
	} {
		path := filepath.Join(t.TempDir(), SourcesFile)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadFixtureSources(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDemo(t *testing.T) {
	id, err := Demo("agent")
	if err != nil {
		t.Fatal(err)
	}
	if id.Agent == nil || id.Agent.ID != "sql-agent" || id.Agent.Source != "act" || id.Subject != "u-1001" {
		t.Errorf("agent identity = %+v", id)
	}
	if id, _ := Demo("analyst"); id.Agent != nil {
		t.Errorf("analyst has an agent: %+v", id.Agent)
	}
	if _, err := Demo("mallory"); err == nil {
		t.Error("unknown demo identity accepted")
	}
}

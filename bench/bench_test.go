package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"
)

// tiny is a run short enough for a test: it checks that every row is
// measured, not how fast anything is.
func tiny(t *testing.T) Config {
	t.Helper()
	opa := os.Getenv("SNOWGATE_OPA")
	if opa == "" {
		t.Fatal("SNOWGATE_OPA is not set: run the tests with `make test`, which installs opa into .cache/bin")
	}
	t.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	return Config{Time: 50 * time.Millisecond, Sessions: 200, Rows: 20_000, Settle: 100 * time.Millisecond,
		Root: "..", OPA: opa, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
}

func TestRun(t *testing.T) {
	cfg := tiny(t)
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names {
		if !slices.ContainsFunc(rep.Rows, func(r Row) bool { return r.Name == name }) {
			t.Errorf("no %s row", name)
		}
	}
	for _, r := range rep.Rows {
		if r.Snowgate == "not served (JSON only)" {
			if !strings.HasSuffix(r.What, "Arrow") || len(r.Figures) > 0 {
				t.Errorf("row %q: only Arrow is not served", r.What)
			}
			continue
		}
		if len(r.Figures) == 0 {
			t.Errorf("row %q has no figures", r.What)
		}
		for i, f := range r.Figures {
			if !(f > 0) {
				t.Errorf("row %q: figure %d is %v, want > 0", r.What, i, f)
			}
		}
	}
	var decisions int
	for _, d := range rep.Rows {
		if d.Name != "decision" {
			continue
		}
		decisions++
		if d.Baseline == "opa not found" || !strings.HasPrefix(d.Note, "same action for each") || len(d.Figures) != 5 {
			t.Errorf("decision row %+v: want embedded and opa server compared, deciding alike", d)
		}
	}
	if decisions != 2 {
		t.Errorf("%d decision rows, want evaluated and remembered", decisions)
	}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, fmt.Sprintf("%d cores", runtime.NumCPU())) || !strings.Contains(out, runtime.Version()) {
		t.Errorf("table's header does not name the cores and Go version:\n%s", out)
	}
	if lines := strings.Count(out, "\n| "); lines != len(rep.Rows)+1 {
		t.Errorf("table has %d lines, want %d:\n%s", lines, len(rep.Rows)+1, out)
	}
	t.Logf("\n%s", out)
}

func TestOnlyAndNoOPA(t *testing.T) {
	cfg := tiny(t)
	cfg.Only, cfg.OPA = []string{"decision"}, "/nonexistent/opa"
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("rows %+v: want only the two decision rows", rep.Rows)
	}
	for _, r := range rep.Rows {
		if r.Name != "decision" || r.Baseline != "opa not found" || len(r.Figures) != 2 {
			t.Errorf("row %+v: want a decision row, embedded measured, opa not found", r)
		}
	}
	cfg.Only = []string{"nosuch"}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("error %v, want one naming the unknown row", err)
	}
}

func TestAgree(t *testing.T) {
	fxs := []fixture{{name: "a"}, {name: "b"}}
	allow := func(fixture) (string, error) { return "allow", nil }
	denyB := func(fx fixture) (string, error) {
		if fx.name == "b" {
			return "deny", nil
		}
		return "allow", nil
	}
	if err := agree(fxs, allow, allow); err != nil {
		t.Errorf("same decisions: %v", err)
	}
	if err := agree(fxs, allow, denyB); err == nil || !strings.Contains(err.Error(), "b (allow vs deny)") {
		t.Errorf("error %v, want one naming b's differing actions", err)
	}
	failing := func(fixture) (string, error) { return "", errors.New("down") }
	if err := agree(fxs, allow, failing); err == nil || !strings.Contains(err.Error(), "down") {
		t.Errorf("error %v, want the decider's", err)
	}
}

// Package policytest runs Rego unit tests the way the stock `opa test`
// does (OPA's v1/tester), and measures coverage of the policy files, test
// files excluded. `snowgate policy test` and the library's Go test use it.
package policytest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/tester"
)

// Options tune a run.
type Options struct {
	// Filter is a regular expression over test names, as `opa test --run`.
	Filter string
	// Timeout bounds each test. Defaults to 5s, as `opa test`.
	Timeout time.Duration
	// Coverage measures which lines of the policy files the tests reach.
	Coverage bool
}

// Result is the outcome of one test rule.
type Result struct {
	Name     string        `json:"name"` // data.<package>.<rule>
	Location string        `json:"location"`
	Pass     bool          `json:"pass"`
	Skip     bool          `json:"skip,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// FileCoverage is the coverage of one policy file.
type FileCoverage struct {
	Percent    float64  `json:"percent"`
	NotCovered []string `json:"not_covered,omitempty"` // line ranges, "12" or "12-14"
}

// Report is the outcome of a run.
type Report struct {
	Results []Result `json:"results"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"` // failures and errors
	Skipped int      `json:"skipped"`
	// Coverage is the share of policy lines (not *_test.rego) the tests
	// reach, in percent; set when Options.Coverage is.
	Coverage *float64                `json:"coverage,omitempty"`
	Files    map[string]FileCoverage `json:"files,omitempty"`
}

// OK reports whether every test passed and at least one ran.
func (r *Report) OK() bool { return r.Failed == 0 && r.Passed > 0 }

// Run loads the policy, data and test files under paths, as `opa test
// PATHS` does, and runs every test.
func Run(ctx context.Context, paths []string, opts Options) (*Report, error) {
	mods, store, err := tester.Load(paths, nil)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", strings.Join(paths, " "), err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	txn, err := store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer store.Abort(ctx, txn)

	runner := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithEnablePrintStatements(true)).
		SetStore(store).
		SetModules(mods).
		CapturePrintOutput(true).
		SetTimeout(opts.Timeout).
		Filter(opts.Filter)
	var cov *cover.Cover
	if opts.Coverage {
		cov = cover.New()
		runner = runner.SetCoverageQueryTracer(cov)
	}
	ch, err := runner.RunTests(ctx, txn)
	if err != nil {
		return nil, fmt.Errorf("run tests: %w", err)
	}
	rep := &Report{}
	for r := range ch {
		res := Result{Name: "data." + strings.TrimPrefix(r.Package, "data.") + "." + r.Name, Duration: r.Duration, Skip: r.Skip}
		if r.Location != nil {
			res.Location = fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)
		}
		switch {
		case r.Skip:
			rep.Skipped++
		case r.Error != nil:
			res.Error = r.Error.Error()
			rep.Failed++
		case r.Fail:
			res.Error = "fail"
			rep.Failed++
		default:
			res.Pass = true
			rep.Passed++
		}
		rep.Results = append(rep.Results, res)
	}
	if cov != nil {
		rep.Coverage, rep.Files = policyCoverage(cov.Report(mods))
	}
	return rep, nil
}

// policyCoverage sums the coverage of the files that are not tests.
func policyCoverage(r cover.Report) (*float64, map[string]FileCoverage) {
	files := map[string]FileCoverage{}
	covered, total := 0, 0
	for _, name := range slices.Sorted(maps.Keys(r.Files)) {
		if strings.HasSuffix(name, "_test.rego") {
			continue
		}
		f := r.Files[name]
		covered += f.CoveredLines
		total += f.CoveredLines + f.NotCoveredLines
		fc := FileCoverage{Percent: f.Coverage}
		for _, rng := range f.NotCovered {
			if rng.Start.Row == rng.End.Row {
				fc.NotCovered = append(fc.NotCovered, fmt.Sprint(rng.Start.Row))
			} else {
				fc.NotCovered = append(fc.NotCovered, fmt.Sprintf("%d-%d", rng.Start.Row, rng.End.Row))
			}
		}
		files[name] = fc
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(covered) / float64(total)
	}
	return &pct, files
}

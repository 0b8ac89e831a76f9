package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/snowgate/snowgate/conformance"
	"github.com/snowgate/snowgate/engine"
)

// conformanceCommands are the subcommands of `snowgate conformance`; other
// corpora register theirs here from their own files.
var conformanceCommands = map[string]command{}

func init() {
	commands["conformance"] = command{
		summary: "run the conformance corpora (run: the decision cases)",
		run:     runConformance,
	}
	conformanceCommands["run"] = command{
		summary: "run the decision cases (identity + SQL -> action, reasons, masks) through the engine",
		run:     runConformanceDecisions,
	}
}

func runConformance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: snowgate conformance SUBCOMMAND [flags]\n\nsubcommands:")
		for _, name := range slices.Sorted(mapsKeysCmd(conformanceCommands)) {
			fmt.Fprintf(stderr, "  %-12s %s\n", name, conformanceCommands[name].summary)
		}
		if len(args) == 0 {
			return errors.New("conformance: no subcommand given")
		}
		return nil
	}
	c, ok := conformanceCommands[args[0]]
	if !ok {
		return fmt.Errorf("conformance: unknown subcommand %q", args[0])
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func mapsKeysCmd(m map[string]command) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func runConformanceDecisions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("conformance run", "conformance run [--bundle B | --policy DIR] [--cases DIR] [--junit FILE] [--run SUBSTR] [-v] [--output json]", stderr)
	bundlePath := fs.String("bundle", "", "an OPA bundle (.tar.gz or directory) to decide with (default: the embedded rego/ library)")
	policyDir := fs.String("policy", "", "a policy directory to decide with")
	casesDir := fs.String("cases", conformance.DecisionsDir, "the directory of decision case files")
	junit := fs.String("junit", "", "write JUnit XML results to this file")
	only := fs.String("run", "", "run only cases whose name contains this")
	verbose := fs.Bool("v", false, "list every case")
	output := fs.String("output", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bundlePath != "" && *policyDir != "" {
		return errors.New("--bundle and --policy are exclusive")
	}
	opts := engine.Options{Dir: *policyDir}
	if *bundlePath != "" {
		b, err := readBundle(*bundlePath)
		if err != nil {
			return err
		}
		opts.Bundle = b
	}
	eng, err := engine.New(ctx, opts)
	if err != nil {
		return err
	}
	cases, err := conformance.LoadDecisionCases(*casesDir)
	if err != nil {
		return err
	}
	if *only != "" {
		cases = slices.DeleteFunc(cases, func(c conformance.DecisionCase) bool { return !strings.Contains(c.Name, *only) })
	}
	start := time.Now()
	results := conformance.RunDecisions(ctx, cases, eng)
	elapsed := time.Since(start)
	if *junit != "" {
		f, err := os.Create(*junit)
		if err != nil {
			return fmt.Errorf("junit: %w", err)
		}
		err = conformance.WriteDecisionsJUnit(f, results)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	passed, failed, skipped := 0, 0, 0
	type jsonResult struct {
		File     string          `json:"file"`
		Name     string          `json:"name"`
		Status   string          `json:"status"`
		Failures []string        `json:"failures,omitempty"`
		Decision engine.Decision `json:"decision"`
	}
	var js []jsonResult
	for _, r := range results {
		status := "pass"
		switch {
		case r.Skipped != "":
			status = "skip"
			skipped++
		case !r.Passed():
			status = "fail"
			failed++
		default:
			passed++
		}
		js = append(js, jsonResult{File: r.Case.File, Name: r.Case.Name, Status: status, Failures: r.Failures, Decision: r.Got})
		if *output == "json" {
			continue
		}
		switch {
		case status == "fail":
			fmt.Fprintf(stdout, "FAIL %s/%s\n  sql: %s\n", r.Case.File, r.Case.Name, policyOneLine(r.Case.SQL, 160))
			for _, f := range r.Failures {
				fmt.Fprintf(stdout, "  %s\n", f)
			}
		case status == "skip" && *verbose:
			fmt.Fprintf(stdout, "SKIP %s/%s: known gap: %s\n", r.Case.File, r.Case.Name, r.Skipped)
		case *verbose:
			fmt.Fprintf(stdout, "PASS %s/%s: %s\n", r.Case.File, r.Case.Name, r.Got.Action)
		}
	}
	if *output == "json" {
		if err := policyJSON(stdout, map[string]any{"revision": eng.Revision(), "passed": passed, "failed": failed, "skipped": skipped, "results": js}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%d cases: %d passed, %d failed, %d skipped (known gaps) in %s with policy %s\n",
			len(results), passed, failed, skipped, elapsed.Round(time.Millisecond), eng.Revision())
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("conformance: %d of %d decision cases failed", failed, len(results))}
	}
	return nil
}

// readBundle reads a bundle tarball or directory. Signatures are not
// checked here: conformance tests what a bundle decides, `snowgate bundle
// verify` whether it may be trusted.
func readBundle(path string) (*bundle.Bundle, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	var r *bundle.Reader
	if fi.IsDir() {
		return engine.LoadFS(os.DirFS(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	r = bundle.NewReader(f).WithSkipBundleVerification(true)
	b, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	return &b, nil
}

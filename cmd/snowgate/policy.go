package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/engine/inputs"
	"github.com/snowgate/snowgate/engine/policytest"
)

func init() {
	commands["policy"] = command{
		summary: "policy tools: input (the JSON the policy sees), eval (one decision), test (Rego tests)",
		run:     runPolicy,
	}
}

const policyUsage = `usage: snowgate policy input|eval|test [flags]

  input  --sql SQL [--as NAME | --identity FILE] [--database D --schema S]
         prints the exact policy input the gateway would build, as JSON
  eval   --sql SQL [--as NAME | --identity FILE] | --input FILE  [--policy DIR] [--output json]
         prints the decision for each statement
  test   [--coverage] [--threshold PCT] [--run REGEX] [DIRS]
         regenerates DIR/fixtures from DIR/fixtures/sources.yaml, then runs
         the Rego tests in DIRS (default: rego opa-tests) as 'opa test' does
`

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, policyUsage)
		if len(args) == 0 {
			return errors.New("policy: no subcommand given")
		}
		return nil
	}
	switch args[0] {
	case "input":
		return runPolicyInput(ctx, args[1:], stdout, stderr)
	case "eval":
		return runPolicyEval(ctx, args[1:], stdout, stderr)
	case "test":
		return runPolicyTest(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, policyUsage)
	return fmt.Errorf("policy: unknown subcommand %q", args[0])
}

// statementFlags are the flags that say which statement, from whom.
type statementFlags struct {
	sql, as, identity, database, schema string
	noCatalog                           bool
}

func (f *statementFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.sql, "sql", "", "the SQL text (several statements allowed; '-' reads stdin)")
	fs.StringVar(&f.as, "as", "", "a demo identity: "+strings.Join(inputs.DemoNames(), ", ")+" (default analyst)")
	fs.StringVar(&f.identity, "identity", "", "a JSON file holding input.identity")
	fs.StringVar(&f.database, "database", "DEMO", "the session's current database")
	fs.StringVar(&f.schema, "schema", "PUBLIC", "the session's current schema")
	fs.BoolVar(&f.noCatalog, "no-catalog", false, "analyse without the demo catalog ('*' stays untraced)")
}

// inputs analyses the SQL and builds one input per statement.
func (f *statementFlags) inputs(ctx context.Context, stdin io.Reader) ([]engine.Input, error) {
	sql := f.sql
	if sql == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 16<<20))
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		sql = string(b)
	}
	if strings.TrimSpace(sql) == "" {
		return nil, errors.New("--sql is required")
	}
	id, err := f.ident()
	if err != nil {
		return nil, err
	}
	return inputs.Build(ctx, sql, id, inputs.Options{Database: f.database, Schema: f.schema, NoCatalog: f.noCatalog})
}

func (f *statementFlags) ident() (engine.Identity, error) {
	switch {
	case f.as != "" && f.identity != "":
		return engine.Identity{}, errors.New("--as and --identity are exclusive")
	case f.identity != "":
		file, err := os.Open(f.identity)
		if err != nil {
			return engine.Identity{}, fmt.Errorf("identity: %w", err)
		}
		defer file.Close()
		return inputs.ReadIdentity(file)
	case f.as != "":
		return inputs.Demo(f.as)
	default:
		return inputs.Demo("analyst")
	}
}

func runPolicyInput(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy input", "policy input --sql SQL [--as NAME|--identity FILE] [--database D --schema S]", stderr)
	var sf statementFlags
	sf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ins, err := sf.inputs(ctx, os.Stdin)
	if err != nil {
		return err
	}
	if len(ins) == 1 {
		return policyJSON(stdout, ins[0])
	}
	return policyJSON(stdout, ins)
}

func runPolicyEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy eval", "policy eval --sql SQL [--as NAME|--identity FILE] [--policy DIR] [--output json]", stderr)
	var sf statementFlags
	sf.register(fs)
	policyDir := fs.String("policy", "", "policy directory (default: the embedded rego/ library)")
	inputFile := fs.String("input", "", "decide on this input document (JSON, as `policy input` prints it) instead of --sql")
	output := fs.String("output", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return fmt.Errorf("--output %q: want text or json", *output)
	}
	eng, err := engine.New(ctx, engine.Options{Dir: *policyDir})
	if err != nil {
		return err
	}
	var ins []engine.Input
	if *inputFile != "" {
		if sf.sql != "" {
			return errors.New("--input and --sql are exclusive")
		}
		ins, err = readInputs(*inputFile)
	} else {
		ins, err = sf.inputs(ctx, os.Stdin)
	}
	if err != nil {
		return err
	}
	decisions := make([]engine.Decision, len(ins))
	for i, in := range ins {
		decisions[i] = eng.Decide(ctx, in)
	}
	if *output == "json" {
		if len(decisions) == 1 {
			return policyJSON(stdout, decisions[0])
		}
		return policyJSON(stdout, decisions)
	}
	for i, d := range decisions {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printDecision(stdout, ins[i].Statement.SQL, i, len(ins), d)
	}
	return nil
}

// readInputs reads one input document or an array of them.
func readInputs(path string) ([]engine.Input, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	var many []engine.Input
	if err := json.Unmarshal(b, &many); err == nil {
		return many, nil
	}
	var one engine.Input
	if err := json.Unmarshal(b, &one); err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	return []engine.Input{one}, nil
}

func printDecision(w io.Writer, sql string, i, n int, d engine.Decision) {
	fmt.Fprintf(w, "statement %d/%d  %s\n", i+1, n, policyOneLine(sql, 100))
	fmt.Fprintf(w, "  action    %s\n", d.Action)
	for _, r := range d.Reasons {
		fmt.Fprintf(w, "  reason    %s\n", r)
	}
	for _, col := range slices.Sorted(maps.Keys(d.Masks)) {
		fmt.Fprintf(w, "  mask      %s -> %s\n", col, d.Masks[col])
	}
	if a := d.Approval; a != nil {
		fmt.Fprintf(w, "  approval  %d of %s within %ds: %s\n", a.Count, strings.Join(a.Groups, "|"), a.TTLSeconds, a.Why)
	}
	fmt.Fprintf(w, "  decision  %s (policy %s)\n", d.ID, d.Revision)
}

func runPolicyTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy test", "policy test [--coverage] [--threshold PCT] [--run REGEX] [--no-regenerate] [-v] [--output json] [DIRS]", stderr)
	coverage := fs.Bool("coverage", false, "report the coverage of the policy files")
	threshold := fs.Float64("threshold", 0, "fail below this coverage percentage (implies --coverage)")
	runRegex := fs.String("run", "", "run only tests matching this regular expression")
	noRegen := fs.Bool("no-regenerate", false, "check the fixtures instead of rewriting them (fails when stale)")
	verbose := fs.Bool("v", false, "list every test")
	output := fs.String("output", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		dirs = []string{"rego", "opa-tests"}
	}
	for _, d := range dirs {
		fixtures := filepath.Join(d, "fixtures")
		if _, err := os.Stat(filepath.Join(fixtures, inputs.SourcesFile)); err != nil {
			continue
		}
		changed, err := inputs.SyncFixtures(ctx, fixtures, !*noRegen)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			fmt.Fprintf(stderr, "regenerated %d fixtures in %s\n", len(changed), fixtures)
		}
	}
	rep, err := policytest.Run(ctx, dirs, policytest.Options{Filter: *runRegex, Coverage: *coverage || *threshold > 0})
	if err != nil {
		return err
	}
	if *output == "json" {
		if err := policyJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		printTestReport(stdout, rep, *verbose)
	}
	switch {
	case !rep.OK():
		return &exitError{code: 1, err: fmt.Errorf("policy tests: %d failed, %d passed", rep.Failed, rep.Passed)}
	case rep.Coverage != nil && *rep.Coverage < *threshold:
		return &exitError{code: 1, err: fmt.Errorf("policy coverage %.1f%% is below the threshold %.1f%%", *rep.Coverage, *threshold)}
	}
	return nil
}

func printTestReport(w io.Writer, rep *policytest.Report, verbose bool) {
	for _, r := range rep.Results {
		switch {
		case !r.Pass && !r.Skip:
			fmt.Fprintf(w, "%s: FAIL %s\n  %s\n", r.Location, r.Name, r.Error)
		case verbose:
			fmt.Fprintf(w, "%s: PASS (%s)\n", r.Name, r.Duration)
		}
	}
	fmt.Fprintln(w, strings.Repeat("-", 80))
	fmt.Fprintf(w, "PASS: %d/%d\n", rep.Passed, len(rep.Results))
	if rep.Failed > 0 {
		fmt.Fprintf(w, "FAIL: %d/%d\n", rep.Failed, len(rep.Results))
	}
	if rep.Coverage != nil {
		for _, name := range slices.Sorted(maps.Keys(rep.Files)) {
			f := rep.Files[name]
			fmt.Fprintf(w, "coverage %6.1f%%  %s", f.Percent, name)
			if len(f.NotCovered) > 0 {
				fmt.Fprintf(w, "  (not covered: %s)", strings.Join(f.NotCovered, ", "))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "coverage %6.1f%%  policy total\n", *rep.Coverage)
	}
}

func policyJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func policyOneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		return s[:max-3] + "..."
	}
	return s
}

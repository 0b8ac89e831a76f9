// Package conformance holds snowgate's data-driven cases and their runners,
// shared by `go test` and `snowgate conformance`. This file runs the
// decision cases: identity + SQL -> expected action, reasons and masks.
package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/engine/inputs"
)

// DecisionsDir is where the decision cases live, relative to the module root.
const DecisionsDir = "conformance/decisions"

// DecisionCase is one behaviour of the policy: who sends which SQL, and
// what must come of it.
type DecisionCase struct {
	Name     string `yaml:"name"`
	As       string `yaml:"as"` // a demo identity; default analyst
	SQL      string `yaml:"sql"`
	Database string `yaml:"database,omitempty"`
	// Role is the session's role in the engine-only run (generated inputs
	// have SNOWGATE_ANALYST); through the gateway the login's connect
	// decision sets it, which for the demo identities is this role.
	Role   string `yaml:"role,omitempty"`
	Schema string `yaml:"schema,omitempty"`
	// NoCatalog analyses without a catalog, as a gateway that cannot list a
	// table's columns does: '*' stays untraced. (The running gateway always
	// has one, so such cases are checked through the engine only.)
	NoCatalog bool `yaml:"no_catalog,omitempty"`
	// Statement selects the statement of a multi-statement request (from 0).
	// Without it the request must hold exactly one statement.
	Statement *int `yaml:"statement,omitempty"`
	// FreshSession runs the case through the gateway on a new session, for
	// statements whose reading depends on what the session ran before
	// (RESULT_SCAN(LAST_QUERY_ID())). The engine has no session history.
	FreshSession bool `yaml:"fresh_session,omitempty"`
	// Setup are statements the gateway test runs first, as admin, so that
	// what the case assumes exists does: the gateway reads CREATE OR
	// REPLACE of an object that does not exist as a create, while the
	// engine alone assumes the object exists.
	Setup  []string       `yaml:"setup,omitempty"`
	Expect DecisionExpect `yaml:"expect"`
	// KnownGap, when set, says why the case cannot pass yet (e.g. the
	// analyser does not read the construct). A failing case with a known
	// gap is reported as skipped; a passing one as a pass, so the note
	// can be removed.
	KnownGap string `yaml:"known_gap,omitempty"`

	File string `yaml:"-"` // the file the case came from
}

// DecisionExpect is what a case asserts.
type DecisionExpect struct {
	Action engine.Action `yaml:"action"`
	// Reasons must each be a substring of some reason of the decision.
	Reasons []string `yaml:"reasons,omitempty"`
	// Masks, when present (even empty), must equal the decision's masks.
	Masks map[string]string `yaml:"masks,omitempty"`
	// NoMasks asserts that nothing is masked.
	NoMasks bool `yaml:"no_masks,omitempty"`
	// ApprovalGroups, when set, must equal the approval's groups.
	ApprovalGroups []string `yaml:"approval_groups,omitempty"`
}

// decisionFile is the layout of conformance/decisions/*.yaml.
type decisionFile struct {
	Cases []DecisionCase `yaml:"cases"`
}

// LoadDecisionCases reads every *.yaml file of dir. Cases must have unique
// names, SQL and an expected action: a case that asserts nothing is an error.
func LoadDecisionCases(dir string) ([]DecisionCase, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("decision cases: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("decision cases: no *.yaml in %s", dir)
	}
	var all []DecisionCase
	seen := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("decision cases: %w", err)
		}
		var df decisionFile
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&df); err != nil {
			return nil, fmt.Errorf("decision cases %s: %w", f, err)
		}
		for i, c := range df.Cases {
			c.File = filepath.Base(f)
			if err := c.check(); err != nil {
				return nil, fmt.Errorf("decision cases %s: case %d (%s): %w", f, i, c.Name, err)
			}
			if prev, dup := seen[c.Name]; dup {
				return nil, fmt.Errorf("decision cases %s: case %q also in %s", f, c.Name, prev)
			}
			seen[c.Name] = c.File
			all = append(all, c)
		}
	}
	return all, nil
}

func (c *DecisionCase) check() error {
	switch {
	case c.Name == "":
		return errors.New("no name")
	case strings.TrimSpace(c.SQL) == "":
		return errors.New("no sql")
	case !c.Expect.Action.Valid():
		return fmt.Errorf("expect.action %q is not allow, deny, require_approval or mask", c.Expect.Action)
	case c.Expect.Action == engine.ActionMask && len(c.Expect.Masks) == 0:
		return errors.New("a mask case must name its masks")
	}
	return nil
}

// Decider makes a decision; *engine.Engine is one, and so is a client of a
// running gateway.
type Decider interface {
	Decide(ctx context.Context, in engine.Input) engine.Decision
}

var _ Decider = (*engine.Engine)(nil)

// DecisionResult is the outcome of one case.
type DecisionResult struct {
	Case     DecisionCase
	Got      engine.Decision
	Failures []string // empty when the case passed
	Skipped  string   // the known gap of a failing case
	Duration time.Duration
}

// Passed reports whether the case passed.
func (r DecisionResult) Passed() bool { return len(r.Failures) == 0 && r.Skipped == "" }

// RunDecisions builds each case's input with the statement analyser and
// checks the decision d makes.
func RunDecisions(ctx context.Context, cases []DecisionCase, d Decider) []DecisionResult {
	out := make([]DecisionResult, len(cases))
	for i, c := range cases {
		start := time.Now()
		out[i] = runDecision(ctx, c, d)
		out[i].Duration = time.Since(start)
	}
	return out
}

func runDecision(ctx context.Context, c DecisionCase, d Decider) DecisionResult {
	res := DecisionResult{Case: c}
	in, err := caseInput(ctx, c)
	if err != nil {
		res.Failures = []string{err.Error()}
	} else {
		res.Got = d.Decide(ctx, in)
		res.Failures = c.Expect.compare(res.Got)
	}
	if len(res.Failures) > 0 && c.KnownGap != "" {
		res.Skipped = c.KnownGap
	}
	return res
}

func caseInput(ctx context.Context, c DecisionCase) (engine.Input, error) {
	as := c.As
	if as == "" {
		as = "analyst"
	}
	id, err := inputs.Demo(as)
	if err != nil {
		return engine.Input{}, err
	}
	ins, err := inputs.Build(ctx, c.SQL, id, inputs.Options{Database: c.Database, Schema: c.Schema, NoCatalog: c.NoCatalog, Role: c.Role})
	if err != nil {
		return engine.Input{}, err
	}
	idx := 0
	switch {
	case c.Statement != nil:
		idx = *c.Statement
		if idx < 0 || idx >= len(ins) {
			return engine.Input{}, fmt.Errorf("statement %d of %d", idx, len(ins))
		}
	case len(ins) != 1:
		return engine.Input{}, fmt.Errorf("%d statements; set statement: N", len(ins))
	}
	return ins[idx], nil
}

// compare lists how got differs from what the case expects.
func (e DecisionExpect) compare(got engine.Decision) []string {
	var f []string
	if got.Action != e.Action {
		f = append(f, fmt.Sprintf("action %s, want %s (reasons: %s)", got.Action, e.Action, strings.Join(got.Reasons, "; ")))
	}
	for _, want := range e.Reasons {
		if !slices.ContainsFunc(got.Reasons, func(r string) bool { return strings.Contains(r, want) }) {
			f = append(f, fmt.Sprintf("no reason mentions %q (reasons: %s)", want, strings.Join(got.Reasons, "; ")))
		}
	}
	if e.Masks != nil && !maps.Equal(e.Masks, got.Masks) {
		f = append(f, fmt.Sprintf("masks %v, want %v", got.Masks, e.Masks))
	}
	if e.NoMasks && len(got.Masks) > 0 {
		f = append(f, fmt.Sprintf("masks %v, want none", got.Masks))
	}
	if e.ApprovalGroups != nil {
		var groups []string
		if got.Approval != nil {
			groups = got.Approval.Groups
		}
		if !slices.Equal(groups, e.ApprovalGroups) {
			f = append(f, fmt.Sprintf("approval groups %v, want %v", groups, e.ApprovalGroups))
		}
	}
	return f
}

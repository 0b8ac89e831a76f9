package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/statement"
)

// runAuditShadow replays recorded statements through two policies: the
// rollout check before a new bundle ships.
func runAuditShadow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit shadow", "audit shadow --db DSN --bundle NEW [--baseline OLD] [--session ID] [--since 24h|TIME] [--output json]", stderr)
	var af auditFlags
	af.register(fs, true)
	var ff filterFlags
	ff.register(fs)
	candidate := fs.String("bundle", "", "the candidate policy: a directory of Rego and data.json, or a bundle .tar.gz (required)")
	baseline := fs.String("baseline", "", "the policy to compare with (default: the embedded library)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *candidate == "" {
		return fmt.Errorf("--bundle is required")
	}
	flt, err := ff.filter(af.replica, time.Now())
	if err != nil {
		return err
	}
	flt.Types = []string{audit.TypeStatement, audit.TypeOutcome, audit.TypeSessionStart, audit.TypeSessionEnd}
	newEng, err := shadowEngine(ctx, *candidate)
	if err != nil {
		return fmt.Errorf("candidate policy: %w", err)
	}
	oldEng, err := shadowEngine(ctx, *baseline)
	if err != nil {
		return fmt.Errorf("baseline policy: %w", err)
	}
	store, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()

	type change struct {
		Record    string   `json:"record"`
		Session   string   `json:"session"`
		Subject   string   `json:"subject"`
		Agent     string   `json:"agent,omitempty"`
		SQL       string   `json:"sql"`
		Recorded  string   `json:"recorded"`
		Baseline  string   `json:"baseline"`
		Candidate string   `json:"candidate"`
		Reasons   []string `json:"candidate_reasons"`
		// The candidate's row filters, and the text that would have run.
		RowFilters map[string]string `json:"candidate_row_filters,omitempty"`
		Runs       string            `json:"candidate_runs,omitempty"`
		pos        int               // its place among the recorded statements
	}
	var changes []change
	total := 0
	tally := newUsageTally()
	type limited struct {
		queryID string
		at      int // its change's index, -1 when its decision did not change
		c       change
		limits  *engine.Limits
	}
	var caps []limited
	err = store.Scan(ctx, flt, func(r audit.Record) error {
		env, err := r.Decode()
		if err != nil {
			return err
		}
		e := env.Event
		defer tally.observe(e)
		if e.Type != audit.TypeStatement || e.Statement == nil || e.Identity == nil {
			return nil
		}
		in, err := shadowInput(ctx, e)
		if err != nil {
			return err
		}
		in.Usage = tally.usage(e.Identity, e.Time)
		total++
		was, wasRuns := shadowFilter(ctx, in, shadowDecide(ctx, oldEng, in))
		now, runs := shadowFilter(ctx, in, shadowDecide(ctx, newEng, in))
		rec := ""
		if e.Decision != nil {
			rec = e.Decision.Action
		}
		c := change{Record: r.ID(), Session: e.SessionID, Subject: e.Identity.Subject, Agent: e.Identity.Agent,
			SQL: e.Statement.SQL, Recorded: rec, Baseline: actionOf(was, wasRuns), Candidate: actionOf(now, runs), Reasons: now.Reasons,
			RowFilters: now.RowFilters, Runs: runs, pos: total}
		at := -1
		if was.Action != now.Action || strings.Join(was.Reasons, "|") != strings.Join(now.Reasons, "|") || !sameMasks(was.Masks, now.Masks) ||
			wasRuns != runs {
			at = len(changes)
			changes = append(changes, c)
		}
		if now.Limits != nil {
			caps = append(caps, limited{e.QueryID, at, c, now.Limits})
		}
		return nil
	})
	if err != nil {
		return err
	}
	// A result the trail recorded that passes the candidate's limits
	// would have been cut.
	for _, l := range caps {
		if !tally.cut(l.queryID, l.limits) {
			continue
		}
		if l.at < 0 {
			l.at = len(changes)
			changes = append(changes, l.c)
		}
		changes[l.at].Candidate += " (cut)"
		changes[l.at].Reasons = append(changes[l.at].Reasons, "the recorded result passes the quota left")
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].pos < changes[j].pos })
	counts := map[string]int{}
	for _, c := range changes {
		counts[c.Baseline+" → "+c.Candidate]++
	}
	if af.output == "json" {
		if changes == nil {
			changes = []change{}
		}
		return writeJSON(stdout, map[string]any{"statements": total, "changed": len(changes), "counts": counts, "changes": changes})
	}
	fmt.Fprintf(stdout, "%d recorded statements re-evaluated, %d decisions would change\n", total, len(changes))
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "  %-36s %d\n", k, counts[k])
	}
	if len(changes) > 0 {
		fmt.Fprintln(stdout)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RECORD\tSESSION\tWHO\tBASELINE\tCANDIDATE\tSQL")
		for _, c := range changes {
			who := c.Subject
			if c.Agent != "" {
				who += " via " + c.Agent
			}
			sql := strings.Join(strings.Fields(c.SQL), " ")
			if len(sql) > 70 {
				sql = sql[:67] + "..."
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Record, c.Session, who, c.Baseline, c.Candidate, sql)
		}
		return tw.Flush()
	}
	return nil
}

// shadowFilter places a decision's row filters on the recorded statement
// as the gateway would (proxy/rowfilter.go), short of asking the upstream
// which names are views: where they cannot be placed, the decision is the
// deny the gateway would give. It returns the decision and the text that
// would run, when it differs from the recorded one.
func shadowFilter(ctx context.Context, in engine.Input, d engine.Decision) (engine.Decision, string) {
	if len(d.RowFilters) == 0 || d.Action == engine.ActionDeny {
		return d, ""
	}
	env := statement.Env{Database: in.Session.Database, Schema: in.Session.Schema}
	filters, err := statement.ParseRowFilters(d.RowFilters, env)
	run := in.Statement
	if err == nil {
		run, err = statement.FilterRows(ctx, in.Statement, env, filters)
	}
	if err != nil {
		return proxy.RefuseRows(d, err), ""
	}
	if run.SQL == in.Statement.SQL {
		return d, ""
	}
	return d, run.SQL
}

// actionOf names a decision's action, and says when row filters narrow
// the statement.
func actionOf(d engine.Decision, runs string) string {
	if runs != "" {
		return string(d.Action) + " (filtered)"
	}
	return string(d.Action)
}

// shadowEngine loads a policy from a directory or a bundle file; "" is the
// embedded library.
func shadowEngine(ctx context.Context, src string) (*engine.Engine, error) {
	if src == "" {
		return engine.New(ctx, engine.Options{})
	}
	info, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return engine.New(ctx, engine.Options{Dir: src})
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := bundle.NewReader(f).Read()
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", src, err)
	}
	return engine.New(ctx, engine.Options{Bundle: &b})
}

// shadowInput rebuilds a statement's policy input from its record: the
// identity as verified, the session's database and schema, and the SQL
// analysed again. Without the upstream's catalog '*' stays untraced.
func shadowInput(ctx context.Context, e audit.Event) (engine.Input, error) {
	st := e.Statement
	stmts, err := statement.Analyze(ctx, st.SQL, statement.Env{Database: st.Database, Schema: st.Schema})
	if err != nil || len(stmts) == 0 {
		return engine.Input{}, fmt.Errorf("record of session %s: analyse %q: %v", e.SessionID, st.SQL, err)
	}
	stmt := stmts[0]
	stmt.Index, stmt.Count = st.Index, st.Count
	id := shadowIdentity(e.Identity)
	in := engine.Input{
		Version: engine.InputVersion, Identity: id, Statement: stmt,
		Session: engine.Session{ID: e.SessionID, Database: st.Database, Schema: st.Schema},
		Request: engine.Request{ID: e.RequestID, Time: e.Time},
	}
	if d := e.Decision; d != nil && d.Estimate != nil {
		x := d.Estimate
		in.Estimate = &engine.Estimate{Object: x.Object, Rows: x.Rows, Total: x.Total, Share: x.Share, Method: x.Method, Bytes: x.Bytes}
		for _, sc := range x.Scans {
			in.Estimate.Scans = append(in.Estimate.Scans, engine.Scan(sc))
		}
	}
	return in, nil
}

// shadowIdentity is the caller as the trail recorded it.
func shadowIdentity(a *audit.Identity) engine.Identity {
	id := engine.Identity{Subject: a.Subject, Email: a.Email, Issuer: a.Issuer, Groups: a.Groups}
	if a.Agent != "" {
		id.Agent = &engine.Agent{ID: a.Agent, Source: engine.AgentSourceAct}
	}
	return id
}

// shadowDecide decides as the gateway does, with the estimate recorded
// with the statement. A policy that asks for a plan no record holds (the
// recorded policy did not ask for one) is answered as the gateway answers
// a plan it cannot have: method "failed".
func shadowDecide(ctx context.Context, eng *engine.Engine, in engine.Input) engine.Decision {
	d := eng.Decide(ctx, in)
	if d.Estimate && in.Estimate == nil {
		in.Estimate = &engine.Estimate{Method: engine.EstimateFailed}
		d = eng.Decide(ctx, in)
	}
	return d
}

func sameMasks(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

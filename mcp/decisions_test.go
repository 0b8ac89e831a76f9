package mcp_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/conformance"
	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/mcp"
	"github.com/snowgate/snowgate/proxy"
)

// TestDecisions_throughFrontDoor runs the decision cases through the front
// door over stdio and streamable HTTP, as each case's identity: the
// gateway's decision that explain_decision reports is the engine's (as
// on the driver path, which conformance's gateway test compares), and
// run_query shows it as a driver's client sees it: a denial is a tool
// error with 003001, an approval a ticket at once, an allowed or masked
// statement no policy error.
func TestDecisions_throughFrontDoor(t *testing.T) {
	cases, err := conformance.LoadDecisionCases(filepath.Join("..", conformance.DecisionsDir))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	direct, err := engine.New(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	results := conformance.RunDecisions(ctx, cases, direct)
	t.Run("stdio", func(t *testing.T) {
		st := startStack(t)
		checkCases(t, startHost(t), stdioDoor(t, st), results)
	})
	t.Run("http", func(t *testing.T) {
		st := startStack(t)
		door, _ := httpDoor(t, st)
		checkCases(t, startHost(t), door, results)
	})
}

func checkCases(t *testing.T, h *host, door frontDoor, results []conformance.DecisionResult) {
	open := map[string]bool{}
	session := func(name, as string) string {
		if !open[name] {
			door.open(t, h, name, as)
			open[name] = true
		}
		return name
	}
	compared, eligible, fresh := 0, 0, 0
	for _, r := range results {
		c := r.Case
		if r.Skipped != "" || !r.Passed() || c.NoCatalog {
			continue // conformance reports these; the gateway always has a catalog
		}
		eligible++
		name := c.File + "/" + c.Name
		as := c.As
		if as == "" {
			as = "analyst"
		}
		for _, q := range c.Setup {
			if res := h.call(session("admin", "admin"), "run_query", map[string]any{"sql": q}); res.IsError {
				t.Fatalf("%s: setup %s: %s", name, q, res.Text)
			}
		}
		sess := as
		if c.FreshSession || c.Database != "" {
			// A session of its own; one in the case's database and schema
			// is a front door that names them at login.
			fresh++
			sess = fmt.Sprintf("%s-%d", as, fresh)
			door.in(c.Database, c.Schema).open(t, h, sess, as)
			open[sess] = true
		}
		rs := h.batch(session(sess, as), []map[string]any{
			{"tool": "explain_decision", "args": map[string]any{"sql": c.SQL}},
			{"tool": "run_query", "args": map[string]any{"sql": c.SQL, "max_rows": 5}},
		})
		if sess != as {
			h.close(sess)
		}
		explained, ran := rs[0], rs[1]
		if explained.Error != "" || explained.IsError {
			t.Errorf("%s: explain_decision: %s%s", name, explained.Text, explained.Error)
			continue
		}
		var ex mcp.Explanation
		explained.decode(t, &ex)
		idx := 0
		if c.Statement != nil {
			idx = *c.Statement
		}
		if idx >= len(ex.Statements) {
			t.Errorf("%s: %d statements explained, the case needs statement %d", name, len(ex.Statements), idx)
			continue
		}
		want := r.Got.Action
		if got := ex.Statements[idx].Action; got != string(want) {
			t.Errorf("%s: explained %s %q, the engine decides %s %q\n  sql: %s", name, got, ex.Statements[idx].Reasons, want, r.Got.Reasons, c.SQL)
			continue
		}
		compared++
		if ran.Error != "" {
			t.Errorf("%s: run_query: %s", name, ran.Error)
			continue
		}
		if c.Statement != nil {
			continue // the request's other statements decide what the client sees
		}
		var q mcp.QueryResult
		if !ran.IsError {
			ran.decode(t, &q)
		}
		code := 0
		if ran.IsError && len(ran.Text) >= 6 {
			code, _ = strconv.Atoi(ran.Text[:6])
		}
		policyError := code >= 3001 && code <= 3005 // denied, approval required, rejected, expired
		switch {
		case want == engine.ActionDeny && !(ran.IsError && strings.HasPrefix(ran.Text, proxy.CodeAccessDenied)):
			t.Errorf("%s: denied, run_query answered %v %q", name, ran.IsError, ran.Text)
		case want == engine.ActionRequireApproval && (ran.IsError || q.Status != "approval_required" || len(q.Approvals) == 0 || q.Approvals[0].Request == nil):
			t.Errorf("%s: requires approval, run_query answered %v %q", name, ran.IsError, ran.Text)
		case (want == engine.ActionAllow || want == engine.ActionMask) && (policyError || q.Status == "approval_required"):
			t.Errorf("%s: %s, run_query answered %v %q", name, want, ran.IsError, ran.Text)
		}
	}
	t.Logf("%s: %d of %d cases compared", door.name, compared, eligible)
	if eligible == 0 || compared != eligible {
		t.Errorf("%d of %d cases compared through the front door", compared, eligible)
	}
}

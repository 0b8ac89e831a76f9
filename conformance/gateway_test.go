package conformance

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// recorder is the gateway's decider in this test: the engine, keeping the
// decisions it took so they can be compared with the engine's own.
type recorder struct {
	*engine.Engine
	mu   sync.Mutex
	seen []engine.Decision
}

func (r *recorder) Decide(ctx context.Context, in engine.Input) engine.Decision {
	d := r.Engine.Decide(ctx, in)
	r.mu.Lock()
	r.seen = append(r.seen, d)
	r.mu.Unlock()
	return d
}

func (r *recorder) take() []engine.Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}

// TestDecisions_throughGateway sends every decision case through the
// running gateway with the real gosnowflake driver, as the case's identity,
// and checks that the gateway took the same decision as the engine does
// directly, and that the client saw it: deny as 003001, require_approval as
// a 003002 ticket, allow and mask without a policy error.
func TestDecisions_throughGateway(t *testing.T) {
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	cases, err := LoadDecisionCases("decisions")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	direct, err := engine.New(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	st, err := devstack.Start(ctx, devstack.Options{
		ApprovalMode: "ticket",
		WrapDecider:  func(e *engine.Engine) proxy.Decider { rec.Engine = e; return rec },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	conns := map[string]*sql.Conn{}
	fresh := 0
	conn := func(as, database, schema string, isFresh bool) *sql.Conn {
		key := as + "/" + database + "/" + schema
		if isFresh {
			fresh++
			key += fmt.Sprintf("/fresh-%d", fresh)
		}
		if c, ok := conns[key]; ok {
			return c
		}
		tok, err := st.Issuer.Token(as)
		if err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(st.GatewayAddr)
		path := ""
		if database != "" {
			path = "/" + database
			if schema != "" {
				path += "/" + schema
			}
		}
		cfg, err := sf.ParseDSN(fmt.Sprintf("%s:%s%s?account=snowgate&protocol=http&authenticator=oauth&token=%s", host, port, path, tok))
		if err != nil {
			t.Fatal(err)
		}
		c, err := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg)).Conn(ctx)
		if err != nil {
			t.Fatalf("connect as %s: %v", as, err)
		}
		conns[key] = c
		return c
	}

	same, compared := 0, 0
	var pyJobs []pyJob
	for _, r := range RunDecisions(ctx, cases, direct) {
		c := r.Case
		if r.Skipped != "" || !r.Passed() || c.NoCatalog {
			continue // TestDecisions reports these; the gateway always has a catalog
		}
		as := c.As
		if as == "" {
			as = "analyst"
		}
		for _, q := range c.Setup {
			if _, err := conn("admin", "", "", false).ExecContext(ctx, q); err != nil {
				t.Fatalf("%s/%s: setup %s: %v", c.File, c.Name, q, err)
			}
		}
		rec.take()
		qctx, _ := sf.WithMultiStatement(ctx, 0)
		_, err := conn(as, c.Database, c.Schema, c.FreshSession).ExecContext(qctx, c.SQL)
		got := rec.take()
		idx := 0
		if c.Statement != nil {
			idx = *c.Statement
		}
		if idx >= len(got) {
			t.Errorf("%s/%s: the gateway took %d decisions, the case needs statement %d (client error: %v)", c.File, c.Name, len(got), idx, err)
			continue
		}
		compared++
		d := got[idx]
		if fails := c.Expect.compare(d); len(fails) > 0 {
			t.Errorf("%s/%s: through the gateway: %v\n  sql: %s", c.File, c.Name, fails, c.SQL)
			continue
		}
		if d.Action != r.Got.Action || strings.Join(d.Reasons, "|") != strings.Join(r.Got.Reasons, "|") {
			t.Errorf("%s/%s: gateway decided %s %q, engine %s %q", c.File, c.Name, d.Action, d.Reasons, r.Got.Action, r.Got.Reasons)
			continue
		}
		if idx == len(got)-1 {
			var se *sf.SnowflakeError
			code := 0
			if errors.As(err, &se) {
				code = se.Number
			}
			want := map[engine.Action]int{engine.ActionDeny: 3001, engine.ActionRequireApproval: 3002}[d.Action]
			if (want != 0 && code != want) || (want == 0 && code >= 3001 && code <= 3005) {
				t.Errorf("%s/%s: decision %s, client saw %v", c.File, c.Name, d.Action, err)
				continue
			}
		}
		same++
		if c.Statement == nil && (d.Action != engine.ActionAllow || isRead(c.SQL)) {
			tok, err := st.Issuer.Token(as)
			if err != nil {
				t.Fatal(err)
			}
			pyJobs = append(pyJobs, pyJob{Case: c, Action: d.Action, SQL: c.SQL, Token: tok, Fresh: c.FreshSession})
		}
	}
	t.Logf("%d cases compared through the gateway, %d the same both ways", compared, same)
	checkPython(t, st.GatewayAddr, pyJobs)
	if compared < MinDecisionCases {
		t.Errorf("only %d cases compared through the gateway, want at least %d", compared, MinDecisionCases)
	}
}

// pyJob is a decision case for the Python connector.
type pyJob struct {
	Case   DecisionCase  `json:"-"`
	Action engine.Action `json:"-"`
	SQL    string        `json:"sql"`
	Token  string        `json:"token"`
	Fresh  bool          `json:"fresh,omitempty"`
}

// isRead reports whether a case's statement only reads, so running it once
// more changes nothing.
func isRead(sql string) bool {
	w := strings.ToUpper(strings.TrimSpace(sql))
	return strings.HasPrefix(w, "SELECT") || strings.HasPrefix(w, "WITH")
}

// checkPython runs the cases through the gateway once more with
// snowflake-connector-python, as the Python tools agents use do: a denial
// is error 3001, an approval ticket 3002, and an allowed or masked read
// runs without a policy error.
func checkPython(t *testing.T, addr string, jobs []pyJob) {
	t.Helper()
	for k, res := range runPython(t, addr, jobs, len(jobs)) {
		j := jobs[k]
		want := map[engine.Action]int{engine.ActionDeny: 3001, engine.ActionRequireApproval: 3002}[j.Action]
		code := 0
		if res.Code != nil {
			code = *res.Code
		}
		if (want != 0 && code != want) || (want == 0 && code >= 3001 && code <= 3005) {
			t.Errorf("%s/%s: decision %s, the Python connector saw %d %s", j.Case.File, j.Case.Name, j.Action, code, res.Error)
		}
	}
	t.Logf("%d cases checked with the Python connector", len(jobs))
}

// pyResult is what python_rows.py answers for one statement: its rows,
// every value as [Python type name, str(value) or null], or its error.
type pyResult struct {
	Rows  [][][2]*string
	Error string
	Code  *int
}

// runPython runs n statements (jobs, a JSON list of {sql, token, fresh})
// through the gateway at addr with snowflake-connector-python.
func runPython(t *testing.T, addr string, jobs any, n int) []pyResult {
	t.Helper()
	py := os.Getenv("SNOWGATE_PYTHON")
	if py == "" {
		t.Fatal("SNOWGATE_PYTHON is not set: run the tests with `make test`")
	}
	host, port, _ := net.SplitHostPort(addr)
	in, _ := json.Marshal(jobs)
	cmd := exec.Command(py, "../proxy/testdata/clients/python_rows.py")
	cmd.Env = append(os.Environ(), "SNOWGATE_HOST="+host, "SNOWGATE_PORT="+port)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var results []pyResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != n {
		t.Fatalf("python answered %d results (%v) for %d statements", len(results), err, n)
	}
	return results
}

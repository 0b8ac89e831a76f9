// Package clients_test runs the clients agents use — Snowflake's MCP
// server, LangChain's SQLDatabase, dbt, the Snowflake CLI and pandas —
// unmodified, as subprocesses, against the dev stack with the default
// policy library, the way a new user would point them at snowgate.
//
// Each client comes from its own environment that `make deps` installs
// into .cache/ and `make test` names:
//
//	SNOWGATE_MCP_PYTHON        Python with snowflake-labs-mcp and the mcp SDK
//	SNOWGATE_LANGCHAIN_PYTHON  Python with langchain-community, snowflake-sqlalchemy, the connector with pandas
//	SNOWGATE_DBT               dbt with dbt-snowflake
//	SNOWGATE_SNOW              the Snowflake CLI
//
// make test sets them; to run these tests alone, from the repository root:
//
//	make deps
//	SNOWGATE_MCP_PYTHON=$PWD/.cache/mcp/bin/python SNOWGATE_LANGCHAIN_PYTHON=$PWD/.cache/langchain/bin/python \
//	SNOWGATE_DBT=$PWD/.cache/dbt/bin/dbt SNOWGATE_SNOW=$PWD/.cache/snowcli/bin/snow go test ./clients/
//
// A test whose client is missing fails and says so; none is skipped.
package clients_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// The first customer of the stand-in's sample, as it is stored and as an
// identity without PII clearance sees it.
const (
	customer1Name        = "Ada Knuth"
	customer1Email       = "pixel43150@icloud.com"
	customer1SSN         = "550-75-3203"
	customer1MaskedEmail = "****@icloud.com"
	maskedSSN            = "********"
)

// stack is the dev stack a test runs its client against.
type stack struct {
	*devstack.Stack
	t          *testing.T
	host, port string
}

// startStack starts the dev stack on free loopback ports with the default
// policy library and the default approval mode (the policy picks tickets
// for agents, holds for people).
func startStack(t *testing.T) *stack {
	t.Helper()
	st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: ""})
	if err != nil {
		t.Fatalf("start dev stack: %v", err)
	}
	t.Cleanup(st.Close)
	host, port, _ := net.SplitHostPort(st.GatewayAddr)
	s := &stack{Stack: st, t: t, host: host, port: port}
	// A failing test shows every statement its client sent, what the
	// policy decided and how it ended (cleanups run last-in first-out: this
	// one before the stack closes).
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("statements the gateway saw:\n%s", s.trail())
		}
	})
	return s
}

// trail lists the statements of the audit trail with their decisions and
// outcomes, one a line.
func (s *stack) trail() string {
	time.Sleep(2 * audit.DeferredFlush) // outcomes are written a moment after their statements
	var b strings.Builder
	byRequest := map[string]int{}
	var lines []string
	for _, e := range s.events(audit.TypeSessionStart, audit.TypeStatement, audit.TypeOutcome) {
		switch {
		case e.Type == audit.TypeSessionStart && e.Client != nil:
			who := e.Identity.Subject
			if e.Identity.Agent != "" {
				who += " via " + e.Identity.Agent
			}
			lines = append(lines, fmt.Sprintf("session %s: %s from %s %s", e.SessionID, who, e.Client.App, e.Client.Version))
		case e.Type == audit.TypeStatement && e.Statement != nil && e.Decision != nil:
			l := fmt.Sprintf("  %s → %s", strings.Join(strings.Fields(e.Statement.SQL), " "), e.Decision.Action)
			if e.Decision.Action == "deny" || e.Decision.Action == "require_approval" {
				l += " (" + strings.Join(e.Decision.Reasons, "; ") + ")"
			}
			byRequest[e.RequestID] = len(lines)
			lines = append(lines, l)
		case e.Type == audit.TypeOutcome && e.Outcome != nil && e.Outcome.ErrorCode != "":
			if i, ok := byRequest[e.RequestID]; ok {
				lines[i] += fmt.Sprintf(" → failed %s: %s", e.Outcome.ErrorCode, strings.Join(strings.Fields(e.Outcome.ErrorMessage), " "))
			}
		}
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// token is a dev issuer token for a demo identity.
func (s *stack) token(as string) string {
	s.t.Helper()
	tok, err := s.Issuer.Token(as)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// page is the approvals page an approval-required error points to.
func (s *stack) page() string { return "http://" + s.AdminAddr + "/" }

// awaitPending waits for a pending approval request whose SQL contains
// sql and returns it.
func (s *stack) awaitPending(sql string, within time.Duration) *approval.Request {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		rs, err := s.Approvals.List(context.Background(), approval.Pending)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, r := range rs {
			if strings.Contains(strings.ToLower(r.SQL), strings.ToLower(sql)) {
				return r
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, r := range rs {
				got = append(got, r.SQL)
			}
			s.t.Fatalf("no pending approval request for %q within %v (pending: %q)", sql, within, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// approve approves a request through the approvals API as the approver.
func (s *stack) approve(id, reason string) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]string{"reason": reason})
	req, _ := http.NewRequest("POST", "http://"+s.AdminAddr+"/api/v1/approvals/"+id+"/approve", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token("approver"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var out bytes.Buffer
		_, _ = out.ReadFrom(resp.Body)
		s.t.Fatalf("approve %s: HTTP %d %s", id, resp.StatusCode, out.String())
	}
}

// events returns the audit trail's events of the given types, in order.
func (s *stack) events(types ...string) []audit.Event {
	s.t.Helper()
	var evs []audit.Event
	err := s.Audit.Store().Scan(context.Background(), audit.Filter{Types: types}, func(r audit.Record) error {
		env, err := r.Decode()
		if err != nil {
			return err
		}
		evs = append(evs, env.Event)
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return evs
}

// statementsOf returns the SQL of the statements the audit trail recorded
// for a session, with the action decided on each.
func (s *stack) statementsOf(session string) []string {
	s.t.Helper()
	var out []string
	for _, e := range s.events(audit.TypeStatement) {
		if e.SessionID == session && e.Statement != nil && e.Decision != nil {
			out = append(out, e.Statement.SQL+" → "+e.Decision.Action)
		}
	}
	return out
}

// clientPath is the client executable an environment variable names; the
// test fails, saying how to get it, when the variable is unset.
func clientPath(t *testing.T, name, what string) string {
	t.Helper()
	p := os.Getenv(name)
	if p == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which installs %s into .cache/ (make deps)", name, what)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s=%s: %v (run make deps)", name, p, err)
	}
	return p
}

// testdata is the absolute path of a file under testdata/.
func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// result is what a client subprocess did.
type result struct {
	stdout, stderr string
	err            error
	took           time.Duration
}

func (r result) String() string {
	return "exit: " + errString(r.err) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

func errString(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}

// clientEnv is the environment every client runs with: the caller's, with
// a home of its own so no user configuration or cache leaks in or out,
// without the cloud platform probes drivers make at login and without
// usage reports or update checks.
func clientEnv(t *testing.T, extra ...string) []string {
	home := t.TempDir()
	env := append(os.Environ(),
		"HOME="+home,
		"SNOWFLAKE_HOME="+filepath.Join(home, ".snowflake"),
		"SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true",
		"DBT_SEND_ANONYMOUS_USAGE_STATS=false",
		"DO_NOT_TRACK=1",
		"FASTMCP_CHECK_FOR_UPDATES=off",
		"FASTMCP_SHOW_CLI_BANNER=false",
		"PYTHONUNBUFFERED=1",
		"NO_COLOR=1",
	)
	return append(env, extra...)
}

// run runs a client to completion within timeout.
func run(t *testing.T, timeout time.Duration, env []string, dir string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), err: err, took: time.Since(start)}
	if ctx.Err() != nil {
		r.err = ctx.Err()
	}
	return r
}

// proc is a client running in the background.
type proc struct {
	finished chan struct{}
	res      result
}

// wait waits for the client to end.
func (p *proc) wait() result { <-p.finished; return p.res }

// running tells whether the client is still running.
func (p *proc) running() bool {
	select {
	case <-p.finished:
		return false
	default:
		return true
	}
}

// start starts a client in the background; it is stopped when the test
// ends.
func start(t *testing.T, timeout time.Duration, env []string, dir string, name string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	p := &proc{finished: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		p.res = result{stdout: stdout.String(), stderr: stderr.String(), err: err, took: time.Since(begin)}
		close(p.finished)
	}()
	t.Cleanup(func() { cancel(); <-p.finished })
	return p
}

// step is one step a scripted client took: what it returned or the error
// it raised.
type step struct {
	Step  string          `json:"step"`
	OK    bool            `json:"ok"`
	Value json.RawMessage `json:"value"`
	Error string          `json:"error"`
}

// steps decodes a scripted client's JSON lines; other output is ignored.
func steps(t *testing.T, r result) map[string]step {
	t.Helper()
	out := map[string]step{}
	for _, line := range strings.Split(r.stdout, "\n") {
		var s step
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &s) == nil && s.Step != "" {
			out[s.Step] = s
		}
	}
	return out
}

// scripted runs a client script from testdata in the LangChain
// environment as a demo identity through the operations given, and returns
// its steps once it has connected.
func scripted(t *testing.T, s *stack, as, script string, ops ...[]any) map[string]step {
	t.Helper()
	env, argv := scriptCmd(t, s, as, script, ops...)
	return connected(t, script, as, run(t, 3*time.Minute, env, "", argv[0], argv[1:]...))
}

// scriptCmd is the environment and command line of a client script.
func scriptCmd(t *testing.T, s *stack, as, script string, ops ...[]any) (env, argv []string) {
	t.Helper()
	py := clientPath(t, "SNOWGATE_LANGCHAIN_PYTHON", "langchain-community, snowflake-sqlalchemy and the connector with pandas")
	b, _ := json.Marshal(ops)
	env = clientEnv(t, "SNOWGATE_HOST="+s.host, "SNOWGATE_PORT="+s.port, "SNOWGATE_TOKEN="+s.token(as), "SNOWGATE_USER="+as)
	return env, []string{py, testdata(t, script), string(b)}
}

// connected returns a client script's steps, failing the test when it
// could not connect.
func connected(t *testing.T, script, as string, r result) map[string]step {
	t.Helper()
	got := steps(t, r)
	if c, ok := got["connect"]; !ok || !c.OK {
		t.Fatalf("%s as %s could not connect: %s\n%s", script, as, c.Error, r)
	}
	return got
}

// value is a successful step's value as a string.
func (st step) value(t *testing.T) string {
	t.Helper()
	if !st.OK {
		t.Fatalf("%s failed: %s", st.Step, st.Error)
	}
	var s string
	if json.Unmarshal(st.Value, &s) == nil {
		return s
	}
	return string(st.Value)
}

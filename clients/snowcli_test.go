package clients_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snowCLI is the Snowflake CLI with a config.toml of its own whose
// connections (one per demo identity given) point at the gateway.
type snowCLI struct {
	t    *testing.T
	bin  string
	env  []string
	home string
}

func newSnowCLI(t *testing.T, s *stack, identities ...string) *snowCLI {
	t.Helper()
	c := &snowCLI{t: t, bin: clientPath(t, "SNOWGATE_SNOW", "the Snowflake CLI")}
	c.home = filepath.Join(t.TempDir(), "snowflake")
	c.env = clientEnv(t, "SNOWFLAKE_HOME="+c.home) // the last SNOWFLAKE_HOME wins
	var b strings.Builder
	for _, as := range identities {
		fmt.Fprintf(&b, `[connections.%s]
account = "snowgate"
host = %q
port = %s
protocol = "http"
authenticator = "oauth"
token = %q
database = "DEMO"
schema = "PUBLIC"

`, as, s.host, s.port, s.token(as))
	}
	if err := os.MkdirAll(c.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.home, "config.toml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *snowCLI) run(args ...string) result {
	c.t.Helper()
	return run(c.t, 3*time.Minute, c.env, "", c.bin, args...)
}

// rows decodes the JSON rows of a successful snow sql.
func (c *snowCLI) rows(r result) []map[string]any {
	c.t.Helper()
	if r.err != nil {
		c.t.Fatalf("snow sql failed:\n%s", r)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		c.t.Fatalf("snow sql printed no JSON rows (%v):\n%s", err, r)
	}
	return rows
}

// TestSnowCLI runs `snow sql` with a temporary connection given on the
// command line and with connections from config.toml: rows, PII masked for
// the agent and clear for the admin, a denial whose reason reaches the
// terminal, and a person's statement that needs
// approval held until it is approved.
func TestSnowCLI(t *testing.T) {
	s := startStack(t)
	cli := newSnowCLI(t, s, "agent", "admin", "analyst")
	const customers = "select id, name, email, ssn from customers order by id limit 3"

	t.Run("temporary connection", func(t *testing.T) {
		rows := cli.rows(cli.run("sql", "-q", customers, "--format", "json", "--temporary-connection",
			"--account", "snowgate", "--host", s.host, "--port", s.port, "--protocol", "http",
			"--authenticator", "oauth", "--token", s.token("agent"), "--database", "DEMO", "--schema", "PUBLIC"))
		if len(rows) != 3 || rows[0]["NAME"] != customer1Name || rows[0]["EMAIL"] != customer1MaskedEmail || rows[0]["SSN"] != maskedSSN {
			t.Errorf("customers as the agent: %v; want %s, %s, %s first", rows, customer1Name, customer1MaskedEmail, maskedSSN)
		}
	})
	t.Run("config.toml", func(t *testing.T) {
		rows := cli.rows(cli.run("sql", "-c", "agent", "-q", "select count(*) as n from orders", "--format", "json"))
		if len(rows) != 1 || fmt.Sprint(rows[0]["N"]) != "1000" {
			t.Errorf("count as the agent: %v", rows)
		}
		rows = cli.rows(cli.run("sql", "-c", "admin", "-q", customers, "--format", "json"))
		if len(rows) != 3 || rows[0]["EMAIL"] != customer1Email || rows[0]["SSN"] != customer1SSN {
			t.Errorf("customers as the admin: %v; want %s, %s first", rows, customer1Email, customer1SSN)
		}
	})
	t.Run("denied", func(t *testing.T) {
		r := cli.run("sql", "-c", "agent", "-q", "GRANT ROLE SYSADMIN TO USER mallory")
		if r.err == nil {
			t.Errorf("snow sql exited 0 on a denied statement:\n%s", r)
		}
		out := stripBox(r.stdout + r.stderr)
		for _, want := range []string{"003001", "GRANT is not allowed through the gateway", "decision "} {
			if !strings.Contains(out, want) {
				t.Errorf("snow sql's output lacks %q:\n%s", want, r)
			}
		}
	})
	t.Run("held, then approved", func(t *testing.T) {
		p := start(t, 3*time.Minute, cli.env, "", cli.bin, "sql", "-c", "analyst", "-q", "DELETE FROM orders", "--format", "json")
		req := s.awaitPending("DELETE FROM orders", time.Minute)
		if req.Requester.Subject != "u-1001" || req.Requester.Agent != "" {
			t.Errorf("request %s by %+v, want the analyst in person", req.ID, req.Requester)
		}
		time.Sleep(time.Second)
		if !p.running() {
			t.Fatalf("snow sql ended before the approval:\n%s", p.wait())
		}
		s.approve(req.ID, "reload")
		rows := cli.rows(p.wait())
		if len(rows) != 1 || fmt.Sprint(rows[0]["number of rows deleted"]) != "1000" {
			t.Errorf("DELETE FROM orders after approval: %v, want 1000 rows deleted", rows)
		}
	})
}

// stripBox joins the lines of the CLI's error box into one line of text.
func stripBox(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.Trim(strings.TrimSpace(l), "│╭╮╰╯─")
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

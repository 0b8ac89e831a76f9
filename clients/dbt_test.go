package clients_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy/audit"
)

// dbtProject copies testdata/dbt (dbt writes target/ and logs/ into its
// project) and writes a profiles.yml beside it whose targets connect to the
// gateway as the engineer (the default) and as the admin, the way
// dbt-snowflake's documentation has a user write one: account, host, port,
// protocol, authenticator oauth and the token.
func dbtProject(t *testing.T, s *stack) string {
	t.Helper()
	dir := t.TempDir()
	src := testdata(t, "dbt")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	target := func(name, as, database, schema string) string {
		return fmt.Sprintf(`    %s:
      type: snowflake
      account: snowgate
      host: %s
      port: %s
      protocol: http
      authenticator: oauth
      token: %q
      user: %s
      database: %s
      schema: %s
      warehouse: ANALYTICS_WH
      threads: 1
`, name, s.host, s.port, s.token(as), as, database, schema)
	}
	profiles := "snowgate:\n  target: engineer\n  outputs:\n" + target("engineer", "engineer", "DEMO", "DBT_ENG") + target("admin", "admin", "DEMO", "DBT_ADMIN") +
		// dbt's service identity, in its workspace and outside it
		target("dbt", "dbt", "ANALYTICS", "DBT") + target("dbt_outside", "dbt", "DEMO", "PUBLIC")
	if err := os.WriteFile(filepath.Join(dir, "profiles.yml"), []byte(profiles), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dbtArgs are the arguments of a dbt command run in the project.
func dbtArgs(dir string, args ...string) []string {
	return append(args, "--project-dir", dir, "--profiles-dir", dir)
}

func dbtEnv(t *testing.T) []string { return clientEnv(t, "DBT_USE_COLORS=false") }

// dbt runs a dbt command in the project.
func dbt(t *testing.T, dir string, args ...string) result {
	t.Helper()
	bin := clientPath(t, "SNOWGATE_DBT", "dbt-core with dbt-snowflake")
	return run(t, 5*time.Minute, dbtEnv(t), dir, bin, dbtArgs(dir, args...)...)
}

// dbtShow previews a query with dbt show and returns its rows.
func dbtShow(t *testing.T, dir, target, sql string) []map[string]any {
	t.Helper()
	r := dbt(t, dir, "--quiet", "show", "--inline", sql, "--limit", "3", "--output", "json", "--target", target)
	if r.err != nil {
		t.Fatalf("dbt show as %s: %v\n%s", target, r.err, r)
	}
	i := strings.Index(r.stdout, "{")
	var out struct {
		Show []map[string]any `json:"show"`
	}
	if i < 0 || json.Unmarshal([]byte(r.stdout[i:]), &out) != nil {
		t.Fatalf("dbt show printed no JSON rows:\n%s", r)
	}
	return out.Show
}

// TestDBT_debug: dbt debug connects through the gateway and passes.
func TestDBT_debug(t *testing.T) {
	s := startStack(t)
	dir := dbtProject(t, s)
	r := dbt(t, dir, "debug")
	if r.err != nil || !strings.Contains(r.stdout, "All checks passed!") {
		t.Fatalf("dbt debug:\n%s", r)
	}
}

// TestDBT_denied: a macro that grants a privileged role, run with dbt
// run-operation, is denied, and the reason reaches dbt's output.
func TestDBT_denied(t *testing.T) {
	s := startStack(t)
	dir := dbtProject(t, s)
	r := dbt(t, dir, "run-operation", "grant_sysadmin", "--args", "{user: mallory}")
	if r.err == nil {
		t.Fatalf("GRANT ROLE SYSADMIN through dbt run-operation succeeded:\n%s", r)
	}
	for _, want := range []string{"003001", "GRANT is not allowed through the gateway", "decision "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dbt's output lacks %q:\n%s", want, r)
		}
	}
}

// TestDBT_runAndTest builds the project as the engineer (a view and a table
// model over DEMO.PUBLIC.ORDERS), tests it, previews PII masked for the
// engineer and clear for the admin, and builds it again: replacing the
// models that now exist in a production database needs approval, so the
// second run is held until an approver approves each replacement.
func TestDBT_runAndTest(t *testing.T) {
	s := startStack(t)
	dir := dbtProject(t, s)

	r := dbt(t, dir, "run")
	if r.err != nil || !strings.Contains(r.stdout, "PASS=2") {
		t.Fatalf("dbt run:\n%s", r)
	}
	r = dbt(t, dir, "test")
	if r.err != nil || !strings.Contains(r.stdout, "PASS=3") {
		t.Fatalf("dbt test:\n%s", r)
	}

	rows := dbtShow(t, dir, "engineer", "select customer_id, orders, total from {{ ref('orders_by_customer') }} order by customer_id")
	if len(rows) != 3 || fmt.Sprint(rows[0]["CUSTOMER_ID"]) != "1" {
		t.Errorf("orders_by_customer: %v", rows)
	}
	const customers = "select name, email, ssn from DEMO.PUBLIC.CUSTOMERS order by id"
	if rows := dbtShow(t, dir, "engineer", customers); len(rows) == 0 || rows[0]["EMAIL"] != customer1MaskedEmail || rows[0]["SSN"] != maskedSSN {
		t.Errorf("customers as the engineer: %v; want EMAIL %q, SSN %q", rows, customer1MaskedEmail, maskedSSN)
	}
	if rows := dbtShow(t, dir, "admin", customers); len(rows) == 0 || rows[0]["EMAIL"] != customer1Email || rows[0]["SSN"] != customer1SSN {
		t.Errorf("customers as the admin: %v; want EMAIL %q, SSN %q", rows, customer1Email, customer1SSN)
	}

	// The second build replaces both models: each replacement is held.
	p := start(t, 5*time.Minute, dbtEnv(t), dir, clientPath(t, "SNOWGATE_DBT", "dbt"), dbtArgs(dir, "run")...)
	for _, model := range []string{"orders_view", "orders_by_customer"} {
		req := s.awaitPending(model, 2*time.Minute)
		if !strings.Contains(strings.ToLower(req.SQL), "create or replace") || req.Requester.Subject != "u-4001" {
			t.Errorf("request %s: %q by %+v; want the engineer's create or replace of %s", req.ID, req.SQL, req.Requester, model)
		}
		s.approve(req.ID, "rebuild "+model)
	}
	if r := p.wait(); r.err != nil || !strings.Contains(r.stdout, "PASS=2") {
		t.Fatalf("second dbt run, approved:\n%s", r)
	}
}

// TestDBT_serviceWorkspace builds the project as dbt's service identity in
// its workspace (the default library's workspaces: ANALYTICS.DBT for the
// group dbt-service): the first build and the rebuild, which replaces both
// models, run without a single approval; the same project pointed at a
// schema outside the workspace is denied, with the reason.
func TestDBT_serviceWorkspace(t *testing.T) {
	s := startStack(t)
	dir := dbtProject(t, s)
	for _, run := range []string{"first", "rebuild"} {
		r := dbt(t, dir, "run", "--target", "dbt")
		if r.err != nil || !strings.Contains(r.stdout, "PASS=2") {
			t.Fatalf("%s dbt run in the workspace:\n%s", run, r)
		}
	}
	if r := dbt(t, dir, "test", "--target", "dbt"); r.err != nil || !strings.Contains(r.stdout, "PASS=3") {
		t.Fatalf("dbt test in the workspace:\n%s", r)
	}
	for _, e := range s.events(audit.TypeStatement) {
		if e.Decision != nil && e.Decision.Action == "require_approval" {
			t.Errorf("held in the workspace: %s", e.Statement.SQL)
		}
	}
	rows := dbtShow(t, dir, "dbt", "select count(*) as n from ANALYTICS.DBT.ORDERS_BY_CUSTOMER")
	if len(rows) != 1 || fmt.Sprint(rows[0]["N"]) == "0" {
		t.Errorf("ANALYTICS.DBT.ORDERS_BY_CUSTOMER: %v", rows)
	}

	r := dbt(t, dir, "run", "--target", "dbt_outside")
	if r.err == nil {
		t.Fatalf("dbt built outside its workspace:\n%s", r)
	}
	for _, want := range []string{"003001", "workspace dbt may change objects only in ANALYTICS.DBT, DEV.DBT"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the failed run does not say %q:\n%s", want, r)
		}
	}
}

package proxy_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/internal/pgtest"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/classify"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/identity"
)

// pairs reads a query's rows as "ID=VALUE" strings, in order.
func pairs(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, v sql.NullString
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, id.String+"="+v.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rows", query)
	}
	return out
}

func classifyExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func sameRows(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// TestClassify_followsCopies: a cleared admin copies CUSTOMERS.EMAIL into a
// table (CTAS), a view (an expression of it), an existing table (INSERT ...
// SELECT by position) and a copy of the copy; the uncleared analyst and
// agent read every one masked, exactly as they read the original, across a
// restart of the gateway on the same data directory, until the copy's
// classification is forgotten.
func TestClassify_followsCopies(t *testing.T) {
	dir := t.TempDir()
	start := func() *devstack.Stack {
		st, err := devstack.Start(context.Background(), devstack.Options{DataDir: dir})
		if err != nil {
			t.Fatalf("start dev stack: %v", err)
		}
		return st
	}
	st := start()
	var dbs []*sql.DB // closed before the stack they talk to
	open := func(st *devstack.Stack, as string) *sql.DB {
		db := openDB(t, st, as)
		dbs = append(dbs, db)
		return db
	}
	stop := func(st *devstack.Stack) {
		for _, db := range dbs {
			db.Close()
		}
		dbs = nil
		st.Close()
	}
	admin := open(st, "admin")
	raw := pairs(t, admin, "SELECT id, email FROM customers ORDER BY id")
	analyst := open(st, "analyst")
	masked := pairs(t, analyst, "SELECT id, email FROM customers ORDER BY id")
	if sameRows(raw, masked) {
		t.Fatalf("the analyst reads CUSTOMERS.EMAIL raw: %v", masked)
	}

	classifyExec(t, admin,
		"CREATE TABLE demo.public.emails_copy AS SELECT id, email FROM customers",
		"CREATE VIEW demo.public.emails_view AS SELECT id, upper(email) AS shout FROM customers",
		"CREATE TABLE demo.public.contacts (cid INTEGER, mail VARCHAR)",
		"INSERT INTO demo.public.contacts SELECT id, email FROM customers",
		"CREATE TABLE demo.public.emails_copy2 AS SELECT * FROM emails_copy",
	)
	if got := pairs(t, admin, "SELECT id, email FROM emails_copy ORDER BY id"); !sameRows(got, raw) {
		t.Fatalf("the cleared admin's copy differs from the original:\n%v\n%v", got, raw)
	}

	check := func(st *devstack.Stack) {
		t.Helper()
		for _, as := range []string{"analyst", "agent"} {
			db := open(st, as)
			if got := pairs(t, db, "SELECT id, email FROM emails_copy ORDER BY id"); !sameRows(got, masked) {
				t.Errorf("%s reads the CTAS copy as\n%v\nwant it masked like the original\n%v", as, got, masked)
			}
			if got := pairs(t, db, "SELECT cid, mail FROM contacts ORDER BY cid"); !sameRows(got, masked) {
				t.Errorf("%s reads the INSERT ... SELECT copy as\n%v\nwant\n%v", as, got, masked)
			}
			if got := pairs(t, db, "SELECT id, email FROM emails_copy2 ORDER BY id"); !sameRows(got, masked) {
				t.Errorf("%s reads the copy of the copy as\n%v\nwant\n%v", as, got, masked)
			}
			view := pairs(t, db, "SELECT id, shout FROM emails_view ORDER BY id")
			for i, v := range view {
				if strings.Contains(v, "@") || strings.EqualFold(v, raw[i]) {
					t.Errorf("%s reads the view's expression of EMAIL as %q, want it redacted", as, v)
				}
			}
			// The Python connector reads the copies masked the same way.
			py := pythonPairs(t, st, as, "SELECT id, email FROM emails_copy ORDER BY id", "SELECT cid, mail FROM contacts ORDER BY cid",
				"SELECT id, email FROM emails_copy2 ORDER BY id")
			for i, got := range py {
				if !sameRows(got, masked) {
					t.Errorf("%s with the Python connector, query %d, reads\n%v\nwant\n%v", as, i, got, masked)
				}
			}
			// Used where masking cannot protect it, the copy denies like the original.
			if _, err := db.Exec("SELECT id FROM emails_copy WHERE email = 'x@example.com'"); err == nil || !strings.Contains(err.Error(), "EMAILS_COPY.EMAIL is masked for you") {
				t.Errorf("%s filtering on the copy's EMAIL: %v", as, err)
			}
		}
	}
	check(st)

	// The trail says what each copy inherited, from what, and who copied.
	stop(st)
	trail, err := audit.OpenStore(context.Background(), filepath.Join(dir, "audit.db"), audit.StoreOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	err = trail.Scan(context.Background(), audit.Filter{Types: []string{audit.TypeClassification}}, func(rec audit.Record) error {
		env, err := rec.Decode()
		if err != nil {
			return err
		}
		for _, r := range env.Event.Classification.Records {
			found[r.Column+" "+r.Strategy+" "+strings.Join(r.From, "+")+" "+env.Event.Identity.Subject] = true
		}
		return nil
	})
	trail.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"DEMO.PUBLIC.EMAILS_COPY.EMAIL email_domain DEMO.PUBLIC.CUSTOMERS.EMAIL u-3001",
		"DEMO.PUBLIC.EMAILS_VIEW.SHOUT redact DEMO.PUBLIC.CUSTOMERS.EMAIL u-3001",
		"DEMO.PUBLIC.CONTACTS.MAIL email_domain DEMO.PUBLIC.CUSTOMERS.EMAIL u-3001",
		"DEMO.PUBLIC.EMAILS_COPY2.EMAIL email_domain DEMO.PUBLIC.EMAILS_COPY.EMAIL u-3001",
	} {
		if !found[want] {
			t.Errorf("the audit trail lacks %q; it has %v", want, found)
		}
	}

	// A restart on the same data directory keeps it all.
	st = start()
	defer func() { stop(st) }()
	check(st)

	// The policy input says where the classification came from.
	code, show := adminCall(t, st, "analyst", "GET", "/api/v1/classifications/demo.public.emails_copy", nil)
	eff, _ := show["effective"].(map[string]any)
	email, _ := eff["EMAIL"].(map[string]any)
	if code != http.StatusOK || email["strategy"] != "email_domain" || fmt.Sprint(email["from"]) != "[DEMO.PUBLIC.CUSTOMERS.EMAIL]" {
		t.Errorf("show: %d %v", code, show)
	}
	if v, ok, _ := st.Engine.Data(context.Background(), "snowgate/inherited/classifications/DEMO/PUBLIC/EMAILS_COPY/EMAIL/record"); !ok || !strings.HasPrefix(fmt.Sprint(v), "cls-") {
		t.Errorf("the policy's data lacks the record id: %v", v)
	}

	// Forgetting: not by the analyst; by a data steward, audited.
	if code, out := adminCall(t, st, "analyst", "POST", "/api/v1/classifications/DEMO.PUBLIC.EMAILS_COPY/forget", map[string]string{"reason": "mine"}); code != http.StatusForbidden {
		t.Errorf("the analyst forgot: %d %v", code, out)
	}
	if code, out := adminCall(t, st, "approver", "POST", "/api/v1/classifications/DEMO.PUBLIC.EMAILS_COPY/forget", map[string]string{"reason": "test data"}); code != http.StatusOK {
		t.Fatalf("forget: %d %v", code, out)
	}
	db := open(st, "analyst")
	if got := pairs(t, db, "SELECT id, email FROM emails_copy ORDER BY id"); !sameRows(got, raw) {
		t.Errorf("after forget the analyst reads\n%v\nwant the raw values\n%v", got, raw)
	}
	if got := pairs(t, db, "SELECT cid, mail FROM contacts ORDER BY cid"); !sameRows(got, masked) {
		t.Errorf("forgetting one copy changed another: %v", got)
	}
	if code, _ := adminCall(t, st, "approver", "POST", "/api/v1/classifications/DEMO.PUBLIC.EMAILS_COPY/forget", nil); code != http.StatusNotFound {
		t.Errorf("forget twice: %d", code)
	}
}

// TestClassify_uncleared: an uncleared caller cannot make an unmasked
// copy of a copy either.
func TestClassify_uncleared(t *testing.T) {
	st := startStack(t, "", proxy.Config{})
	classifyExec(t, openDB(t, st, "admin"), "CREATE TABLE demo.public.emails_copy AS SELECT id, email FROM customers")
	_, err := openDB(t, st, "engineer").Exec("CREATE TABLE demo.public.again AS SELECT email FROM emails_copy")
	if err == nil || !strings.Contains(err.Error(), "EMAILS_COPY.EMAIL is masked for you and cannot be copied") {
		t.Errorf("an uncleared copy of the copy: %v", err)
	}
}

// TestClassify_twoGatewaysOnPostgres: two gateway replicas over one
// upstream share the classifications store in PostgreSQL; a copy made
// through one is masked when read through the other.
func TestClassify_twoGatewaysOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t, "classify")
	st := startStack(t, "", proxy.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	verifier, err := identity.New([]identity.Issuer{{URL: st.Issuer.URL(), Audience: devidp.Audience}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{}
	for _, name := range []string{"gw-a", "gw-b"} {
		eng, err := engine.New(ctx, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		store, err := classify.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		svc, err := classify.New(ctx, classify.Config{Store: store, Policy: eng, PollInterval: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		go svc.Run(ctx)
		gw, err := proxy.New(proxy.Config{Name: name, Auth: verifier, Upstream: st.Standin, Decider: eng, Classifier: svc})
		if err != nil {
			t.Fatal(err)
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		srv := &http.Server{Handler: gw}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close(); gw.Close() })
		addrs[name] = ln.Addr().String()
	}
	classifyExec(t, openAt(t, st, addrs["gw-a"], "admin", "DEMO/PUBLIC"), "CREATE TABLE demo.public.ssn_copy AS SELECT id, ssn FROM customers")
	raw := pairs(t, openAt(t, st, addrs["gw-a"], "admin", "DEMO/PUBLIC"), "SELECT id, ssn FROM ssn_copy ORDER BY id")
	b := openAt(t, st, addrs["gw-b"], "analyst", "DEMO/PUBLIC")
	masked := pairs(t, b, "SELECT id, ssn FROM customers ORDER BY id")
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := pairs(t, b, "SELECT id, ssn FROM ssn_copy ORDER BY id")
		if sameRows(got, masked) {
			break
		}
		if !sameRows(got, raw) || time.Now().After(deadline) {
			t.Fatalf("gw-b serves the copy made through gw-a as\n%v\nwant\n%v", got, masked)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pythonPairs runs two-column queries as the demo identity through the
// gateway with snowflake-connector-python and reads each as "ID=VALUE".
func pythonPairs(t *testing.T, st *devstack.Stack, as string, queries ...string) [][]string {
	t.Helper()
	results := pythonResults(t, st, as, queries...)
	all := make([][]string, len(results))
	for i, r := range results {
		if r.Error != "" {
			t.Fatalf("python: %s: %s", queries[i], r.Error)
		}
		for _, row := range r.Rows {
			if len(row) != 2 || row[0][1] == nil {
				t.Fatalf("python: %s: row %v", queries[i], row)
			}
			v := ""
			if row[1][1] != nil {
				v = *row[1][1]
			}
			all[i] = append(all[i], *row[0][1]+"="+v)
		}
	}
	return all
}

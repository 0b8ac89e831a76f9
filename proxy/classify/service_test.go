package classify

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy/statement"
)

// policy is a Policy over a JSON document, as the engine would hold it.
type policy struct {
	mu   sync.Mutex
	data map[string]any
	sets int
}

const testConfig = `{"snowgate": {"config": {
	"classifications": {
		"DEMO": {"PUBLIC": {"CUSTOMERS": {
			"EMAIL": {"class": "pii", "strategy": "email_domain", "deny_in": ["filtered"]},
			"PHONE": {"class": "pii", "strategy": "partial", "deny_in": ["filtered"]},
			"SSN": {"class": "pii", "strategy": "redact"}}}},
		"PROD": {"HR": {"EMPLOYEES": {
			"SALARY": {"class": "hr", "strategy": "null"},
			"BANK_ACCOUNT": {"class": "pci", "strategy": "hash"}}}}},
	"masking": {"deny_in": ["filtered", "grouped"]}}}}`

func newPolicy(t *testing.T) *policy {
	var doc map[string]any
	if err := json.Unmarshal([]byte(testConfig), &doc); err != nil {
		t.Fatal(err)
	}
	return &policy{data: doc}
}

func (p *policy) Data(ctx context.Context, path string) (any, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var v any = p.data
	for _, k := range strings.Split(path, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		if v, ok = m[k]; !ok {
			return nil, false, nil
		}
	}
	return v, true, nil
}

func (p *policy) SetData(path string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sets++
	ks := strings.Split(path, "/")
	m := p.data
	for _, k := range ks[:len(ks)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[ks[len(ks)-1]] = v
	return nil
}

// inherited returns what the policy sees for a column, or nil.
func (p *policy) inherited(db, schema, table, col string) map[string]any {
	v, ok, _ := p.Data(context.Background(), InheritedPath+"/"+db+"/"+schema+"/"+table+"/"+col)
	if !ok {
		return nil
	}
	return v.(map[string]any)
}

type mapCatalog map[string][]string

func (m mapCatalog) Columns(_ context.Context, d, s, t string) ([]string, error) {
	return m[d+"."+s+"."+t], nil
}

// write analyses sql in DEMO.PUBLIC and returns it as a Write.
func write(t *testing.T, sql string, cat statement.Catalog) Write {
	t.Helper()
	env := statement.Env{Database: "DEMO", Schema: "PUBLIC"}
	if cat != nil {
		env.Catalog = cat
	}
	sts, err := statement.Analyze(context.Background(), sql, env)
	if err != nil || len(sts) != 1 {
		t.Fatalf("analyse %s: %v", sql, err)
	}
	if !sts[0].Parse.Complete {
		t.Fatalf("analyse %s: %s", sql, sts[0].Parse.Error)
	}
	return Write{Derived: sts[0].Derived, Catalog: cat, Origin: Origin{QueryID: "q-" + sts[0].Fingerprint[:6], SessionID: "7", By: Person{Subject: "u-3001"}, Kind: string(sts[0].Kind)}}
}

func newService(t *testing.T, store Store, p Policy) *Service {
	t.Helper()
	s, err := New(context.Background(), Config{Store: store, Policy: p, Now: func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func summary(e map[string]any) string {
	if e == nil {
		return "-"
	}
	var from []string
	for _, f := range e["from"].([]any) {
		from = append(from, f.(string))
	}
	s := e["class"].(string) + "/" + e["strategy"].(string)
	if d, ok := e["deny_in"]; ok {
		var ds []string
		for _, x := range d.([]any) {
			ds = append(ds, x.(string))
		}
		s += " deny_in=" + strings.Join(ds, ",")
	}
	return s + " from " + strings.Join(from, "+")
}

func TestService_inherits(t *testing.T) {
	ctx := context.Background()
	cat := mapCatalog{
		"DEMO.PUBLIC.CUSTOMERS": {"ID", "NAME", "EMAIL", "PHONE", "SSN"},
		"DEMO.PUBLIC.CONTACTS":  {"CID", "MAIL"},
		"DEMO.PUBLIC.E3":        {"ID", "EMAIL"},
	}
	for _, tc := range []struct {
		name  string
		sqls  []string
		check map[string]string // DB.SCHEMA.TABLE.COLUMN -> summary
	}{
		{"CTAS copies keep the strategy", []string{"CREATE TABLE e1 AS SELECT id, email, ssn FROM customers"}, map[string]string{
			"DEMO.PUBLIC.E1.EMAIL": "pii/email_domain deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.EMAIL",
			"DEMO.PUBLIC.E1.SSN":   "pii/redact from DEMO.PUBLIC.CUSTOMERS.SSN",
			"DEMO.PUBLIC.E1.ID":    "-",
		}},
		{"an expression is redacted", []string{"CREATE VIEW v (a, b) AS SELECT upper(email), phone FROM customers"}, map[string]string{
			"DEMO.PUBLIC.V.A": "pii/redact deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.EMAIL",
			"DEMO.PUBLIC.V.B": "pii/partial deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.PHONE",
		}},
		{"a copy of a copy", []string{
			"CREATE TABLE e1 AS SELECT id, email FROM customers",
			"CREATE TABLE e2 AS SELECT id, email AS mail FROM e1",
		}, map[string]string{
			"DEMO.PUBLIC.E2.MAIL": "pii/email_domain deny_in=filtered from DEMO.PUBLIC.E1.EMAIL",
		}},
		{"several sources: the strongest strategy, every class", []string{
			"CREATE TABLE mix AS SELECT concat(c.email, e.salary) AS x, coalesce(c.phone, c.ssn) AS y FROM customers c, prod.hr.employees e",
		}, map[string]string{
			"DEMO.PUBLIC.MIX.X": "hr+pii/null from DEMO.PUBLIC.CUSTOMERS.EMAIL+PROD.HR.EMPLOYEES.SALARY",
			"DEMO.PUBLIC.MIX.Y": "pii/redact from DEMO.PUBLIC.CUSTOMERS.PHONE+DEMO.PUBLIC.CUSTOMERS.SSN",
		}},
		{"hash stays hash for a copy only", []string{
			"CREATE TABLE acc AS SELECT bank_account, md5(bank_account) AS h FROM prod.hr.employees",
		}, map[string]string{
			"DEMO.PUBLIC.ACC.BANK_ACCOUNT": "pci/hash from PROD.HR.EMPLOYEES.BANK_ACCOUNT",
			"DEMO.PUBLIC.ACC.H":            "pci/redact from PROD.HR.EMPLOYEES.BANK_ACCOUNT",
		}},
		{"positional INSERT through the catalog", []string{"INSERT INTO contacts SELECT id, email FROM customers"}, map[string]string{
			"DEMO.PUBLIC.CONTACTS.MAIL": "pii/email_domain deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.EMAIL",
			"DEMO.PUBLIC.CONTACTS.CID":  "-",
		}},
		{"MERGE", []string{"MERGE INTO contacts c USING customers s ON c.cid = s.id WHEN MATCHED THEN UPDATE SET mail = s.email WHEN NOT MATCHED THEN INSERT (cid, mail) VALUES (s.id, s.ssn)"}, map[string]string{
			"DEMO.PUBLIC.CONTACTS.MAIL": "pii/redact from DEMO.PUBLIC.CUSTOMERS.EMAIL+DEMO.PUBLIC.CUSTOMERS.SSN",
		}},
		{"a multi-table INSERT: any column", []string{"INSERT ALL INTO contacts (cid, mail) VALUES (id, email) SELECT id, email FROM customers"}, map[string]string{
			"DEMO.PUBLIC.CONTACTS.MAIL": "pii/email_domain deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.EMAIL",
			"DEMO.PUBLIC.CONTACTS.CID":  "pii/email_domain deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.EMAIL",
		}},
		{"CLONE carries every classified column", []string{"CREATE TABLE c2 CLONE customers"}, map[string]string{
			"DEMO.PUBLIC.C2.EMAIL": "pii/email_domain deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.EMAIL",
			"DEMO.PUBLIC.C2.PHONE": "pii/partial deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.PHONE",
			"DEMO.PUBLIC.C2.SSN":   "pii/redact from DEMO.PUBLIC.CUSTOMERS.SSN",
		}},
		{"RENAME and SWAP", []string{
			"CREATE TABLE e1 AS SELECT id, email FROM customers",
			"ALTER TABLE e1 RENAME TO e3",
			"ALTER TABLE e3 SWAP WITH contacts",
		}, map[string]string{
			"DEMO.PUBLIC.E3.EMAIL":       "pii/email_domain deny_in=filtered from DEMO.PUBLIC.E1.EMAIL",
			"DEMO.PUBLIC.CONTACTS.EMAIL": "pii/email_domain deny_in=filtered from DEMO.PUBLIC.E3.EMAIL",
		}},
		{"a schema clone", []string{"CREATE SCHEMA hr2 CLONE prod.hr"}, map[string]string{
			"DEMO.HR2.EMPLOYEES.SALARY": "hr/null from PROD.HR.EMPLOYEES.SALARY",
		}},
		{"RENAME COLUMN", []string{"ALTER TABLE customers RENAME COLUMN email TO contact"}, map[string]string{
			"DEMO.PUBLIC.CUSTOMERS.CONTACT": "pii/email_domain deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.EMAIL",
		}},
		{"unclassified data records nothing", []string{"CREATE TABLE n AS SELECT id, name FROM customers"}, map[string]string{
			"DEMO.PUBLIC.N.NAME": "-",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPolicy(t)
			svc := newService(t, NewMemory(), p)
			for _, sql := range tc.sqls {
				if _, err := svc.Record(ctx, write(t, sql, cat)); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			for key, want := range tc.check {
				k := strings.Split(key, ".")
				if got := summary(p.inherited(k[0], k[1], k[2], k[3])); got != want {
					t.Errorf("%s: got %s, want %s", key, got, want)
				}
			}
		})
	}
}

func TestService_unknownColumns(t *testing.T) {
	ctx := context.Background()
	p := newPolicy(t)
	svc := newService(t, NewMemory(), p)
	// No catalog: a positional INSERT into a table nobody can list.
	recs, err := svc.Record(ctx, write(t, "INSERT INTO somewhere SELECT id, email FROM customers", nil))
	if err != nil || len(recs) != 1 || recs[0].Target.Name != AnyColumn {
		t.Fatalf("records: %+v %v", recs, err)
	}
	if got := summary(p.inherited("DEMO", "PUBLIC", "SOMEWHERE", "*")); got != "pii/email_domain deny_in=filtered from DEMO.PUBLIC.CUSTOMERS.EMAIL" {
		t.Errorf("any column: %s", got)
	}
	// A copy of such a table inherits through "*".
	recs, err = svc.Record(ctx, write(t, "CREATE TABLE again AS SELECT x FROM somewhere", nil))
	if err != nil || len(recs) != 1 || recs[0].Target.Name != "X" {
		t.Fatalf("copy of an any-column table: %+v %v", recs, err)
	}
	// An untraced star over a classified table: every column, through the
	// catalog of the new view.
	cat := mapCatalog{"DEMO.PUBLIC.W": {"A", "B"}}
	w := write(t, "CREATE VIEW w AS SELECT * FROM customers", nil)
	w.Catalog = cat
	recs, err = svc.Record(ctx, w)
	if err != nil || len(recs) != 2 {
		t.Fatalf("untraced star: %+v %v", recs, err)
	}
	if got := summary(p.inherited("DEMO", "PUBLIC", "W", "A")); got != "pii/redact from DEMO.PUBLIC.CUSTOMERS.EMAIL+DEMO.PUBLIC.CUSTOMERS.PHONE+DEMO.PUBLIC.CUSTOMERS.SSN" {
		t.Errorf("untraced star: %s", got)
	}
}

func TestService_recordsOnceAndForgets(t *testing.T) {
	ctx := context.Background()
	for name, mk := range stores() {
		t.Run(name, func(t *testing.T) {
			open, _ := mk(t)
			store := open()
			p := newPolicy(t)
			var changes []Change
			svc, err := New(ctx, Config{Store: store, Policy: p, OnChange: func(_ context.Context, c Change) error { changes = append(changes, c); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			w := write(t, "INSERT INTO contacts (cid, mail) SELECT id, email FROM customers", nil)
			first, err := svc.Record(ctx, w)
			if err != nil || len(first) != 1 {
				t.Fatalf("first: %v %v", first, err)
			}
			if again, err := svc.Record(ctx, w); err != nil || len(again) != 0 {
				t.Errorf("the same write recorded again: %v %v", again, err)
			}
			e := p.inherited("DEMO", "PUBLIC", "CONTACTS", "MAIL")
			if e == nil || e["record"] != first[0].ID {
				t.Errorf("published entry: %v", e)
			}
			show, err := svc.Show(ctx, Target{"DEMO", "PUBLIC", "CONTACTS", ""})
			if err != nil || len(show.Records) != 1 || show.Effective["MAIL"].Strategy != "email_domain" || show.Records[0].Origin.By.Subject != "u-3001" {
				t.Errorf("show: %+v %v", show, err)
			}
			forgot, err := svc.Forget(ctx, Target{"DEMO", "PUBLIC", "CONTACTS", ""}, Person{Subject: "u-2001"}, "not PII after all")
			if err != nil || len(forgot) != 1 {
				t.Fatalf("forget: %v %v", forgot, err)
			}
			if e := p.inherited("DEMO", "PUBLIC", "CONTACTS", "MAIL"); e != nil {
				t.Errorf("still published after forget: %v", e)
			}
			if _, err := svc.Forget(ctx, Target{"DEMO", "PUBLIC", "CONTACTS", ""}, Person{Subject: "u-2001"}, ""); err != ErrNotFound {
				t.Errorf("forget twice: %v", err)
			}
			if all, _ := svc.List(ctx, true); len(all) != 1 || all[0].Active() {
				t.Errorf("history: %+v", all)
			}
			if active, _ := svc.List(ctx, false); len(active) != 0 {
				t.Errorf("active after forget: %+v", active)
			}
			if len(changes) != 2 || changes[0].Op != OpInherited || changes[1].Op != OpForgotten || changes[1].Forgotten.Reason != "not PII after all" {
				t.Errorf("changes: %+v", changes)
			}
			// Recording again after a forget is a new record.
			if again, err := svc.Record(ctx, w); err != nil || len(again) != 1 {
				t.Errorf("after forget: %v %v", again, err)
			}
		})
	}
}

// TestService_replicas: two services on one store (two gateways on one
// PostgreSQL, or one restarted on its SQLite file) see each other's
// records: at start, on Refresh (Run polls it), and before deriving.
func TestService_replicas(t *testing.T) {
	ctx := context.Background()
	for name, mk := range stores() {
		t.Run(name, func(t *testing.T) {
			open, share := mk(t)
			pa, pb := newPolicy(t), newPolicy(t)
			a := newService(t, open(), pa)
			b := newService(t, share(), pb)
			if _, err := a.Record(ctx, write(t, "CREATE TABLE e1 AS SELECT id, email FROM customers", nil)); err != nil {
				t.Fatal(err)
			}
			if e := pb.inherited("DEMO", "PUBLIC", "E1", "EMAIL"); e != nil {
				t.Fatalf("b saw a's record before refreshing: %v", e)
			}
			// b copies a's copy before its next poll: it looks first.
			if recs, err := b.Record(ctx, write(t, "CREATE TABLE e2 AS SELECT email FROM e1", nil)); err != nil || len(recs) != 1 {
				t.Fatalf("copy of the other replica's copy: %v %v", recs, err)
			}
			if got := summary(pb.inherited("DEMO", "PUBLIC", "E1", "EMAIL")); !strings.HasPrefix(got, "pii/email_domain") {
				t.Errorf("b after its write: %s", got)
			}
			if err := a.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got := summary(pa.inherited("DEMO", "PUBLIC", "E2", "EMAIL")); got != "pii/email_domain deny_in=filtered from DEMO.PUBLIC.E1.EMAIL" {
				t.Errorf("a after a refresh: %s", got)
			}
			if _, err := b.Forget(ctx, Target{"DEMO", "PUBLIC", "E2", "EMAIL"}, Person{Subject: "u-2001"}, ""); err != nil {
				t.Fatal(err)
			}
			if err := a.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if e := pa.inherited("DEMO", "PUBLIC", "E2", "EMAIL"); e != nil {
				t.Errorf("a still has what b forgot: %v", e)
			}
			// A replica that polls picks up a record made elsewhere.
			pf := newPolicy(t)
			poller := newService(t, share(), pf)
			poller.cfg.PollInterval = 10 * time.Millisecond
			pollCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			go poller.Run(pollCtx)
			if _, err := a.Record(ctx, write(t, "CREATE TABLE e4 AS SELECT ssn FROM customers", nil)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for pf.inherited("DEMO", "PUBLIC", "E4", "SSN") == nil && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if pf.inherited("DEMO", "PUBLIC", "E4", "SSN") == nil {
				t.Error("the polling replica never saw the new record")
			}
			// A restart (a new service on the same store) starts with everything.
			c := newService(t, share(), newPolicy(t))
			if len(c.records) != 3 {
				t.Errorf("a new service loaded %d records", len(c.records))
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"demo.public.emails_copy":      {"DEMO", "PUBLIC", "EMAILS_COPY", ""},
		"DEMO.PUBLIC.T.email":          {"DEMO", "PUBLIC", "T", "EMAIL"},
		`demo."My.Schema".t."e""mail"`: {"DEMO", "My.Schema", "T", `e"mail`},
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{"t", "a.b", "a.b.c.d.e", `a."b.c`, "a..c"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("%s: parsed", bad)
		}
	}
}

// TestService_forgetNeedsTheTrail: a forget the audit trail cannot record
// does not happen.
func TestService_forgetNeedsTheTrail(t *testing.T) {
	ctx := context.Background()
	p := newPolicy(t)
	refuse := true
	svc, err := New(ctx, Config{Store: NewMemory(), Policy: p, OnChange: func(_ context.Context, c Change) error {
		if refuse && c.Op == OpForgotten {
			return context.DeadlineExceeded
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Record(ctx, write(t, "CREATE TABLE e1 AS SELECT email FROM customers", nil)); err != nil {
		t.Fatal(err)
	}
	target := Target{"DEMO", "PUBLIC", "E1", ""}
	if _, err := svc.Forget(ctx, target, Person{Subject: "u-2001"}, ""); err == nil {
		t.Fatal("forgot without an audit record")
	}
	if p.inherited("DEMO", "PUBLIC", "E1", "EMAIL") == nil {
		t.Error("the refused forget took effect")
	}
	refuse = false
	if _, err := svc.Forget(ctx, target, Person{Subject: "u-2001"}, ""); err != nil {
		t.Fatal(err)
	}
}

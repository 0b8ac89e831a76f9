package proxy_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// TestSessionNames_case: database and schema named at login in lower case
// (demo, public), as connection strings often do, or quoted ("demo") for the
// stand-in, which ignores their case, are what the policy knows, DEMO and
// PUBLIC: the session's reads are classified and masked.
func TestSessionNames_case(t *testing.T) {
	rec := &recorder{}
	st, err := devstack.Start(context.Background(), devstack.Options{WrapDecider: func(e *engine.Engine) proxy.Decider { rec.Engine = e; return rec }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	open := func(as, database, schema string) *sql.DB { return openDBAt(t, st, as, database, schema) }
	const q = `SELECT email, ssn FROM customers WHERE id <= 5 ORDER BY id`
	clear := queryAll(t, open("admin", "demo", "public"), q)
	if len(clear) != 5 || clear[0][0] == clear[1][0] || clear[0][1] == clear[1][1] {
		t.Fatalf("admin reads %v: want five rows of distinct values", clear)
	}
	for _, names := range [][2]string{{"demo", "public"}, {"Demo", "Public"}, {`"demo"`, `"public"`}} {
		rec.mu.Lock()
		rec.sessions = nil
		rec.mu.Unlock()
		got := queryAll(t, open("agent", names[0], names[1]), q)
		for r, row := range got {
			email, ssn := clear[r][0].String, clear[r][1].String
			if row[0].String != "****"+email[strings.LastIndex(email, "@"):] || row[1].String != "********" {
				t.Errorf("database %s schema %s: agent reads %v (admin %s %s), want them masked", names[0], names[1], row, email, ssn)
			}
		}
		rec.mu.Lock()
		for _, s := range rec.sessions {
			if s.Database != "DEMO" || s.Schema != "PUBLIC" {
				t.Errorf("database %s schema %s: the policy sees %s.%s, want DEMO.PUBLIC", names[0], names[1], s.Database, s.Schema)
			}
		}
		if len(rec.sessions) < 2 {
			t.Errorf("database %s schema %s: %d decisions recorded, want the login's and the statement's", names[0], names[1], len(rec.sessions))
		}
		rec.mu.Unlock()
	}
}

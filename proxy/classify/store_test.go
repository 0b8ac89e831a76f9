package classify

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/snowgate/snowgate/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// stores runs each test against every Store: memory, SQLite, PostgreSQL.
// open returns a new, empty store each time it is called; share returns
// a second handle on the store open last (another replica's).
func stores() map[string]func(t *testing.T) (open func() Store, share func() Store) {
	ctx := context.Background()
	return map[string]func(*testing.T) (func() Store, func() Store){
		"memory": func(*testing.T) (func() Store, func() Store) {
			var last *Memory
			return func() Store { last = NewMemory(); return last }, func() Store { return last }
		},
		"sqlite": func(t *testing.T) (func() Store, func() Store) {
			var path string
			o := func(p string) Store {
				s, err := OpenSQLite(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			return func() Store { path = filepath.Join(t.TempDir(), "classifications.db"); return o(path) }, func() Store { return o(path) }
		},
		"postgres": func(t *testing.T) (func() Store, func() Store) {
			var dsn string
			o := func(d string) Store {
				s, err := OpenPostgres(ctx, d)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			return func() Store { dsn = pgtest.DSN(t, "classify"); return o(dsn) }, func() Store { return o(dsn) }
		},
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for name, mk := range stores() {
		t.Run(name, func(t *testing.T) {
			open, share := mk(t)
			s := open()
			v0, err := s.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			recs := []*Record{
				{ID: "cls-1", Target: Column{"DEMO", "PUBLIC", "COPY", "EMAIL"}, Class: "pii", Strategy: "email_domain",
					DenyIn: []string{"filtered"}, From: []string{"DEMO.PUBLIC.CUSTOMERS.EMAIL"}, Transform: "copy",
					Origin: Origin{AuditID: "a-1", QueryID: "q-1", SessionID: "7", By: Person{Subject: "u-3001"}, Kind: "create", At: at}, CreatedAt: at},
				{ID: "cls-2", Target: Column{"DEMO", "PUBLIC", "COPY", "SSN"}, Class: "pii", Strategy: "redact",
					From: []string{"DEMO.PUBLIC.CUSTOMERS.SSN"}, Transform: "copy", CreatedAt: at.Add(time.Second)},
			}
			if err := s.Add(ctx, recs); err != nil {
				t.Fatal(err)
			}
			v1, _ := s.Version(ctx)
			if v1 == v0 {
				t.Error("Add did not change the version")
			}
			got, err := s.List(ctx)
			if err != nil || len(got) != 2 {
				t.Fatalf("List: %v %v", len(got), err)
			}
			if got[0].ID != "cls-1" || got[0].Origin.AuditID != "a-1" || got[0].DenyIn[0] != "filtered" || !got[0].Active() || !got[0].CreatedAt.Equal(at) {
				t.Errorf("first record read back as %+v", got[0])
			}
			// A second handle (another replica) sees the same.
			other := share()
			if v, _ := other.Version(ctx); v != v1 {
				t.Errorf("the other handle's version %q, want %q", v, v1)
			}
			n, err := other.Forget(ctx, []string{"cls-1", "cls-9"}, Forgotten{By: Person{Subject: "u-2001"}, Reason: "test data", At: at})
			if err != nil || n != 1 {
				t.Fatalf("Forget: %d %v", n, err)
			}
			if n, _ := s.Forget(ctx, []string{"cls-1"}, Forgotten{At: at}); n != 0 {
				t.Errorf("forgot an already forgotten record: %d", n)
			}
			v2, _ := s.Version(ctx)
			if v2 == v1 {
				t.Error("Forget did not change the version")
			}
			got, _ = s.List(ctx)
			if got[0].Active() || got[0].Forgotten.By.Subject != "u-2001" || got[0].Forgotten.Reason != "test data" || !got[1].Active() {
				t.Errorf("after Forget: %+v %+v", got[0].Forgotten, got[1].Forgotten)
			}
			// A failed Add adds nothing (the ID is taken).
			if name != "memory" {
				if err := s.Add(ctx, []*Record{{ID: "cls-3", CreatedAt: at}, {ID: "cls-2", CreatedAt: at}}); err == nil {
					t.Error("a duplicate record ID was stored")
				}
				if got, _ := s.List(ctx); len(got) != 2 {
					t.Errorf("a failed Add left %d records", len(got))
				}
			}
		})
	}
}

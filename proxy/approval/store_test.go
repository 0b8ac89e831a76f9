package approval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
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
func stores(t *testing.T) map[string]func() Store {
	ctx := context.Background()
	return map[string]func() Store{
		"memory": func() Store { return NewMemory() },
		"sqlite": func() Store {
			s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "approvals.db"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"postgres": func() Store {
			s, err := OpenPostgres(ctx, pgtest.DSN(t, "approvals"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

var (
	requester = Person{Subject: "u-1", Email: "ana@example.com", Agent: "sql-agent"}
	approver  = Person{Subject: "u-2", Email: "sam@example.com"}
	second    = Person{Subject: "u-3", Email: "kim@example.com"}
)

func TestService_rules(t *testing.T) {
	ctx := context.Background()
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			store := open()
			defer store.Close()
			now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
			svc := New(Config{Store: store, Now: func() time.Time { return now }})
			r, err := svc.Open(ctx, &Request{SQL: "DELETE FROM orders", Requester: requester, Groups: []string{"approvers"}, Count: 2}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Vote(ctx, r.ID, Person{Subject: "u-1"}, []string{"approvers"}, true, ""); !errors.Is(err, ErrSelfApproval) {
				t.Errorf("self approval: %v", err)
			}
			if _, err := svc.Vote(ctx, r.ID, approver, []string{"analysts"}, true, ""); !errors.Is(err, ErrNotApprover) {
				t.Errorf("wrong group: %v", err)
			}
			if _, err := svc.Vote(ctx, r.ID, Person{Subject: "u-9", Agent: "bot"}, []string{"approvers"}, true, ""); !errors.Is(err, ErrNotApprover) {
				t.Errorf("an agent approving: %v", err)
			}
			got, err := svc.Vote(ctx, r.ID, approver, []string{"approvers"}, true, "")
			if err != nil || got.State != Pending {
				t.Fatalf("first of two approvals: %v %v", got.State, err)
			}
			if _, err := svc.Vote(ctx, r.ID, approver, []string{"approvers"}, true, ""); !errors.Is(err, ErrAlreadyVoted) {
				t.Errorf("second vote by the same approver: %v", err)
			}
			if got, err = svc.Vote(ctx, r.ID, second, []string{"approvers"}, true, ""); err != nil || got.State != Approved {
				t.Fatalf("second approval: %v %v", got.State, err)
			}
			if err := svc.Use(ctx, got); err != nil {
				t.Fatal(err)
			}
			stale := *got
			stale.Version--
			stale.State = Used
			if err := svc.Use(ctx, &stale); err == nil {
				t.Error("an approval was used twice")
			}

			r2, _ := svc.Open(ctx, &Request{SQL: "DROP TABLE x", Requester: requester, Groups: []string{"approvers"}}, time.Minute)
			now = now.Add(2 * time.Minute)
			if got, err := svc.Get(ctx, r2.ID); err != nil || got.State != Expired {
				t.Errorf("after its ttl: %v %v", got.State, err)
			}
			if _, err := svc.Vote(ctx, r2.ID, approver, []string{"approvers"}, true, ""); !errors.Is(err, ErrNotPending) {
				t.Errorf("vote on an expired request: %v", err)
			}
		})
	}
}

// TestService_oneUseAcrossReplicas: two services (replicas) on one store
// race to use the same approval; exactly one wins.
func TestService_oneUseAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	for name, open := range stores(t) {
		if name == "memory" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			store := open()
			defer store.Close()
			a, b := New(Config{Store: store}), New(Config{Store: store})
			r, _ := a.Open(ctx, &Request{SQL: "DELETE FROM orders", Requester: requester, Groups: []string{"approvers"}}, time.Hour)
			if _, err := a.Vote(ctx, r.ID, approver, []string{"approvers"}, true, ""); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			wins := make(chan bool, 8)
			for i := range 8 {
				svc := a
				if i%2 == 1 {
					svc = b
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					got, err := svc.Find(ctx, requester, r.SQLHash, Approved)
					wins <- err == nil && got != nil && svc.Use(ctx, got) == nil
				}()
			}
			wg.Wait()
			close(wins)
			n := 0
			for w := range wins {
				if w {
					n++
				}
			}
			if n != 1 {
				t.Errorf("the approval was used %d times, want once", n)
			}
		})
	}
}

package quota

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

// TestCounter_replicas: two replicas' counters on one store, SQLite (two
// processes' worth of handles on one file) and PostgreSQL. What one counts
// reaches the other within a sync; sessions add up across replicas and go
// when a replica closes; Usage is refused once syncs stop succeeding, and
// what was counted meanwhile is not lost.
func TestCounter_replicas(t *testing.T) {
	ctx := context.Background()
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "quota.db") },
		"postgres": func(t *testing.T) string { return pgtest.DSN(t, "quota") },
	} {
		t.Run(name, func(t *testing.T) {
			url := dsn(t)
			if sec := time.Now().Second(); sec >= 52 { // the counts below must not straddle a minute
				time.Sleep(time.Duration(61-sec) * time.Second)
			}
			open := func(replica string) (*Counter, *SQL) {
				s, err := Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				c, err := New(ctx, s, replica, 50*time.Millisecond, nil)
				if err != nil {
					t.Fatal(err)
				}
				return c, s
			}
			a, _ := open("a")
			b, bs := open("b")
			keys := []string{"subject:alice", "group:analysts"}
			a.Add(keys, Statements, 3)
			a.Add(keys, Rows, 1200)
			a.Add(keys[:1], Bytes, 4096)
			a.Open(keys)
			b.Add(keys, Statements, 1)
			b.Open(keys[:1])

			if u, _ := a.Usage(keys); u["subject:alice"].StatementsMinute != 3 || u["subject:alice"].Sessions != 1 {
				t.Errorf("a's own counts before a sync: %+v", u["subject:alice"])
			}
			want := Usage{StatementsMinute: 4, RowsHour: 1200, BytesDay: 4096, Sessions: 2}
			eventually(t, "both replicas' counts on both", func() bool {
				ua, err1 := a.Usage(keys)
				ub, err2 := b.Usage(keys)
				return err1 == nil && err2 == nil && ua["subject:alice"] == want && ub["subject:alice"] == want
			})
			if u, _ := b.Usage(keys); u["group:analysts"] != (Usage{StatementsMinute: 4, RowsHour: 1200, Sessions: 1}) {
				t.Errorf("the group's counts: %+v", u["group:analysts"])
			}
			a.Closed(keys)
			if err := a.Close(ctx); err != nil {
				t.Fatal(err)
			}
			eventually(t, "a's sessions to go", func() bool {
				u, err := b.Usage(keys)
				return err == nil && u["subject:alice"].Sessions == 1 && u["subject:alice"].StatementsMinute == 4
			})

			// The store goes away: counting goes on, Usage is refused once
			// the last sync is too old, nothing counted is lost.
			bs.db.Close()
			eventually(t, "a failed sync to be counted", func() bool { _, n := b.Synced(); return n > 0 })
			b.Add(keys, Statements, 5)
			b.mu.Lock()
			b.at = time.Now().Add(-time.Minute)
			b.mu.Unlock()
			if _, err := b.Usage(keys); err == nil {
				t.Error("Usage with no sync for a minute succeeded")
			}
			b.mu.Lock()
			pending := b.pending[Cell{"subject:alice", Statements, Window(Statements, time.Now())}]
			b.mu.Unlock()
			if pending != 5 {
				t.Errorf("after failed syncs %d statements are pending, want 5", pending)
			}
		})
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// slowStore holds every sync until release is closed: the window in which
// a sync's deltas have left pending but are not yet in the synced counts.
type slowStore struct {
	Store
	entered chan struct{}
	release chan struct{}
}

func (s *slowStore) Sync(ctx context.Context, replica string, deltas map[Cell]int64, sessions map[string]int64, now time.Time) (map[Cell]int64, map[string]int64, error) {
	if len(deltas) > 0 {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.Store.Sync(ctx, replica, deltas, sessions, now)
}

// TestCounter_syncInFlight: what a sync is sending still counts while it
// travels, so a limit cannot be passed in that window.
func TestCounter_syncInFlight(t *testing.T) {
	ctx := context.Background()
	if sec := time.Now().Second(); sec >= 55 { // the count below must not straddle a minute
		time.Sleep(time.Duration(61-sec) * time.Second)
	}
	sql, err := Open(ctx, filepath.Join(t.TempDir(), "quota.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := &slowStore{Store: sql, entered: make(chan struct{}), release: make(chan struct{})}
	c, err := New(ctx, s, "a", 10*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"agent:x"}
	c.Add(keys, Statements, 5)
	<-s.entered // the loop's sync holds the 5
	u, err := c.Usage(keys)
	close(s.release)
	if err != nil || u["agent:x"].StatementsMinute != 5 {
		t.Errorf("usage while the sync travels: %+v, %v; want 5 statements", u["agent:x"], err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

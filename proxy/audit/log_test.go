package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// flakyStore fails Append on demand, before writing (down) or after
// committing (lost: the answer of a commit that happened is lost).
type flakyStore struct {
	Store
	down, lost atomic.Bool
}

var errDown = errors.New("store unavailable")

func (f *flakyStore) Append(ctx context.Context, recs []Record, cp *Checkpoint) error {
	if f.down.Load() {
		return errDown
	}
	err := f.Store.Append(ctx, recs, cp)
	if err == nil && f.lost.Load() {
		return errDown
	}
	return err
}

func TestLog_Record(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Run("concurrent records get one chain", func(t *testing.T) {
				dsn := k.dsn(t)
				l := openLog(t, dsn, "gw", 25)
				const writers, each = 16, 40
				ids := make(chan string, writers*each)
				var wg sync.WaitGroup
				for g := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range each {
							id, err := l.Record(context.Background(), statementEvent(fmt.Sprint(g), i))
							if err != nil {
								t.Error(err)
								return
							}
							ids <- id
						}
					}()
				}
				wg.Wait()
				close(ids)
				seen := map[string]bool{}
				for id := range ids {
					if seen[id] {
						t.Errorf("id %s returned twice", id)
					}
					seen[id] = true
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				rep := verify(t, openStore(t, dsn), VerifyOptions{PublicKeys: testPublicKeys(), RequireSigned: true})
				if !rep.OK() || rep.Replicas[0].Records != writers*each || rep.Replicas[0].Unanchored != 0 {
					t.Fatalf("after %d records: %+v\n%s", writers*each, rep.Replicas, problems(rep))
				}
				for seq := int64(1); seq <= writers*each; seq++ {
					if !seen[RecordID("gw", seq)] {
						t.Errorf("no Record call returned %s", RecordID("gw", seq))
					}
				}
			})
			t.Run("fails closed and resumes", func(t *testing.T) {
				dsn := k.dsn(t)
				flaky := &flakyStore{Store: openStore(t, dsn)}
				l, err := Open(context.Background(), Config{Store: flaky, Replica: "gw", SigningKey: testKey(), CheckpointEvery: 3, Logger: quietLogger()})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				record := func(i int) (string, error) { return l.Record(ctx, statementEvent("s", i)) }
				if _, err := record(1); err != nil {
					t.Fatal(err)
				}
				flaky.down.Store(true)
				if id, err := record(2); !errors.Is(err, errDown) || id != "" {
					t.Fatalf("Record with the store down = %q, %v; want an error wrapping %v", id, err, errDown)
				}
				flaky.down.Store(false)
				flaky.lost.Store(true) // committed, but the caller hears an error
				if _, err := record(3); !errors.Is(err, errDown) {
					t.Fatalf("Record whose commit answer was lost: err = %v", err)
				}
				flaky.lost.Store(false)
				for i := 4; i <= 6; i++ {
					if _, err := record(i); err != nil {
						t.Fatalf("Record %d after recovery: %v", i, err)
					}
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := record(7); !errors.Is(err, ErrClosed) {
					t.Errorf("Record after Close: err = %v, want ErrClosed", err)
				}
				rep := verify(t, openStore(t, dsn), VerifyOptions{PublicKeys: testPublicKeys()})
				if !rep.OK() || rep.Replicas[0].Records != 5 {
					t.Fatalf("want 5 records (1, the lost answer 3, 4-6) in a good chain: %+v\n%s", rep.Replicas, problems(rep))
				}
			})
		})
	}
}

func TestLog_Record_Normalizes(t *testing.T) {
	dsn := storeKinds[0].dsn(t)
	l, err := Open(context.Background(), Config{DSN: dsn, RedactLiterals: true, Logger: quietLogger(),
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600)) }})
	if err != nil {
		t.Fatal(err)
	}
	e := statementEvent("s", 1)
	e.Time = time.Time{}
	e.Statement.SQL = "SELECT * FROM users WHERE ssn = '123-45-6789' AND age > 40 -- secret note"
	id, err := l.Record(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Record(context.Background(), Event{Type: "bogus"}); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("Record of an unknown type: err = %v, want ErrInvalidEvent", err)
	}
	if e.Statement.SQL == "" || strings.Contains(e.Statement.SQL, "?") {
		t.Errorf("Record changed the caller's event: %q", e.Statement.SQL)
	}
	l.Close()
	if id != DefaultReplica+":1" {
		t.Errorf("id = %q, want %s:1", id, DefaultReplica)
	}
	env, err := recordAt(t, openStore(t, dsn), DefaultReplica, 1).Decode()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := env.Event.Statement.SQL, "SELECT * FROM users WHERE ssn = ? AND age > ? /**/"; got != want {
		t.Errorf("stored SQL = %q, want %q", got, want)
	}
	if got, want := env.Event.Time, time.Date(2026, 1, 2, 2, 4, 5, 123456000, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("stored time = %v, want %v (UTC, microseconds)", got, want)
	}
}

// TestPostgres_TwoReplicasAtOnce runs two gateway replicas, each with its
// own connection pool, writing to one database at the same time; both
// chains must verify and hold every record in order.
func TestPostgres_TwoReplicasAtOnce(t *testing.T) {
	dsn := postgresDSN(t)
	const perReplica = 300
	var wg sync.WaitGroup
	for _, name := range []string{"gw-1", "gw-2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := openLog(t, dsn, name, 50)
			defer l.Close()
			var inner sync.WaitGroup
			for g := range 4 {
				inner.Add(1)
				go func() {
					defer inner.Done()
					for i := range perReplica / 4 {
						if _, err := l.Record(context.Background(), statementEvent(fmt.Sprintf("%s-%d", name, g), i)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			inner.Wait()
		}()
	}
	wg.Wait()
	rep := verify(t, openStore(t, dsn), VerifyOptions{PublicKeys: testPublicKeys(), RequireSigned: true})
	if !rep.OK() || len(rep.Replicas) != 2 {
		t.Fatalf("two replicas: %+v\n%s", rep.Replicas, problems(rep))
	}
	for _, r := range rep.Replicas {
		if r.Records != perReplica || r.LastSeq != perReplica || r.Unanchored != 0 {
			t.Errorf("replica %s: %+v, want %d records, all anchored", r.Replica, r, perReplica)
		}
	}
}

// TestStore_SameReplicaTwoWriters: two logs misconfigured with the same
// replica name still build one valid chain (the store serialises them and
// a log re-reads the tail after a conflict).
func TestStore_SameReplicaTwoWriters(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			dsn := k.dsn(t)
			var wg sync.WaitGroup
			var failed atomic.Int64
			for w := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := openLog(t, dsn, "same", 1000)
					defer l.Close()
					for i := range 100 {
						if _, err := l.Record(context.Background(), statementEvent(fmt.Sprint(w), i)); err != nil {
							failed.Add(1) // a second conflict in a row is refused: allowed, never silent
						}
					}
				}()
			}
			wg.Wait()
			rep := verify(t, openStore(t, dsn), VerifyOptions{PublicKeys: testPublicKeys()})
			if !rep.OK() {
				t.Fatalf("one replica, two writers:\n%s", problems(rep))
			}
			if got := rep.Replicas[0].Records + failed.Load(); got != 200 {
				t.Errorf("records %d + refused %d = %d, want 200", rep.Replicas[0].Records, failed.Load(), got)
			}
		})
	}
}

// TestVerify_WhileWriting: `audit verify` against a gateway that is
// writing (and checkpointing every few records) sees a good chain.
func TestVerify_WhileWriting(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			dsn := k.dsn(t)
			l := openLog(t, dsn, "live", 3)
			defer l.Close()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := l.Record(context.Background(), statementEvent(fmt.Sprint(g), i)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			s := openStore(t, dsn)
			for range 15 {
				if rep := verify(t, s, VerifyOptions{PublicKeys: testPublicKeys()}); !rep.OK() {
					t.Errorf("verify during writes:\n%s", problems(rep))
					break
				}
			}
			close(stop)
			wg.Wait()
		})
	}
}

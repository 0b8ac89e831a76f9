package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// unreliable wraps a store: the next Append can be made to commit and
// then report a failure (the answer lost on the way, as when a database
// connection breaks during COMMIT), to fail without committing, or to
// wait until released.
type unreliable struct {
	Store
	mu   sync.Mutex
	next string        // "lose-answer", "fail" or ""
	hold chan struct{} // when set, Append waits for it to close
}

func (u *unreliable) set(next string, hold chan struct{}) {
	u.mu.Lock()
	u.next, u.hold = next, hold
	u.mu.Unlock()
}

func (u *unreliable) Append(ctx context.Context, recs []Record, cp *Checkpoint) error {
	u.mu.Lock()
	next, hold := u.next, u.hold
	u.next, u.hold = "", nil
	u.mu.Unlock()
	if hold != nil {
		<-hold
	}
	switch next {
	case "fail":
		return errors.New("connection refused")
	case "lose-answer":
		if err := u.Store.Append(ctx, recs, cp); err != nil {
			return err
		}
		return errors.New("connection reset by peer")
	}
	return u.Store.Append(ctx, recs, cp)
}

// TestLog_notRun: a statement whose Record failed was refused by the
// gateway; when its record reached the trail even so (a commit whose
// answer was lost, a caller that stopped waiting while its commit went
// through), the trail adds its outcome, not run, once. A commit that did
// not happen leaves neither.
func TestLog_notRun(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		fault  func(u *unreliable, l *Log) error // records statement q1 under the fault
		inside bool                              // q1's record is in the trail
	}{
		{"answer lost", func(u *unreliable, l *Log) error {
			u.set("lose-answer", nil)
			_, err := l.Record(ctx, queryEvent("q1"))
			return err
		}, true},
		{"commit failed", func(u *unreliable, l *Log) error {
			u.set("fail", nil)
			_, err := l.Record(ctx, queryEvent("q1"))
			return err
		}, false},
		{"caller stopped waiting", func(u *unreliable, l *Log) error {
			hold := make(chan struct{})
			u.set("", hold)
			rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			_, err := l.Record(rctx, queryEvent("q1"))
			close(hold)
			return err
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &unreliable{Store: openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "audit.db"))}
			l, err := Open(ctx, Config{Store: u, Replica: "r1", SigningKey: testKey(), CheckpointInterval: time.Hour, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if err := tc.fault(u, l); err == nil {
				t.Fatal("Record under the fault succeeded")
			}
			if _, err := l.Record(ctx, queryEvent("q2")); err != nil {
				t.Fatalf("Record after the fault: %v", err)
			}
			var got []string
			deadline := time.Now().Add(5 * time.Second)
			for {
				got = nil
				if err := u.Chain(ctx, "r1", func(r Record) error {
					env, err := r.Decode()
					e := env.Event
					switch {
					case err != nil:
						return err
					case e.Type == TypeOutcome:
						got = append(got, fmt.Sprintf("outcome %s not_run=%v", e.QueryID, e.Outcome.NotRun))
					default:
						got = append(got, e.Type+" "+e.QueryID)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if !tc.inside || len(got) >= 3 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			want := []string{"statement q2"}
			if tc.inside {
				want = []string{"statement q1", "outcome q1 not_run=true", "statement q2"}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("chain %q, want %q", got, want)
			}
			if rep := verify(t, u, VerifyOptions{}); !rep.OK() {
				t.Errorf("the trail does not verify: %+v", rep.Problems)
			}
		})
	}
}

func queryEvent(q string) Event {
	e := statementEvent("s1", 1)
	e.QueryID, e.Time = q, time.Time{}
	return e
}

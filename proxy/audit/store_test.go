package audit

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestStore_Scan checks the filters `audit show` and `audit export` use,
// on every store.
func TestStore_Scan(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			dsn := k.dsn(t)
			l := openLog(t, dsn, "gw", 100)
			ctx := context.Background()
			for i := 1; i <= 6; i++ {
				e := statementEvent(fmt.Sprintf("s%d", i%2), i) // s1: 1,3,5; s0: 2,4,6
				if i == 4 {
					e.Identity.Subject = "bob"
				}
				if _, err := l.Record(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := l.Record(ctx, Event{Type: TypeSessionEnd, SessionID: "s1", Time: baseTime.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
			l.Close()
			s := openStore(t, dsn)
			cases := []struct {
				name string
				f    Filter
				want []int64 // seqs, in order
			}{
				{"all, by time", Filter{}, []int64{1, 2, 3, 4, 5, 6, 7}},
				{"session", Filter{SessionID: "s1"}, []int64{1, 3, 5, 7}},
				{"subject", Filter{Subject: "bob"}, []int64{4}},
				{"since", Filter{Since: baseTime.Add(5 * time.Second)}, []int64{5, 6, 7}},
				{"until", Filter{Until: baseTime.Add(3 * time.Second)}, []int64{1, 2}},
				{"types", Filter{Types: []string{TypeSessionEnd}}, []int64{7}},
				{"limit", Filter{SessionID: "s0", Limit: 2}, []int64{2, 4}},
				{"other replica", Filter{Replica: "nope"}, nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					var got []int64
					err := s.Scan(ctx, tc.f, func(r Record) error { got = append(got, r.Seq); return nil })
					if err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(got) != fmt.Sprint(tc.want) {
						t.Errorf("Scan(%+v) = seqs %v, want %v", tc.f, got, tc.want)
					}
				})
			}
		})
	}
}

// TestLog_CheckpointInterval: an idle log still checkpoints its last
// records once CheckpointInterval has passed, without waiting for Close.
func TestLog_CheckpointInterval(t *testing.T) {
	dsn := storeKinds[0].dsn(t)
	l, err := Open(context.Background(), Config{DSN: dsn, SigningKey: testKey(), CheckpointEvery: 1000, CheckpointInterval: 100 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 3 {
		if _, err := l.Record(context.Background(), statementEvent("s", i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		cps, err := l.Store().Checkpoints(context.Background(), DefaultReplica)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(cps); n > 0 && cps[n-1].Seq == 3 {
			if !cps[n-1].Signed() {
				t.Errorf("checkpoint is not signed")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint over seq 3 after 5s; have %+v", cps)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSQLite_Durable: every connection runs in WAL mode with
// synchronous=FULL, so a commit is on disk when Append returns.
func TestSQLite_Durable(t *testing.T) {
	s := openStore(t, storeKinds[0].dsn(t)).(*SQLite)
	ctx := context.Background()
	for i := range 4 { // the pool may hand out different connections
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		var sync int
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || sync != 2 {
			t.Errorf("connection %d: journal_mode=%s synchronous=%d, want wal and 2 (FULL)", i, mode, sync)
		}
	}
}

package audit

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestLog_clockSteps: the wall clock steps back an hour, then forward a
// day, while records are written (an NTP correction, a VM resumed). The
// chain does not depend on time order: every record is there in seq
// order with the time the clock gave, checkpoints still anchor the chain,
// and the trail verifies; a time filter finds records on both sides of
// the step.
func TestLog_clockSteps(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "audit.db")
	l, err := Open(ctx, Config{DSN: dsn, Replica: "r1", SigningKey: testKey(), CheckpointEvery: 4, CheckpointInterval: time.Hour, Logger: quietLogger(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var stamps []time.Time
	for i, step := range []time.Duration{0, 0, 0, -time.Hour, 0, 0, 25 * time.Hour, 0, 0, 0} {
		offset.Add(int64(step))
		stamps = append(stamps, now().UTC())
		if _, err := l.Record(ctx, queryEvent("q"+string(rune('a'+i)))); err != nil {
			t.Fatalf("record %d after a %s step: %v", i, step, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	store := openStore(t, dsn)
	var seqs []int64
	var times []time.Time
	if err := store.Chain(ctx, "r1", func(r Record) error {
		seqs, times = append(seqs, r.Seq), append(times, r.Time)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != len(stamps) {
		t.Fatalf("%d records in the chain, %d written", len(seqs), len(stamps))
	}
	for i := range seqs {
		if seqs[i] != int64(i+1) {
			t.Errorf("record %d has seq %d", i, seqs[i])
		}
		if d := times[i].Sub(stamps[i]); d < 0 || d > time.Second {
			t.Errorf("record %d has time %s, the clock said %s", i, times[i], stamps[i])
		}
	}
	if !times[3].Before(times[2]) {
		t.Errorf("the step back is not in the records' times: %s then %s", times[2], times[3])
	}
	rep := verify(t, store, VerifyOptions{PublicKeys: testPublicKeys()})
	if !rep.OK() || rep.Replicas[0].Unanchored != 0 || rep.Replicas[0].SignedCheckpoints < 3 {
		t.Errorf("verify after the clock steps: %+v", rep)
	}
	found := 0
	if err := store.Scan(ctx, Filter{Since: stamps[3].Add(-time.Second), Until: stamps[5].Add(time.Second)}, func(Record) error { found++; return nil }); err != nil {
		t.Fatal(err)
	}
	if found != 3 {
		t.Errorf("records in the hour the clock went back to: %d, want 3", found)
	}
}

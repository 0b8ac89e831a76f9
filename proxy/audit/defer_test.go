package audit

import (
	"context"
	"testing"
	"time"
)

// TestLog_Defer: a deferred event rides the next Record's commit, before
// it in the chain, or is written on its own within DeferredFlush.
func TestLog_Defer(t *testing.T) {
	ctx := context.Background()
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			dsn := k.dsn(t)
			l := openLog(t, dsn, "r1", 1000)
			outcome := Event{Type: TypeOutcome, SessionID: "s1", QueryID: "q1", Outcome: &Outcome{Rows: 3}}
			if err := l.Defer(outcome); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Record(ctx, statementEvent("s1", 2)); err != nil {
				t.Fatal(err)
			}
			var types []string
			chain := func() {
				types = nil
				if err := l.Store().Chain(ctx, "r1", func(r Record) error {
					env, err := r.Decode()
					types = append(types, env.Event.Type)
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			chain()
			if len(types) != 2 || types[0] != TypeOutcome || types[1] != TypeStatement {
				t.Fatalf("chain after Defer then Record: %v, want [outcome statement]", types)
			}
			if err := l.Defer(outcome); err != nil {
				t.Fatal(err)
			}
			time.Sleep(DeferredFlush * 3)
			chain()
			if len(types) != 3 || types[2] != TypeOutcome {
				t.Fatalf("a lone deferred event was not flushed: %v", types)
			}
			if err := l.Defer(Event{Type: "nonsense"}); err == nil {
				t.Error("an invalid event was accepted")
			}
		})
	}
}

package inputs

import (
	"context"
	"testing"

	"github.com/snowgate/snowgate/engine"
)

// FuzzDecide sends arbitrary SQL through the analyser and the default
// library and checks what must hold for any statement: the decision is well
// formed, and nothing the analyser did not fully understand is allowed.
//
//	go test ./engine/inputs -run '^$' -fuzz FuzzDecide -fuzztime 60s
func FuzzDecide(f *testing.F) {
	srcs, err := ReadFixtureSources(fixturesDir + "/" + SourcesFile)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range srcs {
		f.Add(s.SQL)
	}
	f.Add("SELECT 1; DROP TABLE orders")
	f.Add("SELECT /* ; */ ssn FROM customers -- ;")
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Options{})
	if err != nil {
		f.Fatal(err)
	}
	agent, err := Demo("agent")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		ins, err := Build(ctx, sql, agent, Options{})
		if err != nil {
			return // the analyser refused the request as a whole; the gateway answers with an error
		}
		for _, in := range ins {
			d := eng.Decide(ctx, in)
			if !d.Action.Valid() || d.ID == "" || d.Revision == "" {
				t.Fatalf("malformed decision %+v for %q", d, in.Statement.SQL)
			}
			if d.Action == engine.ActionDeny && len(d.Reasons) == 0 {
				t.Fatalf("deny without a reason for %q", in.Statement.SQL)
			}
			if (d.Action == engine.ActionMask) != (len(d.Masks) > 0) {
				t.Fatalf("action %s with masks %v for %q", d.Action, d.Masks, in.Statement.SQL)
			}
			st := in.Statement
			if (!st.Parse.Complete || st.Kind == "unknown" || st.Category == "unknown") && d.Action != engine.ActionDeny {
				t.Fatalf("%s for a statement not understood (%+v): %q", d.Action, st.Parse, st.SQL)
			}
		}
	})
}

package proxy

import (
	"context"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/proxy/statement"
)

// TestResults_history: the session's history answers ids and
// LAST_QUERY_ID positions, and the rewrite sends the upstream's ids.
func TestResults_history(t *testing.T) {
	s := &session{}
	out := func(name, src string) (*statement.Statement, []Column) {
		return &statement.Statement{Kind: statement.KindSelect, Parse: statement.Parse{Complete: true},
			Outputs: []statement.Output{{Name: name, Sources: []statement.Column{{Database: "DEMO", Schema: "PUBLIC", Table: "CUSTOMERS", Name: src}}, Transform: statement.TransformCopy, Traced: true}}}, []Column{{Name: name}}
	}
	st, cols := out("EMAIL", "EMAIL")
	s.remember("g1", "u1", st, cols)
	s.remember("g2", "", nil, nil) // failed: holds a place
	st, cols = out("SSN", "SSN")
	s.remember("g3", "u3", st, cols)
	snap := s.resultView()
	st, cols = out("NAME", "NAME")
	s.remember("g4", "u4", st, cols) // after the snapshot: not seen
	for _, tc := range []struct {
		ref  statement.ResultRef
		want string
	}{
		{statement.ResultRef{Offset: -1}, "g3"}, {statement.ResultRef{Offset: -2}, "g2"}, {statement.ResultRef{Offset: -3}, "g1"},
		{statement.ResultRef{Offset: -4}, ""}, {statement.ResultRef{Offset: 1}, "g1"}, {statement.ResultRef{Offset: 3}, "g3"},
		{statement.ResultRef{Offset: 4}, ""}, {statement.ResultRef{QueryID: "g1"}, "g1"}, {statement.ResultRef{QueryID: "u1"}, ""},
		{statement.ResultRef{QueryID: "g4"}, ""},
	} {
		e, ok := snap.lookup(tc.ref)
		if got := ""; ok && e.id != tc.want || !ok && tc.want != "" {
			if ok {
				got = e.id
			}
			t.Errorf("lookup(%+v) = %q, want %q", tc.ref, got, tc.want)
		}
	}
	if _, ok := snap.ResultLineage(statement.ResultRef{Offset: -2}); ok {
		t.Error("a failed statement's result is known")
	}
	sts, err := statement.Analyze(context.Background(),
		`SELECT a.ssn, b.email FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) a, TABLE(result_scan('g1')) b`,
		statement.Env{Database: "DEMO", Schema: "PUBLIC", Results: snap})
	if err != nil || len(sts) != 1 || len(sts[0].ResultScans) != 2 || sts[0].Flags.UntracedSource {
		t.Fatalf("analysis: %+v %v", sts, err)
	}
	text, err := rewriteResultScans(snap, sts[0])
	if want := `SELECT a.ssn, b.email FROM TABLE(RESULT_SCAN('u3')) a, TABLE(result_scan('u1')) b`; err != nil || text != want {
		t.Errorf("rewrite = %q, %v\nwant %q", text, err, want)
	}
	// a result whose upstream id is not known is not scanned in its place
	s.results[3%resultHistory].upstreamID = ""
	if _, err := rewriteResultScans(snap, sts[0]); err == nil || !strings.Contains(err.Error(), "g3") {
		t.Errorf("rewrite without the upstream id: %v", err)
	}
	for i := 0; i < resultHistory+5; i++ {
		s.remember("x", "y", nil, nil)
	}
	now := s.resultView()
	if _, ok := now.lookup(statement.ResultRef{Offset: 9}); ok || s.ran != int64(resultHistory+9) {
		t.Errorf("history holds the 9th of %d", s.ran)
	}
	if _, ok := now.lookup(statement.ResultRef{Offset: -resultHistory}); !ok {
		t.Errorf("history lost one of the latest %d", resultHistory)
	}
}

// TestResults_outputs: a result is remembered only when its lineage lines
// up with the columns the upstream returned, named as the upstream named
// them.
func TestResults_outputs(t *testing.T) {
	st := statement.Statement{Kind: statement.KindSelect, Parse: statement.Parse{Complete: true},
		Outputs: []statement.Output{{Name: "UPPER(EMAIL)", Sources: []statement.Column{{Name: "EMAIL"}}, Traced: true}}}
	remembered := func(st statement.Statement, cols []Column) []statement.Output {
		s := &session{}
		s.remember("q", "u", &st, cols)
		outs, _ := s.resultView().ResultLineage(statement.ResultRef{QueryID: "q"})
		return outs
	}
	got := remembered(st, []Column{{Name: "UPPER(EMAIL)"}})
	if len(got) != 1 || got[0].Name != "UPPER(EMAIL)" || len(got[0].Sources) != 1 {
		t.Errorf("outputs %+v", got)
	}
	if remembered(st, []Column{{Name: "A"}, {Name: "B"}}) != nil {
		t.Error("lineage of one column remembered for two")
	}
	st.Outputs[0].Name = "*"
	if remembered(st, []Column{{Name: "A"}}) != nil {
		t.Error("an unexpanded star remembered")
	}
	st.Kind = statement.KindShow
	if remembered(st, []Column{{Name: "A"}}) != nil {
		t.Error("SHOW remembered")
	}
}

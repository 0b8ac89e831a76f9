package statement

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// fakeResults remembers outputs by query id and, in order, for
// LAST_QUERY_ID: ids[0] ran first.
type fakeResults struct {
	ids  []string
	outs map[string][]Output
	asks []ResultRef
}

func (f *fakeResults) ResultLineage(ref ResultRef) ([]Output, bool) {
	f.asks = append(f.asks, ref)
	id := ref.QueryID
	if ref.Last() {
		k := ref.Offset - 1
		if ref.Offset < 0 {
			k = len(f.ids) + ref.Offset
		}
		if k < 0 || k >= len(f.ids) {
			return nil, false
		}
		id = f.ids[k]
	}
	o, ok := f.outs[id]
	return o, ok
}

func col(t, c string) Column { return Column{Database: "DEMO", Schema: "PUBLIC", Table: t, Name: c} }

// history: q1 read names and emails, q2 read an id and a derived value,
// q3 (the most recent) read SSNs.
func history() *fakeResults {
	return &fakeResults{
		ids: []string{"q1", "q2", "q3"},
		outs: map[string][]Output{
			"q1": {{Name: "NAME", Sources: []Column{col("CUSTOMERS", "NAME")}, Transform: TransformCopy, Traced: true},
				{Name: "EMAIL", Sources: []Column{col("CUSTOMERS", "EMAIL")}, Transform: TransformCopy, Traced: true}},
			"q2": {{Name: "ID", Sources: []Column{col("ORDERS", "ID")}, Transform: TransformCopy, Traced: true},
				{Name: "TOTAL", Sources: []Column{col("ORDERS", "AMOUNT")}, Transform: TransformAggregate, Traced: true}},
			"q3": {{Name: "SSN", Sources: []Column{col("CUSTOMERS", "SSN")}, Transform: TransformCopy, Traced: true}},
		},
	}
}

func analyzeWith(t *testing.T, sql string, res ResultLineage) Statement {
	t.Helper()
	env := Env{Database: "DEMO", Schema: "PUBLIC", Catalog: mapCatalog{"DEMO.PUBLIC.CUSTOMERS": {"ID", "NAME", "EMAIL", "SSN"}}}
	if res != nil {
		env.Results = res
	}
	sts, err := Analyze(context.Background(), sql, env)
	if err != nil || len(sts) != 1 {
		t.Fatalf("Analyze(%q) = %v, %v", sql, sts, err)
	}
	return sts[0]
}

func srcNames(o Output) []string {
	var s []string
	for _, c := range o.Sources {
		s = append(s, c.Table+"."+c.Name)
	}
	return s
}

type want struct {
	name    string
	sources []string
	traced  bool
}

func checkOutputs(t *testing.T, st Statement, ws ...want) {
	t.Helper()
	if !st.Parse.Complete {
		t.Fatalf("%q: parse incomplete: %s", st.SQL, st.Parse.Error)
	}
	if len(st.Outputs) != len(ws) {
		t.Fatalf("%q: outputs %+v, want %d", st.SQL, st.Outputs, len(ws))
	}
	for i, w := range ws {
		o := st.Outputs[i]
		if o.Name != w.name || o.Traced != w.traced || !reflect.DeepEqual(srcNames(o), w.sources) {
			t.Errorf("%q: output %d = %s %v traced=%v, want %s %v traced=%v", st.SQL, i, o.Name, srcNames(o), o.Traced, w.name, w.sources, w.traced)
		}
	}
}

func TestResultScan_literalID(t *testing.T) {
	sql := `SELECT name, email FROM TABLE(RESULT_SCAN('q1'))`
	st := analyzeWith(t, sql, history())
	checkOutputs(t, st, want{"NAME", []string{"CUSTOMERS.NAME"}, true}, want{"EMAIL", []string{"CUSTOMERS.EMAIL"}, true})
	if st.Flags.UntracedSource {
		t.Error("untraced_source set for a resolved RESULT_SCAN")
	}
	if len(st.ResultScans) != 1 || !st.ResultScans[0].Resolved || st.ResultScans[0].Ref.QueryID != "q1" {
		t.Fatalf("ResultScans = %+v", st.ResultScans)
	}
	if s := st.ResultScans[0]; st.SQL[s.Start:s.End] != `'q1'` {
		t.Errorf("argument span = %q", st.SQL[s.Start:s.End])
	}
}

func TestResultScan_lastQueryID(t *testing.T) {
	for _, tc := range []struct {
		arg    string
		offset int
		want   []want
	}{
		{"LAST_QUERY_ID()", -1, []want{{"SSN", []string{"CUSTOMERS.SSN"}, true}}},
		{"LAST_QUERY_ID(-1)", -1, []want{{"SSN", []string{"CUSTOMERS.SSN"}, true}}},
		{"last_query_id(-2)", -2, []want{{"ID", []string{"ORDERS.ID"}, true}, {"TOTAL", []string{"ORDERS.AMOUNT"}, true}}},
		{"LAST_QUERY_ID( - 3 )", -3, []want{{"NAME", []string{"CUSTOMERS.NAME"}, true}, {"EMAIL", []string{"CUSTOMERS.EMAIL"}, true}}},
		{"LAST_QUERY_ID(1)", 1, []want{{"NAME", []string{"CUSTOMERS.NAME"}, true}, {"EMAIL", []string{"CUSTOMERS.EMAIL"}, true}}},
		{`"LAST_QUERY_ID"(+2)`, 2, []want{{"ID", []string{"ORDERS.ID"}, true}, {"TOTAL", []string{"ORDERS.AMOUNT"}, true}}},
	} {
		h := history()
		st := analyzeWith(t, `SELECT * FROM TABLE(RESULT_SCAN(`+tc.arg+`))`, h)
		checkOutputs(t, st, tc.want...)
		if len(h.asks) != 1 || h.asks[0] != (ResultRef{Offset: tc.offset}) {
			t.Errorf("%s: asked %+v", tc.arg, h.asks)
		}
		if st.Flags.UntracedSource || !st.Star {
			t.Errorf("%s: untraced_source=%v star=%v", tc.arg, st.Flags.UntracedSource, st.Star)
		}
		if s := st.ResultScans[0]; st.SQL[s.Start:s.End] != tc.arg {
			t.Errorf("%s: argument span = %q", tc.arg, st.SQL[s.Start:s.End])
		}
	}
}

// TestResultScan_untraced: whatever the hook cannot answer, or is not
// asked, stays untraced as without a hook.
func TestResultScan_untraced(t *testing.T) {
	for _, sql := range []string{
		`SELECT ssn FROM TABLE(RESULT_SCAN('nope'))`,                // unknown id
		`SELECT ssn FROM TABLE(RESULT_SCAN(LAST_QUERY_ID(-9)))`,     // before the history
		`SELECT ssn FROM TABLE(RESULT_SCAN(LAST_QUERY_ID(0)))`,      // not a position
		`SELECT ssn FROM TABLE(RESULT_SCAN(?))`,                     // bind
		`SELECT ssn FROM TABLE(RESULT_SCAN(:1))`,                    // bind
		`SELECT ssn FROM TABLE(RESULT_SCAN($qid))`,                  // session variable
		`SELECT ssn FROM TABLE(RESULT_SCAN('q' || '3'))`,            // expression
		`SELECT ssn FROM TABLE(RESULT_SCAN(LAST_QUERY_ID(-1 - 1)))`, // expression
		`SELECT ssn FROM TABLE(RESULT_SCAN(LAST_QUERY_ID(-1.0)))`,   // not an integer
		`SELECT ssn FROM TABLE(RESULT_SCAN(UPPER('q3')))`,           // expression
		`SELECT ssn FROM TABLE(RESULT_SCAN(X.LAST_QUERY_ID()))`,     // a qualified function is not the built-in
		`SELECT ssn FROM TABLE(RESULT_SCAN("last_query_id"()))`,     // quoted lower case: another function
		`SELECT ssn FROM TABLE("result_scan"('q3'))`,                // quoted lower case: not RESULT_SCAN
		`SELECT ssn FROM TABLE(PUBLIC.RESULT_SCAN('q3'))`,           // qualified: not the built-in
		`SELECT ssn FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))`,       // no hook (below)
	} {
		var res ResultLineage = history()
		if strings.HasSuffix(sql, "LAST_QUERY_ID()))") {
			res = nil
		}
		st := analyzeWith(t, sql, res)
		if !st.Flags.UntracedSource {
			t.Errorf("%q: untraced_source is false", sql)
		}
		for _, o := range st.Outputs {
			if o.Traced {
				t.Errorf("%q: output %+v is traced", sql, o)
			}
		}
		for _, s := range st.ResultScans {
			if s.Resolved {
				t.Errorf("%q: scan %+v resolved", sql, s)
			}
		}
	}
}

// TestResultScan_spellings: the function's name folds like any unquoted
// name; quoted in upper case it is the same name.
func TestResultScan_spellings(t *testing.T) {
	for _, sql := range []string{
		`select ssn from table(result_scan(last_query_id()))`,
		`SELECT ssn FROM TABLE("RESULT_SCAN"(LAST_QUERY_ID()))`,
		`SELECT ssn FROM TABLE(Result_Scan('q3'))`,
		`SELECT ssn FROM TABLE(RESULT_SCAN($$q3$$))`,
		`SELECT ssn FROM RESULT_SCAN('q3')`,
		`SELECT r.ssn FROM TABLE(RESULT_SCAN('q3')) AS r`,
		`SELECT "SSN" FROM TABLE(RESULT_SCAN('q3')) r`,
		`SELECT $1 AS ssn FROM TABLE(RESULT_SCAN('q3'))`,
	} {
		st := analyzeWith(t, sql, history())
		checkOutputs(t, st, want{"SSN", []string{"CUSTOMERS.SSN"}, true})
		if st.Flags.UntracedSource {
			t.Errorf("%q: untraced_source set", sql)
		}
	}
}

// TestResultScan_expressions: inherited columns keep their sources through
// expressions, aggregates, filters and renames.
func TestResultScan_expressions(t *testing.T) {
	st := analyzeWith(t, `SELECT upper(email) AS e, count(*) AS n FROM TABLE(RESULT_SCAN(LAST_QUERY_ID(-3))) WHERE name LIKE 'A%' GROUP BY 1`, history())
	checkOutputs(t, st, want{"E", []string{"CUSTOMERS.EMAIL"}, true}, want{"N", nil, true})
	if st.Outputs[0].Transform != TransformExpression {
		t.Errorf("transform = %s", st.Outputs[0].Transform)
	}
	if !reflect.DeepEqual(st.Columns.Filtered, []Column{col("CUSTOMERS", "NAME")}) {
		t.Errorf("filtered = %+v", st.Columns.Filtered)
	}
	st = analyzeWith(t, `SELECT * FROM TABLE(RESULT_SCAN('q2')) AS r (a, b)`, history())
	checkOutputs(t, st, want{"A", []string{"ORDERS.ID"}, true}, want{"B", []string{"ORDERS.AMOUNT"}, true})
	if len(st.Objects) != 1 || st.Objects[0] != (Object{Type: "table", Database: "DEMO", Schema: "PUBLIC", Name: "ORDERS", Access: AccessRead}) {
		t.Errorf("objects = %+v, want the table the result came from", st.Objects)
	}
	if st.Outputs[1].Transform != TransformAggregate {
		t.Errorf("transform = %s, want the recorded aggregate", st.Outputs[1].Transform)
	}
	// a column the result does not have is an error, not a guess
	st = analyzeWith(t, `SELECT phone FROM TABLE(RESULT_SCAN('q3'))`, history())
	if st.Parse.Complete {
		for _, o := range st.Outputs {
			if o.Traced && len(o.Sources) == 0 {
				t.Errorf("unknown column of a known result traced to nothing: %+v", o)
			}
		}
	}
}

// TestResultScan_nested: in a CTE, a subquery, a join, and next to an
// unresolved RESULT_SCAN (which keeps the statement untraced).
func TestResultScan_nested(t *testing.T) {
	st := analyzeWith(t, `WITH r AS (SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))) SELECT ssn FROM r`, history())
	checkOutputs(t, st, want{"SSN", []string{"CUSTOMERS.SSN"}, true})
	st = analyzeWith(t, `SELECT x.email FROM (SELECT email FROM TABLE(RESULT_SCAN('q1'))) x`, history())
	checkOutputs(t, st, want{"EMAIL", []string{"CUSTOMERS.EMAIL"}, true})
	st = analyzeWith(t, `SELECT c.id, r.email FROM customers c JOIN TABLE(RESULT_SCAN('q1')) r ON r.name = c.name`, history())
	checkOutputs(t, st, want{"ID", []string{"CUSTOMERS.ID"}, true}, want{"EMAIL", []string{"CUSTOMERS.EMAIL"}, true})
	if st.Flags.UntracedSource {
		t.Error("untraced_source set")
	}
	st = analyzeWith(t, `SELECT a.ssn, b.total FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) a, TABLE(RESULT_SCAN(LAST_QUERY_ID(-2))) b`, history())
	checkOutputs(t, st, want{"SSN", []string{"CUSTOMERS.SSN"}, true}, want{"TOTAL", []string{"ORDERS.AMOUNT"}, true})
	if len(st.ResultScans) != 2 || st.Flags.UntracedSource {
		t.Errorf("scans %+v untraced_source=%v", st.ResultScans, st.Flags.UntracedSource)
	}
	st = analyzeWith(t, `SELECT a.ssn, b.x FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) a, TABLE(RESULT_SCAN('nope')) b`, history())
	if !st.Flags.UntracedSource {
		t.Error("one unresolved RESULT_SCAN: untraced_source is false")
	}
	if st.Outputs[0].Traced != true || st.Outputs[1].Traced {
		t.Errorf("outputs %+v", st.Outputs)
	}
	st = analyzeWith(t, `SELECT ssn FROM customers WHERE id IN (SELECT id FROM TABLE(RESULT_SCAN('q2')))`, history())
	checkOutputs(t, st, want{"SSN", []string{"CUSTOMERS.SSN"}, true})
	if st.Flags.UntracedSource {
		t.Error("untraced_source set")
	}
}

// TestResultScan_recordedShapes: results whose columns cannot be told, or
// that hold untraced outputs, do not become traced.
func TestResultScan_recordedShapes(t *testing.T) {
	h := &fakeResults{ids: []string{"star", "none", "opaque", "dup"}, outs: map[string][]Output{
		"star":   {{Name: "*", Sources: []Column{col("T", "*")}, Transform: TransformCopy}},
		"none":   {},
		"opaque": {{Name: "V", Transform: TransformExpression}},
		"dup": {{Name: "NAME", Sources: []Column{col("A", "NAME")}, Transform: TransformCopy, Traced: true},
			{Name: "NAME", Sources: []Column{col("B", "SSN")}, Transform: TransformCopy, Traced: true}},
	}}
	for _, id := range []string{"star", "none", "opaque"} {
		st := analyzeWith(t, `SELECT * FROM TABLE(RESULT_SCAN('`+id+`'))`, h)
		if !st.Flags.UntracedSource {
			t.Errorf("%s: untraced_source is false", id)
		}
		for _, o := range st.Outputs {
			if o.Traced {
				t.Errorf("%s: traced output %+v", id, o)
			}
		}
	}
	// two columns of one name: a reference by name may be either
	st := analyzeWith(t, `SELECT name FROM TABLE(RESULT_SCAN('dup'))`, h)
	checkOutputs(t, st, want{"NAME", []string{"A.NAME", "B.SSN"}, true})
}

// TestResultScan_multiStatement: offsets are relative to each statement.
func TestResultScan_multiStatement(t *testing.T) {
	sts, err := Analyze(context.Background(), "SELECT 1;\n  SELECT * FROM TABLE(RESULT_SCAN( 'q3' ))", Env{Database: "DEMO", Schema: "PUBLIC", Results: history()})
	if err != nil || len(sts) != 2 {
		t.Fatal(sts, err)
	}
	s := sts[1].ResultScans
	if len(s) != 1 || s[0].Start < 0 || sts[1].SQL[s[0].Start:s[0].End] != "'q3'" {
		t.Fatalf("scans %+v in %q", s, sts[1].SQL)
	}
}

package snowflake

import (
	"fmt"
	"testing"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
)

// explainSample is the plan Snowflake's documentation shows for
// EXPLAIN USING JSON SELECT Z1.ID, Z2.ID FROM Z1, Z2 WHERE Z2.ID = Z1.ID
// (SYSTEM$EXPLAIN_PLAN_JSON and EXPLAIN_JSON pages).
const explainSample = `{"GlobalStats":{"partitionsTotal":2,"partitionsAssigned":2,"bytesAssigned":1024},"Operations":[[{"id":0,"operation":"Result","expressions":["Z1.ID","Z2.ID"]},{"id":1,"parentOperators":[0],"operation":"InnerJoin","expressions":["joinKey: (Z2.ID = Z1.ID)"]},{"id":2,"parentOperators":[1],"operation":"TableScan","objects":["TESTDB.TEMPORARY_DOC_TEST.Z2"],"expressions":["ID"],"partitionsAssigned":1,"partitionsTotal":1,"bytesAssigned":512},{"id":3,"parentOperators":[1],"operation":"JoinFilter","expressions":["joinKey: (Z2.ID = Z1.ID)"]},{"id":4,"parentOperators":[3],"operation":"TableScan","objects":["TESTDB.TEMPORARY_DOC_TEST.Z1"],"expressions":["ID"],"partitionsAssigned":1,"partitionsTotal":1,"bytesAssigned":512}]]}`

func TestParseExplainPartitions(t *testing.T) {
	cases := []struct {
		plan string
		want proxy.Estimate
	}{
		{explainSample, proxy.Estimate{Rows: 2, Total: 2, Method: engine.EstimateExplainPartitions}},
		// a pruned scan of one table, as EXPLAIN USING JSON SELECT 1 FROM t WHERE <pred> answers
		{`{"GlobalStats":{"partitionsTotal":250,"partitionsAssigned":3,"bytesAssigned":1179648},"Operations":[[{"id":0,"operation":"Result","expressions":["1"]},{"id":1,"parentOperators":[0],"operation":"Filter","expressions":["ORDERS.ID = 42"]},{"id":2,"parentOperators":[1],"operation":"TableScan","objects":["DEMO.PUBLIC.ORDERS"],"expressions":["ID"],"partitionsAssigned":3,"partitionsTotal":250,"bytesAssigned":1179648}]]}`,
			proxy.Estimate{Rows: 3, Total: 250, Method: engine.EstimateExplainPartitions}},
		// an empty table
		{`{"GlobalStats":{"partitionsTotal":0,"partitionsAssigned":0,"bytesAssigned":0},"Operations":[[]]}`,
			proxy.Estimate{Rows: 0, Total: 0, Method: engine.EstimateExplainPartitions}},
	}
	for _, c := range cases {
		got, err := parseExplainPartitions(c.plan)
		if err != nil || got != c.want {
			t.Errorf("parse %.60s...: %+v, %v; want %+v", c.plan, got, err, c.want)
		}
	}
	for _, bad := range []string{
		``, `not json`, `[]`, `{}`, `{"GlobalStats":{}}`,
		`{"GlobalStats":{"partitionsTotal":5}}`,
		`{"GlobalStats":{"partitionsTotal":2,"partitionsAssigned":3}}`,
		`{"GlobalStats":{"partitionsTotal":-1,"partitionsAssigned":0}}`,
		`{"GlobalStats":{"partitionsTotal":"2","partitionsAssigned":"1"}}`,
	} {
		if got, err := parseExplainPartitions(bad); err == nil {
			t.Errorf("parse %q: %+v, want an error", bad, got)
		}
	}
}

func TestParseExplainScans(t *testing.T) {
	got, err := parseExplainScans(explainSample)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Estimate{Method: engine.EstimateExplainPartitions, Rows: 2, Total: 2, Share: 1, Bytes: 1024, Scans: []engine.Scan{
		{Object: "TESTDB.TEMPORARY_DOC_TEST.Z2", Rows: 1, Total: 1, Share: 1, Full: true},
		{Object: "TESTDB.TEMPORARY_DOC_TEST.Z1", Rows: 1, Total: 1, Share: 1, Full: true},
	}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("documented plan:\n got %+v\nwant %+v", got, want)
	}
	// A join of a pruned scan and a full one, in two steps.
	got, err = parseExplainScans(`{"GlobalStats":{"partitionsTotal":260,"partitionsAssigned":13,"bytesAssigned":5000},"Operations":[` +
		`[{"id":0,"operation":"Result"},{"id":1,"parentOperators":[0],"operation":"TableScan","objects":["DEMO.PUBLIC.ORDERS"],"partitionsAssigned":3,"partitionsTotal":250,"bytesAssigned":3000}],` +
		`[{"id":0,"operation":"TableScan","objects":["DEMO.PUBLIC.\"mixed\""],"partitionsAssigned":10,"partitionsTotal":10,"bytesAssigned":2000}]]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Scans) != 2 || got.Scans[0].Full || !got.Scans[1].Full || got.Scans[1].Object != `DEMO.PUBLIC."mixed"` || got.Bytes != 5000 || got.Rows != 13 || got.Total != 260 {
		t.Errorf("two steps: %+v", got)
	}
	for _, bad := range []string{
		``, `{}`, `{"GlobalStats":{"partitionsTotal":1,"partitionsAssigned":2}}`,
		`{"GlobalStats":{"partitionsTotal":1,"partitionsAssigned":1},"Operations":[[{"operation":"TableScan","objects":["T"]}]]}`,
		`{"GlobalStats":{"partitionsTotal":1,"partitionsAssigned":1},"Operations":[[{"operation":"TableScan","objects":["T"],"partitionsTotal":1,"partitionsAssigned":2}]]}`,
		`{"GlobalStats":{"partitionsTotal":1,"partitionsAssigned":1},"Operations":[[{"operation":"TableScan","partitionsTotal":1,"partitionsAssigned":1}]]}`,
	} {
		if got, err := parseExplainScans(bad); err == nil {
			t.Errorf("parse %q: %+v, want an error", bad, got)
		}
	}
}

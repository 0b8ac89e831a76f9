package snowflake

import (
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

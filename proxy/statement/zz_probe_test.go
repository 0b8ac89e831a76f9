package statement

import (
	"fmt"
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

func TestProbe(t *testing.T) {
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat)
	for _, s := range []string{
		`SELECT "IFF"("_A", 1, 2) FROM "#1" AS "_T"`,
		`SELECT "INSERT"("_A", 1) , "POSITION"(1, 2), "CHAR"(1), "LEFT"(1,2)`,
		`SELECT SUM("_A") OVER (PARTITION BY "_B") FROM "_T" HAVING ROW_NUMBER() OVER (ORDER BY "_A") = 1`,
		`SELECT "_T"."_A" || 'x', ? FROM "_D"."_T"`,
		`SELECT "_D"."_T"."_A" FROM "_D"."_T" JOIN "_U" USING ("_A") NATURAL JOIN "_V"`,
		`SELECT * FROM "_T", LATERAL (SELECT "_A") AS "_X"`,
		`WITH RECURSIVE "_C" ("_N") AS (SELECT 1 UNION ALL SELECT "_N"+1 FROM "_C") SELECT "_N" FROM "_C"`,
		`SELECT "_T".* , "ARRAY_AGG"("_A") FROM "_T" GROUP BY ("_A", "_B")`,
		`SELECT CAST("_A" AS DECIMAL(38,0)), CAST("_A" AS JSON), CAST("_A" AS DATETIME), CAST("_A" AS CHAR), CAST("_A" AS DOUBLE), CAST("_A" AS SIGNED)`,
		`SELECT DATE '2020-01-01', INTERVAL 1 DAY + CURRENT_DATE, CURRENT_TIMESTAMP, "_A" <=> 1`,
		`SELECT "$1" FROM "#2"`,
		`SELECT COUNT(*) FROM "_T" WHERE "_A" IN (SELECT "_B" FROM "_U") AND EXISTS (SELECT 1)`,
		`SELECT a FROM t EXCEPT SELECT b FROM u INTERSECT SELECT c FROM v`,
		`SELECT "OBJECT_CONSTRUCT"("#*") FROM t`,
		`SELECT "_A" AS "_X" FROM t ORDER BY 1 LIMIT 10 OFFSET 5`,
		`SELECT MAX("_A") OVER (PARTITION BY "_B" ORDER BY "_C" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t`,
		`SELECT "_A" FROM t WINDOW w AS (PARTITION BY "_A")`,
		`SELECT 1 FROM t LEFT JOIN u ON TRUE`,
		`SELECT APPROX_COUNT_DISTINCT("_A"), COUNT(DISTINCT "_A", "_B") FROM t`,
	} {
		stmt, err := p.ParseOneStmt(s, "", "")
		fmt.Printf("%v %T\n   %s\n", err, stmt, s)
	}
}

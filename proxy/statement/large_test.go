package statement

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAnalyze_LargeInputsStayLinear feeds inputs of a few hundred KB built
// to trigger quadratic behaviour; each must be analysed quickly. A gateway
// whose analyser is quadratic can be stalled by one request.
func TestAnalyze_LargeInputsStayLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	rep := func(s string, n int, sep string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = strings.ReplaceAll(s, "#", fmt.Sprint(i))
		}
		return strings.Join(parts, sep)
	}
	const n = 20000
	cases := map[string]string{
		"casts":          "SELECT " + rep("a#::int", n, ", ") + " FROM t",
		"paths":          "SELECT " + rep("v:a#.b[0]::string", n, ", ") + " FROM t",
		"tables":         "SELECT * FROM " + rep("t#", n/4, ", "),
		"values":         "INSERT INTO t VALUES " + rep("(#, 'x#')", n, ", "),
		"in list":        "SELECT a FROM t WHERE b IN (" + rep("#", n, ", ") + ")",
		"sum":            "SELECT " + rep("c#", n, " + ") + " AS s FROM t",
		"unaliased":      "SELECT " + rep("f(c#)", n, ", ") + " FROM t",
		"nested calls":   "SELECT " + strings.Repeat("f(", 5000) + "1" + strings.Repeat(")", 5000),
		"nested parens":  "SELECT " + strings.Repeat("(", 20000) + "1" + strings.Repeat(")", 20000),
		"block":          "BEGIN " + rep("UPDATE t SET a = # WHERE b = #;", n/4, " ") + " END",
		"insert columns": "INSERT INTO t (" + rep("c#", n, ", ") + ") SELECT 1",
		"update columns": "UPDATE t SET " + rep("c# = #", n, ", ") + " WHERE id = 1",
		"statements":     rep("SELECT #", n, ";"),
		"ctes":           "WITH " + rep("c# AS (SELECT 1 AS x)", n/10, ", ") + " SELECT x FROM c1",
		"unions":         rep("SELECT a FROM t#", n/10, " UNION ALL "),
	}
	for name, sql := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			if _, err := Analyze(context.Background(), sql, Env{Database: "D", Schema: "S"}); err != nil {
				t.Logf("error (fine): %v", err)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("%d bytes took %v", len(sql), d)
			}
		})
	}
}

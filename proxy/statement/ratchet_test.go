package statement

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"
)

// sqlglotCorpus is the shared corpus of Snowflake strings (see its README).
const sqlglotCorpus = "../../../shared/corpora/sqlglot-snowflake.jsonl"

// Floors for the ratchet: the measured shares on the sqlglot corpus may not
// drop below these. Raise them when the analyser improves.
const (
	floorClassified     = 0.995 // of statement inputs: kind known
	floorComplete       = 0.95  // of statement inputs: Parse.Complete (kind, objects and, for queries, lineage)
	floorCompleteSelect = 0.94  // of SELECT/WITH inputs: Parse.Complete
)

func readCorpus(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open(sqlglotCorpus)
	if err != nil {
		tb.Skipf("sqlglot corpus not available: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			SQL string `json:"sql"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("corpus line: %v", err)
		}
		out = append(out, l.SQL)
	}
	return out
}

// statementInput reports whether a corpus string is a statement rather than
// a bare expression (the corpus also holds fragments such as "CAST(x AS
// INT)"; for those, kind unknown is the right answer).
func statementInput(sql string) bool {
	toks, err := Lex(sql)
	if err != nil || len(toks) == 0 {
		return true
	}
	if toks[0].isOp("(") {
		return true
	}
	if toks[0].Kind != TokIdent {
		return false
	}
	if toks[0].is("GET") && len(toks) > 1 && toks[1].isOp("(") {
		return false
	}
	return sqlVerbs[toks[0].Value] || map[string]bool{
		"BEGIN": true, "DECLARE": true, "VALUES": true, "UNDROP": true, "FROM": true, "TABLE": true,
	}[toks[0].Value]
}

func TestRatchet_SQLGlotCorpus(t *testing.T) {
	corpus := readCorpus(t)
	var inputs, stmts, classified, complete, selects, selComplete int
	for _, sql := range corpus {
		inputs++
		if !statementInput(sql) {
			continue
		}
		stmts++
		sts, err := Analyze(context.Background(), sql, Env{Database: "DB", Schema: "PUBLIC"})
		if err != nil || len(sts) == 0 {
			continue
		}
		okKind, okAll := true, true
		for _, s := range sts {
			okKind = okKind && s.Kind != KindUnknown
			okAll = okAll && s.Parse.Complete
		}
		if okKind {
			classified++
		}
		if okAll {
			complete++
		}
		if sts[0].Kind == KindSelect {
			selects++
			if okAll {
				selComplete++
			}
		}
	}
	share := func(a, b int) float64 { return float64(a) / float64(max(b, 1)) }
	t.Logf("sqlglot corpus: %d inputs, %d statements (the rest are bare expressions)", inputs, stmts)
	t.Logf("classified (kind known): %d/%d = %.1f%%", classified, stmts, 100*share(classified, stmts))
	t.Logf("fully parsed (complete, lineage for queries): %d/%d = %.1f%%", complete, stmts, 100*share(complete, stmts))
	t.Logf("queries fully parsed: %d/%d = %.1f%%", selComplete, selects, 100*share(selComplete, selects))
	if s := share(classified, stmts); s < floorClassified {
		t.Errorf("classified share %.3f fell below the floor %.3f", s, floorClassified)
	}
	if s := share(complete, stmts); s < floorComplete {
		t.Errorf("complete share %.3f fell below the floor %.3f", s, floorComplete)
	}
	if s := share(selComplete, selects); s < floorCompleteSelect {
		t.Errorf("query complete share %.3f fell below the floor %.3f", s, floorCompleteSelect)
	}
}

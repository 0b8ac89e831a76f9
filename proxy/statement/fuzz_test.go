package statement

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// readKinds are the kinds that only read.
var readKinds = map[Kind]bool{KindSelect: true, KindShow: true, KindDescribe: true, KindList: true}

// hiddenDanger is the independent oracle of the fuzz and property tests: a
// statement that the analysis calls a read, complete, must not hold a
// reserved write/DDL/DCL verb as a keyword (outside strings, comments and
// quoted names, and not as a function name).
func hiddenDanger(st Statement) bool {
	if !readKinds[st.Kind] || !st.Parse.Complete {
		return false
	}
	toks, err := Lex(st.SQL)
	if err != nil {
		return false
	}
	next := func(i int) Token {
		if i+1 < len(toks) {
			return toks[i+1]
		}
		return Token{}
	}
	for i, t := range toks {
		if t.Kind != TokIdent {
			continue
		}
		n := next(i)
		switch {
		case reservedVerbs[t.Value] && !n.isOp("("):
			return true
		case (t.is("COPY") || t.is("MERGE")) && n.is("INTO"),
			t.is("EXECUTE") && n.is("IMMEDIATE"),
			t.is("TRUNCATE") && n.is("TABLE"),
			(t.is("PUT") || t.is("GET") || t.is("REMOVE") || t.is("RM")) && (n.Kind == TokStage || n.Kind == TokURI):
			return true
		}
	}
	return false
}

func seedCorpus(f *testing.F) {
	for _, sql := range readCorpus(f) {
		f.Add(sql)
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var cs []confCase
		if yaml.Unmarshal(b, &cs) == nil {
			for _, c := range cs {
				f.Add(c.SQL)
			}
		}
	}
}

// FuzzAnalyze checks that no input panics, that Analyze and Split agree on
// the statements, and that no statement hides danger behind a read.
// Run: go test ./proxy/statement -run '^$' -fuzz FuzzAnalyze -fuzztime 60s
func FuzzAnalyze(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, sql string) {
		parts, splitErr := Split(sql)
		sts, err := Analyze(context.Background(), sql, Env{Database: "DB", Schema: "S"})
		if (splitErr == nil) != (err == nil) {
			t.Fatalf("Split error %v but Analyze error %v", splitErr, err)
		}
		if err != nil {
			return
		}
		if len(parts) != len(sts) {
			t.Fatalf("Split gave %d statements, Analyze %d", len(parts), len(sts))
		}
		for i, st := range sts {
			if st.SQL != parts[i] || st.Index != i || st.Count != len(sts) {
				t.Fatalf("statement %d: sql/index/count mismatch", i)
			}
			if strings.HasPrefix(st.Parse.Error, internalError) {
				t.Fatalf("analysis panicked on %q: %s", st.SQL, st.Parse.Error)
			}
			if hiddenDanger(st) {
				t.Fatalf("statement %q read as a complete %s", st.SQL, st.Kind)
			}
			if st.Kind == KindUnknown && st.Parse.Complete {
				t.Fatalf("unknown statement marked complete: %q", st.SQL)
			}
		}
	})
}

// TestProperty_NoHiddenDanger hides dangerous statements behind reads in
// every way a request can be shaped, and checks that the most dangerous
// kind is still visible (or the statement is unknown).
func TestProperty_NoHiddenDanger(t *testing.T) {
	benign := []string{
		"SELECT 1", "SELECT * FROM customers", "SHOW TABLES", "SELECT 'a;b' AS x",
		"WITH c AS (SELECT 1 AS a) SELECT a FROM c", "DESCRIBE TABLE customers", "SELECT $$x$$",
	}
	danger := []string{
		"DROP TABLE customers", "GRANT ROLE accountadmin TO USER eve", "DELETE FROM customers",
		"COPY INTO @~/x FROM customers", "TRUNCATE TABLE customers", "INSERT INTO t SELECT * FROM customers",
		"UPDATE customers SET ssn = NULL", "CREATE OR REPLACE TABLE customers (a INT)", "REVOKE ROLE r FROM USER u",
		"ALTER USER eve SET PASSWORD = 'x'", "REMOVE @~", "UNDROP TABLE t",
	}
	shapes := []string{
		"%s; %s", "%s /* c */; %s", "%s -- c\n; %s", "%s;\n\n%s;", "BEGIN %s; %s; END",
		"DECLARE x INT DEFAULT 1; BEGIN %s; IF (x > 0) THEN %s; END IF; END",
		"EXECUTE IMMEDIATE $$BEGIN %s; %s; END;$$", "%s ->> %s", "EXECUTE IMMEDIATE '%s'; EXECUTE IMMEDIATE '%s'",
	}
	for _, b := range benign {
		for _, d := range danger {
			want := classify(mustLex(t, d), d, Env{}, 0).kind
			for _, shape := range shapes {
				if strings.Contains(shape, "$$") && strings.Contains(b, "$$") {
					continue // $$ strings do not nest, in Snowflake either
				}
				sql := strings.Replace(strings.Replace(shape, "%s", b, 1), "%s", d, 1)
				if strings.HasPrefix(shape, "EXECUTE IMMEDIATE '") {
					sql = strings.Replace(strings.Replace(shape, "%s", strings.ReplaceAll(b, "'", "''"), 1), "%s", d, 1)
				}
				sts, err := Analyze(context.Background(), sql, Env{Database: "DB", Schema: "S"})
				if err != nil {
					t.Errorf("%q: %v", sql, err)
					continue
				}
				top := KindSelect
				for _, st := range sts {
					if kindInfo[st.Kind].rank > kindInfo[top].rank {
						top = st.Kind
					}
					if hiddenDanger(st) {
						t.Errorf("%q: statement %q read as a complete %s", sql, st.SQL, st.Kind)
					}
				}
				if kindInfo[top].rank < kindInfo[want].rank {
					t.Errorf("%q: most dangerous kind %s, want at least %s", sql, top, want)
				}
			}
		}
	}
}

func mustLex(t *testing.T, sql string) []Token {
	toks, err := Lex(sql)
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

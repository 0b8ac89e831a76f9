package statement

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []string
	}{
		{"one", "SELECT 1", []string{"SELECT 1"}},
		{"two", "SELECT 1; DROP TABLE x", []string{"SELECT 1", "DROP TABLE x"}},
		{"trailing semicolon", "SELECT 1;", []string{"SELECT 1"}},
		{"empty dropped", " ; ;SELECT 1;;  ; ", []string{"SELECT 1"}},
		{"dollar string", "SELECT $$a;b$$", []string{"SELECT $$a;b$$"}},
		{"string", "SELECT 'a;b', 'it''s;', 'x\\';y'", []string{"SELECT 'a;b', 'it''s;', 'x\\';y'"}},
		{"quoted ident", `SELECT "a;b" FROM "t;""x"`, []string{`SELECT "a;b" FROM "t;""x"`}},
		{"line comment", "SELECT 1 -- c; DROP TABLE x\n; SELECT 2", []string{"SELECT 1 -- c; DROP TABLE x", "SELECT 2"}},
		{"slash comment", "SELECT 1 // c; DROP\n", []string{"SELECT 1 // c; DROP"}},
		{"block comment", "SELECT /* ; */ 1; /* only a comment */; SELECT 2", []string{"SELECT /* ; */ 1", "SELECT 2"}},
		{"comment hides second statement", "SELECT 1 /* */; DROP TABLE t", []string{"SELECT 1 /* */", "DROP TABLE t"}},
		{"trailing comment dropped", "SELECT 1; -- done", []string{"SELECT 1"}},
		{"transaction begin", "BEGIN; DELETE FROM t; COMMIT;", []string{"BEGIN", "DELETE FROM t", "COMMIT"}},
		{"begin transaction", "BEGIN TRANSACTION; SELECT 1", []string{"BEGIN TRANSACTION", "SELECT 1"}},
		{"begin work at end", "BEGIN WORK", []string{"BEGIN WORK"}},
		{"block", "BEGIN\n  CREATE TABLE t (a INT);\n  DROP TABLE u;\nEND;\nSELECT 1",
			[]string{"BEGIN\n  CREATE TABLE t (a INT);\n  DROP TABLE u;\nEND", "SELECT 1"}},
		{"declare block", "DECLARE x INT DEFAULT 1; c CURSOR FOR SELECT a FROM t; BEGIN IF (x > 0) THEN DELETE FROM t; END IF; FOR r IN c DO x := x + 1; END FOR; RETURN x; END; SELECT 2",
			[]string{"DECLARE x INT DEFAULT 1; c CURSOR FOR SELECT a FROM t; BEGIN IF (x > 0) THEN DELETE FROM t; END IF; FOR r IN c DO x := x + 1; END FOR; RETURN x; END", "SELECT 2"}},
		{"nested blocks and case", "BEGIN LET y := CASE WHEN 1=1 THEN 2 END; BEGIN SELECT 1; END; CASE (y) WHEN 2 THEN RETURN 1; END CASE; WHILE (y < 3) LOOP y := y + 1; END LOOP; END; DROP TABLE z",
			[]string{"BEGIN LET y := CASE WHEN 1=1 THEN 2 END; BEGIN SELECT 1; END; CASE (y) WHEN 2 THEN RETURN 1; END CASE; WHILE (y < 3) LOOP y := y + 1; END LOOP; END", "DROP TABLE z"}},
		{"block with transaction inside", "BEGIN BEGIN TRANSACTION; DELETE FROM t; COMMIT; END; SELECT 3",
			[]string{"BEGIN BEGIN TRANSACTION; DELETE FROM t; COMMIT; END", "SELECT 3"}},
		{"execute immediate dollar", "EXECUTE IMMEDIATE $$BEGIN DROP TABLE a; END;$$; SELECT 1",
			[]string{"EXECUTE IMMEDIATE $$BEGIN DROP TABLE a; END;$$", "SELECT 1"}},
		{"procedure body block", "CREATE OR REPLACE PROCEDURE p() RETURNS INT LANGUAGE SQL AS BEGIN DELETE FROM t; RETURN 1; END; CALL p()",
			[]string{"CREATE OR REPLACE PROCEDURE p() RETURNS INT LANGUAGE SQL AS BEGIN DELETE FROM t; RETURN 1; END", "CALL p()"}},
		{"ctas is not a block", "CREATE TABLE t AS SELECT 1; DROP TABLE t", []string{"CREATE TABLE t AS SELECT 1", "DROP TABLE t"}},
		{"drop if exists", "DROP TABLE IF EXISTS a; DROP TABLE IF EXISTS b", []string{"DROP TABLE IF EXISTS a", "DROP TABLE IF EXISTS b"}},
		{"put uri", "PUT file:///tmp/a.csv @~/x; LIST @~", []string{"PUT file:///tmp/a.csv @~/x", "LIST @~"}},
		{"unicode", "SELECT 'é;ü', \"naïve;\" FROM t; SELECT 2", []string{"SELECT 'é;ü', \"naïve;\" FROM t", "SELECT 2"}},
		{"fullwidth semicolon is not a separator", "SELECT 1；DROP TABLE x", []string{"SELECT 1；DROP TABLE x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.sql)
			if err != nil {
				t.Fatalf("Split: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Split(%q)\n got %q\nwant %q", tt.sql, got, tt.want)
			}
		})
	}
}

func TestSplit_Unterminated(t *testing.T) {
	for _, sql := range []string{
		"SELECT 'abc", `SELECT "abc`, "SELECT $$abc", "SELECT 1 /* x", "SELECT 'a\\'", "SELECT 'a''",
	} {
		t.Run(sql, func(t *testing.T) {
			_, err := Split(sql)
			if !errors.Is(err, ErrUnterminated) {
				t.Fatalf("Split(%q) error = %v, want ErrUnterminated", sql, err)
			}
		})
	}
}

// TestAnalyze_Terminates guards inputs that once made a loop spin.
func TestAnalyze_Terminates(t *testing.T) {
	for _, sql := range []string{
		"USE SECONDARY ROLES a, 1", "USE SECONDARY ROLES 1", "USE SECONDARY ROLES a,", "USE SECONDARY ROLES ,,",
	} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = Analyze(t.Context(), sql, Env{})
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Analyze(%q) did not return", sql)
		}
	}
}

func TestAnalyze_BlockStartingWithSQLVerb(t *testing.T) {
	// a statement starting with SET that the block reading sees: it must
	// not recurse into itself.
	sts, err := Analyze(t.Context(), "BEGIN SET x = 1; END", Env{})
	if err != nil || len(sts) != 1 || sts[0].Kind != KindScripting {
		t.Fatalf("got %v %+v", err, sts)
	}
}

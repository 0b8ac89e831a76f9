package statement

import (
	"context"
	"testing"
)

// TestAnalyze_Kinds covers one statement of every form the classifier knows;
// the conformance corpus checks objects and lineage in depth.
func TestAnalyze_Kinds(t *testing.T) {
	tests := []struct {
		sql  string
		kind Kind
		cat  Category
	}{
		{"SELECT 1", KindSelect, CategoryRead},
		{"WITH a AS (SELECT 1) SELECT * FROM a", KindSelect, CategoryRead},
		{"INSERT INTO t VALUES (1)", KindInsert, CategoryWrite},
		{"UPDATE t SET a = 1 WHERE b = 2", KindUpdate, CategoryWrite},
		{"DELETE FROM t WHERE a = 1", KindDelete, CategoryWrite},
		{"MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", KindMerge, CategoryWrite},
		{"CREATE TABLE t (a INT)", KindCreate, CategoryDDL},
		{"ALTER TABLE t ADD COLUMN b INT", KindAlter, CategoryDDL},
		{"DROP TABLE t", KindDrop, CategoryDDL},
		{"UNDROP TABLE t", KindUndrop, CategoryDDL},
		{"TRUNCATE TABLE t", KindTruncate, CategoryWrite},
		{"GRANT SELECT ON TABLE t TO ROLE r", KindGrant, CategoryDCL},
		{"REVOKE SELECT ON TABLE t FROM ROLE r", KindRevoke, CategoryDCL},
		{"COPY INTO t FROM @s", KindCopy, CategoryWrite},
		{"COPY INTO @s FROM t", KindCopy, CategoryWrite},
		{"PUT file:///a @s", KindPut, CategoryWrite},
		{"GET @s file:///tmp", KindGet, CategoryAdmin},
		{"LIST @s", KindList, CategoryRead},
		{"REMOVE @s", KindRemove, CategoryWrite},
		{"USE WAREHOUSE w", KindUse, CategorySession},
		{"SHOW TABLES", KindShow, CategoryRead},
		{"DESCRIBE TABLE t", KindDescribe, CategoryRead},
		{"CALL p()", KindCall, CategoryAdmin},
		{"EXECUTE IMMEDIATE 'SELECT 1'", KindExecuteImmediate, CategoryAdmin},
		{"BEGIN SELECT 1; END", KindScripting, CategoryAdmin},
		{"BEGIN", KindBegin, CategoryTransaction},
		{"COMMIT", KindCommit, CategoryTransaction},
		{"ROLLBACK", KindRollback, CategoryTransaction},
		{"SET x = 1", KindSet, CategorySession},
		{"UNSET x", KindUnset, CategorySession},
		{"ALTER SESSION SET TIMEZONE = 'UTC'", KindAlter, CategorySession},
		{"EXPLAIN SELECT 1", KindExplain, CategoryRead},
		{"COMMENT ON TABLE t IS 'x'", KindComment, CategoryDDL},
		{"FROBNICATE t", KindUnknown, CategoryUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			sts, err := Analyze(context.Background(), tt.sql, Env{Database: "D", Schema: "S"})
			if err != nil {
				t.Fatal(err)
			}
			if len(sts) != 1 {
				t.Fatalf("got %d statements", len(sts))
			}
			if sts[0].Kind != tt.kind || sts[0].Category != tt.cat {
				t.Errorf("kind/category = %s/%s, want %s/%s (error %q)", sts[0].Kind, sts[0].Category, tt.kind, tt.cat, sts[0].Parse.Error)
			}
			if sts[0].Kind == KindUnknown && sts[0].Parse.Complete {
				t.Error("unknown statement marked complete")
			}
		})
	}
}

func TestAnalyze_Errors(t *testing.T) {
	if _, err := Analyze(context.Background(), "SELECT 'unterminated", Env{}); err == nil {
		t.Error("unterminated string: no error")
	}
	sts, err := Analyze(context.Background(), "SELECT 1; SELECT 2", Env{})
	if err != nil || len(sts) != 2 || sts[1].Index != 1 || sts[1].Count != 2 {
		t.Errorf("index/count wrong: %v %+v", err, sts)
	}
}

// TestAnalyze_NoCatalogNeverGuesses checks that without a catalog a star is
// untraced, and that with one it is expanded.
func TestAnalyze_NoCatalogNeverGuesses(t *testing.T) {
	sql := "SELECT * FROM customers"
	sts, _ := Analyze(context.Background(), sql, Env{Database: "D", Schema: "S"})
	if len(sts[0].Outputs) != 1 || sts[0].Outputs[0].Traced {
		t.Errorf("without a catalog: %+v", sts[0].Outputs)
	}
	cat := mapCatalog{"D.S.CUSTOMERS": {"A", "B"}}
	sts, _ = Analyze(context.Background(), sql, Env{Database: "D", Schema: "S", Catalog: cat})
	if len(sts[0].Outputs) != 2 || !sts[0].Outputs[0].Traced || sts[0].Outputs[1].Name != "B" {
		t.Errorf("with a catalog: %+v", sts[0].Outputs)
	}
}

// TestAnalyze_Concurrent runs the corpus from several goroutines; with
// -race it checks the parser pool and shared tables.
func TestAnalyze_Concurrent(t *testing.T) {
	corpus := readCorpus(t)
	if len(corpus) > 300 {
		corpus = corpus[:300]
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for _, sql := range corpus {
				_, _ = Analyze(context.Background(), sql, Env{Database: "D", Schema: "S"})
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

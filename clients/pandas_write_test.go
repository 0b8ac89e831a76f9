package clients_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/proxy/audit"
)

// TestPandas_writePandas: write_pandas creates a temporary stage, PUTs a
// Parquet file into it and copies the file into the table. PUT sends the
// file from the client straight to the stage's storage: the gateway never
// sees the rows, so it can neither record what was loaded nor classify
// it, and the default library denies PUT (and GET) for every identity. A
// data engineer's write_pandas therefore fails at the PUT with the reason,
// and nothing is loaded; the DataFrame's rows go in through INSERT, which
// the gateway reads, instead.
func TestPandas_writePandas(t *testing.T) {
	s := startStack(t)
	got := pandas(t, s, "engineer",
		[]any{"execute", "CREATE TABLE scores (ID INT, SCORE FLOAT, LABEL VARCHAR)"},
		[]any{"write", "SCORES", false},
		[]any{"fetch", "SELECT count(*) AS N FROM scores"},
		[]any{"execute", "INSERT INTO scores VALUES (1, 0.5, 'a'), (2, 0.25, 'b')"},
		[]any{"fetch", "SELECT count(*) AS M FROM scores"},
	)
	got["execute CREATE TABLE scores (ID INT, SCORE FLOAT, LABEL VARCHAR)"].value(t)
	w := got["write SCORES"]
	if w.OK {
		t.Fatalf("write_pandas loaded through a PUT the gateway cannot see: %s", w.Value)
	}
	for _, want := range []string{"003001", "PUT moves files between the client and a stage outside the gateway", "decision "} {
		if !strings.Contains(w.Error, want) {
			t.Errorf("write_pandas error %q lacks %q", w.Error, want)
		}
	}
	if f := got["fetch SELECT count(*) AS N FROM scores"].frame(t); len(f.Records) != 1 || fmt.Sprint(f.Records[0]["N"]) != "0" {
		t.Errorf("rows after the denied write_pandas: %+v, want none", f.Records)
	}
	got["execute INSERT INTO scores VALUES (1, 0.5, 'a'), (2, 0.25, 'b')"].value(t)
	if f := got["fetch SELECT count(*) AS M FROM scores"].frame(t); len(f.Records) != 1 || fmt.Sprint(f.Records[0]["M"]) != "2" {
		t.Errorf("rows after INSERT: %+v, want 2", f.Records)
	}
	// The trail holds the PUT, decided deny.
	denied := false
	for _, e := range s.events(audit.TypeStatement) {
		if e.Statement != nil && e.Decision != nil && strings.HasPrefix(strings.ToUpper(e.Statement.SQL), "PUT ") && e.Decision.Action == "deny" {
			denied = true
		}
	}
	if !denied {
		t.Error("the trail holds no denied PUT")
	}
}

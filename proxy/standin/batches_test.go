package standin

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// TestBatches: a query whose columns all have a batchable type is handed
// over in record batches when the caller reads them, and one with any
// other type, a describe, a caller that reads rows, or a stand-in told to
// read rows only is read a row at a time. The batches hold every row.
func TestBatches(t *testing.T) {
	if !Batches {
		t.Fatal("built without the duckdb_arrow tag: results are read a row at a time (make sets the tag)")
	}
	s, c := openSession(t)
	ctx := context.Background()
	typed := `SELECT range AS n, range::DECIMAL(12,2) AS d, 'x' || range AS s, range % 2 = 0 AS b, DATE '2024-01-01' AS dt,
		TIMESTAMP '2024-01-01 00:00:00.5' AS ts, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS tz, TIME '01:02:03' AS tm, 1.5::DOUBLE AS f, '\x01'::BLOB AS bl FROM range(5000)`
	for _, tc := range []struct {
		name    string
		x       proxy.Exec
		rowsBy  bool
		batches bool
	}{
		{"batchable", proxy.Exec{SQL: typed, Batches: true}, false, true},
		{"rows asked", proxy.Exec{SQL: typed}, false, false},
		{"describe", proxy.Exec{SQL: typed, Batches: true, Describe: true}, false, false},
		{"json column", proxy.Exec{SQL: `SELECT '{"a":1}'::JSON AS j`, Batches: true}, false, false},
		{"uuid column", proxy.Exec{SQL: `SELECT uuid() AS u`, Batches: true}, false, false},
		{"list column", proxy.Exec{SQL: `SELECT [1, 2] AS l`, Batches: true}, false, false},
		{"hugeint column", proxy.Exec{SQL: `SELECT 1::HUGEINT AS h`, Batches: true}, false, false},
		{"rows only", proxy.Exec{SQL: typed, Batches: true}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.RowsOnly = tc.rowsBy
			defer func() { s.RowsOnly = false }()
			tc.x.Kind = statement.KindSelect
			out, err := c.Run(ctx, tc.x)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Rows.Close()
			b, ok := out.Rows.(proxy.BatchRows)
			if ok != tc.batches {
				t.Fatalf("read in batches: %v, want %v", ok, tc.batches)
			}
			if !ok {
				return
			}
			var rows int64
			for {
				rec, err := b.NextBatch()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if int(rec.NumCols()) != len(out.Rows.Columns()) {
					t.Fatalf("%d columns in a batch, %d described", rec.NumCols(), len(out.Rows.Columns()))
				}
				rows += rec.NumRows()
			}
			if rows != 5000 {
				t.Errorf("%d rows in batches, want 5000", rows)
			}
			want := map[string]string{"N": "fixed", "D": "fixed", "S": "text", "B": "boolean", "DT": "date", "TS": "timestamp_ntz", "TZ": "timestamp_ltz", "TM": "time", "F": "real", "BL": "binary"}
			for _, col := range out.Rows.Columns() {
				if want[col.Name] != col.Type {
					t.Errorf("column %s is %s, want %s", col.Name, col.Type, want[col.Name])
				}
			}
		})
	}
}

// TestBatches_perSession: whether a text's result comes in batches is
// remembered for the session that checked it: another session's
// temporary table of the same name, with a JSON column, is read a row at
// a time and keeps its type.
func TestBatches_perSession(t *testing.T) {
	if !Batches {
		t.Fatal("built without the duckdb_arrow tag: results are read a row at a time (make sets the tag)")
	}
	s, a := openSession(t)
	ctx := context.Background()
	pb, err := s.Open(ctx, proxy.OpenParams{Database: Database, Schema: Schema})
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	b := pb.(*conn)
	run := func(c *conn, q string, kind statement.Kind) *proxy.Outcome {
		t.Helper()
		out, err := c.Run(ctx, proxy.Exec{SQL: q, Kind: kind, Batches: true})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return out
	}
	run(b, `CREATE TEMPORARY TABLE shadowed AS SELECT '{"a":1}'::JSON AS j`, statement.KindCreate)
	run(a, `CREATE TABLE shadowed AS SELECT 1 AS j`, statement.KindCreate)
	for _, tc := range []struct {
		c       *conn
		batches bool
		typ     string
	}{{a, true, "fixed"}, {b, false, "variant"}, {a, true, "fixed"}} {
		out := run(tc.c, `SELECT j FROM shadowed`, statement.KindSelect)
		_, ok := out.Rows.(proxy.BatchRows)
		if ok != tc.batches || out.Rows.Columns()[0].Type != tc.typ {
			t.Errorf("session %d: in batches %v, column %s; want %v, %s", tc.c.id, ok, out.Rows.Columns()[0].Type, tc.batches, tc.typ)
		}
		out.Rows.Close()
	}
}

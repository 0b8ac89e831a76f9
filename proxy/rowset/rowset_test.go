package rowset

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// encoded encodes what a holds and reads it back as a stream.
func encoded(t testing.TB, a *Arrow) *ipc.Reader {
	t.Helper()
	b, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func decode(t *testing.T, b []byte) arrow.RecordBatch {
	t.Helper()
	r, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Next() {
		t.Fatalf("no record batch: %v", r.Err())
	}
	rec := r.RecordBatch()
	rec.Retain()
	return rec
}

// TestArrow: each type's cell text becomes Snowflake's physical Arrow
// type with the metadata readers need, NULLs stay NULL, and a NUMBER is
// int64 in a chunk whose values fit, decimal128 in one where they do not.
func TestArrow(t *testing.T) {
	fields := []Field{
		{Name: "N", Type: "fixed", Precision: 38, Scale: 2},
		{Name: "F", Type: "real"},
		{Name: "S", Type: "text"},
		{Name: "B", Type: "boolean"},
		{Name: "D", Type: "date"},
		{Name: "TM", Type: "time", Scale: 6},
		{Name: "NTZ", Type: "timestamp_ntz", Scale: 3},
		{Name: "NTZ9", Type: "timestamp_ntz", Scale: 9},
		{Name: "TZ", Type: "timestamp_tz", Scale: 9},
		{Name: "BIN", Type: "binary"},
		{Name: "V", Type: "variant"},
	}
	a, err := NewArrow(fields)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	row := []string{"-7.25", "1.5", "héllo", "1", "19782", "47655.123456", "1709212455.123", "-1.250000000", "1709212455.500000000 1560", "DEADBEEF", `{"a":1}`}
	all := make([]bool, len(row))
	for i := range all {
		all[i] = true
	}
	if err := a.Append(row, all); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(make([]string, len(row)), make([]bool, len(row))); err != nil {
		t.Fatal(err)
	}
	b, err := a.Encode()
	if err != nil {
		t.Fatal(err)
	}
	rec := decode(t, b)
	defer rec.Release()
	if rec.NumRows() != 2 || a.Rows() != 0 {
		t.Fatalf("%d rows encoded, %d left", rec.NumRows(), a.Rows())
	}
	var got []string
	for i, c := range rec.Columns() {
		if !c.IsNull(1) {
			t.Errorf("%s: the NULL row is not null", fields[i].Name)
		}
		got = append(got, fmt.Sprintf("%s:%s=%s", fields[i].Name, c.DataType(), c.ValueStr(0)))
	}
	want := []string{
		"N:int64=-725", "F:float64=1.5", "S:utf8=héllo", "B:bool=true", "D:date32=2024-02-29", "TM:int64=47655123456",
		"NTZ:int64=1709212455123", `NTZ9:struct<epoch: int64, fraction: int32>={"epoch":-1,"fraction":250000000}`,
		`TZ:struct<epoch: int64, fraction: int32, timezone: int32>={"epoch":1709212455,"fraction":500000000,"timezone":1560}`,
		"BIN:binary=3q2+7w==", `V:utf8={"a":1}`,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column %d: %s, want %s", i, got[i], want[i])
		}
	}
	md := rec.Schema().Field(0).Metadata
	for k, v := range map[string]string{"logicalType": "FIXED", "precision": "38", "scale": "2"} {
		if x, _ := md.GetValue(k); x != v {
			t.Errorf("metadata %s = %q, want %q", k, x, v)
		}
	}
	if x, _ := rec.Schema().Field(8).Metadata.GetValue("byteLength"); x != "16" {
		t.Errorf("TIMESTAMP_TZ with three fields: byteLength %q, want 16", x)
	}

	// The next chunk holds a number past 64 bits: decimal128 there.
	row[0] = "123456789012345678901234.5"
	if err := a.Append(row, all); err != nil {
		t.Fatal(err)
	}
	b, _ = a.Encode()
	rec2 := decode(t, b)
	defer rec2.Release()
	n := rec2.Column(0).(*array.Decimal128)
	if n.DataType().String() != "decimal(38, 2)" || n.ValueStr(0) != "123456789012345678901234.5" {
		t.Errorf("a wide number: %s %s", n.DataType(), n.ValueStr(0))
	}
	for _, bad := range [][2]string{{"fixed", "1.234"}, {"fixed", "x"}, {"boolean", "maybe"}, {"binary", "XYZ"}, {"timestamp_tz", "1 "}} {
		a, _ := NewArrow([]Field{{Name: "C", Type: bad[0], Precision: 10, Scale: 2}})
		if err := a.Append([]string{bad[1]}, []bool{true}); err == nil {
			t.Errorf("%s %q: no error", bad[0], bad[1])
		}
		a.Release()
	}
}

// TestJSON: rows as Snowflake's JSON rowset, escaped, NULL as null.
func TestJSON(t *testing.T) {
	var j JSON
	_ = j.Append([]string{"a\"b", "x"}, []bool{true, false})
	_ = j.Append([]string{"\x01\n", "ok"}, []bool{true, true})
	b, _ := j.Encode()
	if got := string(b); got != `["a\"b",null],["\u0001\n","ok"]` || j.Rows() != 0 {
		t.Errorf("%s", got)
	}
}

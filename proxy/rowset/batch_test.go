package rowset

import (
	"math"
	"math/big"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestTextSize: the bytes counted without rendering are the bytes the
// values render as, NULLs none.
func TestTextSize(t *testing.T) {
	mem := memory.DefaultAllocator
	ints := array.NewInt64Builder(mem)
	for _, v := range []int64{0, 9, 10, -1, -10, 99, 100, math.MaxInt64, math.MinInt64, 123456789} {
		ints.Append(v)
	}
	ints.AppendNull()
	small := array.NewInt8Builder(mem)
	small.AppendValues([]int8{-128, 127, 0, -5}, nil)
	small.AppendNull()
	dates := array.NewDate32Builder(mem)
	dates.AppendValues([]arrow.Date32{-719162, -1, 0, 19723, 2932896}, nil)
	dates.AppendNull()
	bools := array.NewBooleanBuilder(mem)
	bools.AppendValues([]bool{true, false}, nil)
	bools.AppendNull()
	ts := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Microsecond})
	ts.AppendValues([]arrow.Timestamp{-1, 0, 1_500_000, 1709212455123456}, nil)
	ts.AppendNull()
	intArr := ints.NewArray()
	intArr.Retain()
	decs := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: 3})
	for _, v := range []int64{0, 5, -5, 999, -999, 1000, -1000, 123456789012345678, -123456789012345678} {
		decs.Append(decimal128.FromI64(v))
	}
	decs.Append(decimal128.FromBigInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(30), nil)))
	decs.AppendNull()
	decs0 := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: 0})
	decs0.AppendValues([]decimal128.Num{decimal128.FromI64(0), decimal128.FromI64(-7), decimal128.FromI64(42)}, nil)
	for _, tc := range []struct {
		f   Field
		arr arrow.Array
	}{
		{Field{Type: "fixed"}, intArr},
		{Field{Type: "fixed", Scale: 2}, intArr},
		{Field{Type: "fixed"}, small.NewArray()},
		{Field{Type: "date"}, dates.NewArray()},
		{Field{Type: "fixed", Precision: 38, Scale: 3}, decs.NewArray()},
		{Field{Type: "fixed", Precision: 38}, decs0.NewArray()},
		{Field{Type: "boolean"}, bools.NewArray()},
		{Field{Type: "timestamp_ntz", Scale: 9}, ts.NewArray()},
	} {
		text, err := Text(tc.f, tc.arr)
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for i := range tc.arr.Len() {
			if tc.arr.IsValid(i) {
				want += int64(len(text(nil, i)))
			}
		}
		if tc.arr.Len() < 3 {
			t.Fatalf("%s: %d values", tc.arr.DataType(), tc.arr.Len())
		}
		got, err := TextSize(tc.f, tc.arr)
		if err != nil || got != want {
			t.Errorf("%s %s: %d bytes counted, %d rendered (%v)", tc.f.Type, tc.arr.DataType(), got, want, err)
		}
		tc.arr.Release()
	}
}

// TestArrowColumns: record batches appended as columns are written as one
// stream of as many batches, in Snowflake's conventions: a NUMBER column
// is int64 in every batch of a chunk whose values all fit, decimal128 in
// every batch of one where one does not; a timestamp above scale 7 is a
// struct of epoch and fraction.
func TestArrowColumns(t *testing.T) {
	mem := memory.DefaultAllocator
	fields := []Field{{Name: "N", Type: "fixed", Precision: 38, Scale: 2}, {Name: "TS", Type: "timestamp_ntz", Scale: 9}}
	a, err := NewArrow(fields)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	batch := func(n decimal128.Num, micro int64) []arrow.Array {
		db := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: 2})
		db.Append(n)
		db.AppendNull()
		tb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Microsecond})
		tb.Append(arrow.Timestamp(micro))
		tb.AppendNull()
		return []arrow.Array{db.NewArray(), tb.NewArray()}
	}
	huge := decimal128.FromBigInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(30), nil))
	for _, tc := range []struct {
		nums []decimal128.Num
		want arrow.Type
	}{
		{[]decimal128.Num{decimal128.FromI64(-125), decimal128.FromI64(7)}, arrow.INT64},
		{[]decimal128.Num{decimal128.FromI64(-125), huge, decimal128.FromI64(7)}, arrow.DECIMAL128},
	} {
		for _, n := range tc.nums {
			cols := batch(n, -1_500_001)
			if err := a.AppendColumns(cols); err != nil {
				t.Fatal(err)
			}
			releaseAll(cols)
		}
		r := encoded(t, a)
		batches := 0
		for r.Next() {
			rec := r.RecordBatch()
			if got := rec.Column(0).DataType().ID(); got != tc.want {
				t.Errorf("batch %d: NUMBER as %s, want %s", batches, got, tc.want)
			}
			ts, ok := rec.Column(1).(*array.Struct)
			if !ok {
				t.Fatalf("TIMESTAMP_NTZ(9) as %s", rec.Column(1).DataType())
			}
			if e, f := ts.Field(0).(*array.Int64).Value(0), ts.Field(1).(*array.Int32).Value(0); e != -2 || f != 499_999_000 {
				t.Errorf("-1.500001 s as epoch %d, fraction %d", e, f)
			}
			if !rec.Column(0).IsNull(1) || !ts.IsNull(1) {
				t.Error("NULLs lost")
			}
			batches++
		}
		r.Release()
		if batches != len(tc.nums) {
			t.Errorf("%d batches in the stream, want %d", batches, len(tc.nums))
		}
	}
}

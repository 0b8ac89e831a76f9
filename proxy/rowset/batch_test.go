package rowset

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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
	for _, tc := range []struct {
		f   Field
		arr arrow.Array
	}{
		{Field{Type: "fixed"}, intArr},
		{Field{Type: "fixed", Scale: 2}, intArr},
		{Field{Type: "fixed"}, small.NewArray()},
		{Field{Type: "date"}, dates.NewArray()},
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

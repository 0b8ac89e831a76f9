package proxy

import (
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/snowgate/snowgate/proxy/rowset"
)

// FuzzBatchText: a value in a record batch renders as the same text as
// the Go value a row of the same result holds (what the stand-in's row
// path hands over for the DuckDB type), both as its own type (rowset.Text,
// the text JSON carries, quotas count and drivers decode) and as the text
// a mask reads (maskedText), and TextSize counts what Text renders. To
// fuzz: go test ./proxy -run '^$' -fuzz '^FuzzBatchText$' -fuzztime 30s
func FuzzBatchText(f *testing.F) {
	for _, s := range []struct {
		n     int64
		scale uint8
		real  float64
		days  int32
		micro int64
		b     bool
	}{
		{0, 0, 0, 0, 0, false},
		{-5, 2, -0.1, -1, -1, true},
		{math.MaxInt64, 18, math.Inf(1), 2932896, 1709212455123456, false},
		{math.MinInt64, 9, math.NaN(), -719162, -62135596800000000, true},
		{123456789, 4, 1e21, 19723, 86399999999, false},
		{-1500000000, 1, 5e-324, -25567, -1250001, true},
	} {
		f.Add(s.n, s.scale, s.real, s.days, s.micro, s.b)
	}
	mem := memory.DefaultAllocator
	f.Fuzz(func(t *testing.T, n int64, scale uint8, real float64, days int32, micro int64, b bool) {
		scale %= 19
		const minMicro, maxMicro = -62135596800000000, 253402300799999999 // years 1 to 9999
		micro = minMicro + int64(uint64(micro)%uint64(maxMicro-minMicro))
		days = int32(int64(days) % 2932897)
		if days < -719162 {
			days = -719162
		}
		ofDay := micro % 86_400_000_000
		if ofDay < 0 {
			ofDay += 86_400_000_000
		}
		at := time.UnixMicro(micro).UTC()
		tod := time.UnixMicro(ofDay).UTC()
		type value struct {
			col Column
			arr arrow.Array
			row any // what a row holds
		}
		build := func(bl array.Builder, app func()) arrow.Array {
			defer bl.Release()
			app()
			bl.AppendNull()
			return bl.NewArray()
		}
		ib := array.NewInt64Builder(mem)
		i32 := array.NewInt32Builder(mem)
		db := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: int32(scale)})
		fb := array.NewFloat64Builder(mem)
		bb := array.NewBooleanBuilder(mem)
		dtb := array.NewDate32Builder(mem)
		tsb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Microsecond})
		tzb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"})
		tmb := array.NewTime64Builder(mem, &arrow.Time64Type{Unit: arrow.Microsecond})
		binb := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
		raw := []byte{byte(n), byte(n >> 8), 0, 0xff}
		values := []value{
			{Column{Type: "fixed", Precision: 38}, build(ib, func() { ib.Append(n) }), n},
			{Column{Type: "fixed", Precision: 38}, build(i32, func() { i32.Append(int32(n)) }), int32(n)},
			{Column{Type: "fixed", Precision: 38, Scale: int64(scale)}, build(db, func() { db.Append(decimal128.FromI64(n)) }), Fixed{Unscaled: big.NewInt(n), Scale: int(scale)}},
			{Column{Type: "real"}, build(fb, func() { fb.Append(real) }), real},
			{Column{Type: "boolean"}, build(bb, func() { bb.Append(b) }), b},
			{Column{Type: "date"}, build(dtb, func() { dtb.Append(arrow.Date32(days)) }), time.Unix(int64(days)*86400, 0).UTC()},
			{Column{Type: "timestamp_ntz", Scale: 9}, build(tsb, func() { tsb.Append(arrow.Timestamp(micro)) }), at},
			{Column{Type: "timestamp_ltz", Scale: 9}, build(tzb, func() { tzb.Append(arrow.Timestamp(micro)) }), at},
			{Column{Type: "time", Scale: 9}, build(tmb, func() { tmb.Append(arrow.Time64(ofDay)) }),
				time.Date(1, time.January, 1, tod.Hour(), tod.Minute(), tod.Second(), tod.Nanosecond(), time.UTC)},
			{Column{Type: "binary"}, build(binb, func() { binb.Append(raw) }), raw},
		}
		for _, v := range values {
			defer v.arr.Release()
			field := rowset.Field{Name: "C", Type: v.col.Type, Precision: v.col.Precision, Scale: v.col.Scale}
			text, err := rowset.Text(field, v.arr)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := encodeValue(&v.col, v.row)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(text(nil, 0)); got != want {
				t.Errorf("%s %s: batch %q, row %q", v.col.Type, v.arr.DataType(), got, want)
			}
			size, err := rowset.TextSize(field, v.arr)
			if err != nil || size != int64(len(want)) {
				t.Errorf("%s %s: %d bytes counted for %q (%v)", v.col.Type, v.arr.DataType(), size, want, err)
			}
			masked, err := maskedText(v.arr)
			if err != nil {
				t.Fatal(err)
			}
			wantMasked, _, err := encodeValue(&Column{Type: "text"}, v.row)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(masked(nil, 0)); got != wantMasked {
				t.Errorf("%s %s masked: batch %q, row %q", v.col.Type, v.arr.DataType(), got, wantMasked)
			}
		}
	})
}

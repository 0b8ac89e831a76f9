package rowset

// Rows may also arrive a record batch at a time, as an upstream reads them
// in standard Arrow types (DuckDB's), or a timestamp in Snowflake's
// epoch/fraction struct: one array per column. Text renders
// such a column's values as the JSON rowset's text, exactly as the row
// path renders the same values, so that masks and quotas read one
// representation; convert turns it into Snowflake's Arrow conventions
// column by column, without rendering a value.

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TextFunc appends the text of the i-th value of a column, which must not
// be NULL.
type TextFunc func(dst []byte, i int) []byte

// Text returns the function that renders arr, a column of f in standard
// Arrow types, as Snowflake's JSON rowset text. It fails for a pairing of
// Snowflake type and Arrow type it does not read, so that no value is ever
// rendered as something else.
func Text(f Field, arr arrow.Array) (TextFunc, error) {
	switch f.Type {
	case "fixed":
		scale := int(f.Scale)
		if n, ok := Int64s(arr); ok {
			return func(dst []byte, i int) []byte { return appendFixed(dst, n(i), scale) }, nil
		}
		switch a := arr.(type) {
		case *array.Uint64:
			if scale == 0 {
				return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, a.Value(i), 10) }, nil
			}
		case *array.Decimal128:
			s := int(a.DataType().(*arrow.Decimal128Type).Scale)
			if s != scale {
				break
			}
			return func(dst []byte, i int) []byte { return appendDecimal(dst, a.Value(i), s) }, nil
		}
	case "real":
		switch a := arr.(type) {
		case *array.Float64:
			return func(dst []byte, i int) []byte { return AppendReal(dst, a.Value(i)) }, nil
		case *array.Float32:
			return func(dst []byte, i int) []byte { return AppendReal(dst, float64(a.Value(i))) }, nil
		}
	case "text", "variant", "object", "array":
		if a, ok := arr.(*array.String); ok {
			return func(dst []byte, i int) []byte { return append(dst, a.Value(i)...) }, nil
		}
	case "boolean":
		if a, ok := arr.(*array.Boolean); ok {
			return func(dst []byte, i int) []byte {
				if a.Value(i) {
					return append(dst, '1')
				}
				return append(dst, '0')
			}, nil
		}
	case "date":
		if a, ok := arr.(*array.Date32); ok {
			return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }, nil
		}
	case "time", "timestamp_ntz", "timestamp_ltz":
		if nanos, ok := asNanos(f, arr); ok {
			scale := f.Scale
			return func(dst []byte, i int) []byte {
				sec, ns := nanos(i)
				return AppendEpoch(dst, sec, ns, scale)
			}, nil
		}
	case "binary":
		if a, ok := arr.(*array.Binary); ok {
			return func(dst []byte, i int) []byte { return appendUpperHex(dst, a.Value(i)) }, nil
		}
	}
	return nil, fmt.Errorf("column %s of type %s: cannot read Arrow %s", f.Name, f.Type, arr.DataType())
}

// Int64s reads the signed and narrow unsigned integer arrays.
func Int64s(arr arrow.Array) (func(int) int64, bool) {
	switch a := arr.(type) {
	case *array.Int64:
		return a.Value, true
	case *array.Int32:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Int16:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Int8:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Uint32:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Uint16:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Uint8:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	}
	return nil, false
}

// asNanos reads a time of day, or a timestamp, as whole seconds (rounded
// down) and the nanoseconds after them.
func asNanos(f Field, arr arrow.Array) (func(int) (int64, int64), bool) {
	split := func(v int64, unit arrow.TimeUnit) (int64, int64) {
		return SplitScaled(v, 3*int(unit)) // seconds, milli-, micro-, nanoseconds
	}
	switch a := arr.(type) {
	case *array.Timestamp:
		if f.Type == "time" {
			return nil, false
		}
		unit := a.DataType().(*arrow.TimestampType).Unit
		return func(i int) (int64, int64) { return split(int64(a.Value(i)), unit) }, true
	case *array.Time64:
		if f.Type != "time" {
			return nil, false
		}
		unit := a.DataType().(*arrow.Time64Type).Unit
		return func(i int) (int64, int64) { return split(int64(a.Value(i)), unit) }, true
	case *array.Time32:
		if f.Type != "time" {
			return nil, false
		}
		unit := a.DataType().(*arrow.Time32Type).Unit
		return func(i int) (int64, int64) { return split(int64(a.Value(i)), unit) }, true
	case *array.Struct:
		epoch, fraction, ok := EpochFraction(a)
		if !ok || f.Type == "time" {
			return nil, false
		}
		return func(i int) (int64, int64) { return epoch.Value(i), int64(fraction.Value(i)) }, true
	}
	return nil, false
}

// EpochFraction reads Snowflake's own form of a timestamp, which no
// standard Arrow type holds over its whole range: a struct of whole
// seconds since the epoch ("epoch", int64) and the nanoseconds after them
// ("fraction", int32).
func EpochFraction(a *array.Struct) (*array.Int64, *array.Int32, bool) {
	st := a.DataType().(*arrow.StructType)
	if st.NumFields() != 2 || st.Field(0).Name != "epoch" || st.Field(1).Name != "fraction" {
		return nil, nil, false
	}
	epoch, ok1 := a.Field(0).(*array.Int64)
	fraction, ok2 := a.Field(1).(*array.Int32)
	return epoch, fraction, ok1 && ok2
}

// EpochFractions builds Snowflake's epoch/fraction struct (EpochFraction)
// of arr's values as nanos reads them, NULLs kept.
func EpochFractions(arr arrow.Array, nanos func(int) (sec, ns int64)) arrow.Array {
	n := arr.Len()
	b := array.NewStructBuilder(memory.DefaultAllocator, arrow.StructOf(
		arrow.Field{Name: "epoch", Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: "fraction", Type: arrow.PrimitiveTypes.Int32}))
	defer b.Release()
	eb, fb := b.FieldBuilder(0).(*array.Int64Builder), b.FieldBuilder(1).(*array.Int32Builder)
	b.Reserve(n)
	eb.Reserve(n)
	fb.Reserve(n)
	for i := range n {
		if arr.IsNull(i) {
			b.AppendNull()
			continue
		}
		sec, ns := nanos(i)
		b.Append(true)
		eb.UnsafeAppend(sec)
		fb.UnsafeAppend(int32(ns))
	}
	return b.NewArray()
}

// SplitScaled reads v, a time in units of 10^-scale seconds (scale 0 to
// 9), as whole seconds (rounded down) and the nanoseconds after them.
func SplitScaled(v int64, scale int) (sec, nanos int64) {
	perSec := pow10(scale)
	sec = floorDiv(v, perSec)
	return sec, (v - sec*perSec) * pow10(9-scale)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// appendFixed appends an integer as a NUMBER of the given scale: its
// digits, and as many zero decimals as the scale has.
func appendFixed(dst []byte, v int64, scale int) []byte {
	dst = strconv.AppendInt(dst, v, 10)
	if scale <= 0 {
		return dst
	}
	dst = append(dst, '.')
	for range scale {
		dst = append(dst, '0')
	}
	return dst
}

// appendDecimal appends unscaled × 10^-scale as decimal text: "-0.05" for
// -5 at scale 2.
func appendDecimal(dst []byte, n decimal128.Num, scale int) []byte {
	var buf [48]byte
	var digits []byte
	neg := n.Sign() < 0
	if n.FitsInPrecision(18) {
		v := n.LowBits()
		if neg {
			v = -v
		}
		digits = strconv.AppendUint(buf[:0], v, 10)
	} else {
		b := n.BigInt()
		digits = b.Abs(b).Append(buf[:0], 10)
	}
	if neg {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		return append(dst, digits...)
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for range scale - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

func appendUpperHex(dst, b []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range b {
		dst = append(dst, digits[c>>4], digits[c&0xF])
	}
	return dst
}

// AppendReal appends a float the way all three drivers parse it, including
// the non-finite values ("NaN", "Infinity", "-Infinity").
func AppendReal(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// AppendEpoch appends seconds and nanoseconds as "seconds.fraction" with
// exactly scale fraction digits (at most 9).
func AppendEpoch(dst []byte, secs, nanos, scale int64) []byte {
	dst = strconv.AppendInt(dst, secs, 10)
	if scale <= 0 {
		return dst
	}
	if scale > 9 {
		scale = 9
	}
	var frac [9]byte
	for i := 8; i >= 0; i-- {
		frac[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	dst = append(dst, '.')
	return append(dst, frac[:scale]...)
}

// convert returns arr, a column of f in standard Arrow types, in
// Snowflake's Arrow conventions for f, as NewArrow's encoder writes them
// from text: NUMBER as int64 (a decimal128 column only when narrow: every
// value of the chunk fits),
// REAL as float64, times as integers of the column's scale, timestamps of
// scale above 7 as structs of epoch and fraction. It returns a new
// reference.
func convert(f Field, arr arrow.Array, narrow bool) (arrow.Array, error) {
	mem := memory.DefaultAllocator
	n := arr.Len()
	switch f.Type {
	case "fixed":
		if a, ok := arr.(*array.Int64); ok && f.Scale == 0 {
			a.Retain()
			return a, nil
		}
		if v, ok := Int64s(arr); ok {
			mul := pow10(int(f.Scale))
			return buildInt64(mem, arr, func(i int) int64 { return v(i) * mul }), nil
		}
		switch a := arr.(type) {
		case *array.Uint64:
			if f.Scale == 0 && fitsAll(arr, func(i int) bool { return a.Value(i) <= math.MaxInt64 }) {
				return buildInt64(mem, arr, func(i int) int64 { return int64(a.Value(i)) }), nil
			}
		case *array.Decimal128:
			if a.DataType().(*arrow.Decimal128Type).Scale != int32(f.Scale) {
				break
			}
			if narrow {
				return buildInt64(mem, arr, func(i int) int64 { return int64(a.Value(i).LowBits()) }), nil
			}
			a.Retain()
			return a, nil
		}
	case "real":
		switch a := arr.(type) {
		case *array.Float64:
			a.Retain()
			return a, nil
		case *array.Float32:
			b := array.NewFloat64Builder(mem)
			defer b.Release()
			b.Reserve(n)
			for i := range n {
				if a.IsNull(i) {
					b.UnsafeAppendBoolToBitmap(false)
					continue
				}
				b.UnsafeAppend(float64(a.Value(i)))
			}
			return b.NewArray(), nil
		}
	case "text", "variant", "object", "array", "boolean", "date", "binary":
		if _, err := Text(f, arr); err != nil {
			return nil, err
		}
		arr.Retain()
		return arr, nil
	case "time", "timestamp_ntz", "timestamp_ltz":
		nanos, ok := asNanos(f, arr)
		if !ok {
			break
		}
		scale := int(f.Scale)
		if f.Type == "time" || scale <= structTimestamp {
			div := pow10(9 - scale)
			return buildInt64(mem, arr, func(i int) int64 {
				sec, ns := nanos(i)
				return sec*pow10(scale) + ns/div
			}), nil
		}
		if st, ok := arr.(*array.Struct); ok { // already Snowflake's form
			st.Retain()
			return st, nil
		}
		return EpochFractions(arr, nanos), nil
	}
	return nil, fmt.Errorf("arrow: column %s of type %s: cannot convert Arrow %s", f.Name, f.Type, arr.DataType())
}

func fitsAll(arr arrow.Array, fits func(int) bool) bool {
	for i := range arr.Len() {
		if arr.IsValid(i) && !fits(i) {
			return false
		}
	}
	return true
}

func buildInt64(mem memory.Allocator, arr arrow.Array, v func(int) int64) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	n := arr.Len()
	b.Reserve(n)
	for i := range n {
		if arr.IsNull(i) {
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		b.UnsafeAppend(v(i))
	}
	return b.NewArray()
}

// arraySize approximates the bytes arr's values take, for cutting chunks.
func arraySize(arr arrow.Array) int {
	n := arr.Len()
	switch a := arr.(type) {
	case *array.String:
		offs := a.ValueOffsets()
		return int(offs[n]-offs[0]) + 4*n
	case *array.Binary:
		offs := a.ValueOffsets()
		return int(offs[n]-offs[0]) + 4*n
	case *array.Boolean:
		return n / 8
	}
	if fw, ok := arr.DataType().(arrow.FixedWidthDataType); ok {
		return n * fw.BitWidth() / 8
	}
	return 8 * n
}

// TextSize is the bytes of text arr's values render as (Text), NULLs
// none: what quotas count as bytes returned. Integers, dates and booleans
// are counted without rendering them.
func TextSize(f Field, arr arrow.Array) (int64, error) {
	if a, ok := arr.(*array.String); ok {
		var n int64
		for i := range a.Len() {
			if a.IsValid(i) {
				n += int64(a.ValueLen(i))
			}
		}
		return n, nil
	}
	text, err := Text(f, arr)
	if err != nil {
		return 0, err
	}
	var scratch []byte
	size := func(i int) int64 {
		scratch = text(scratch[:0], i)
		return int64(len(scratch))
	}
	switch a := arr.(type) {
	case *array.Boolean:
		size = func(int) int64 { return 1 }
	case *array.Date32:
		size = func(i int) int64 { return intLen(int64(a.Value(i))) }
	case *array.Decimal128:
		scale := int64(a.DataType().(*arrow.Decimal128Type).Scale)
		render := size
		size = func(i int) int64 {
			n := a.Value(i)
			if !n.FitsInPrecision(18) {
				return render(i)
			}
			v := int64(n.LowBits())
			sign := int64(0)
			if v < 0 {
				sign = 1
			}
			digits := intLen(v) - sign
			switch {
			case scale <= 0:
				return sign + digits
			case digits <= scale: // "0." and zeros before the digits
				return sign + 2 + scale
			}
			return sign + digits + 1
		}
	default:
		if v, ok := Int64s(arr); ok {
			extra := int64(0)
			if f.Scale > 0 {
				extra = 1 + f.Scale
			}
			size = func(i int) int64 { return intLen(v(i)) + extra }
		}
	}
	var n int64
	for i := range arr.Len() {
		if arr.IsValid(i) {
			n += size(i)
		}
	}
	return n, nil
}

// intLen is the length of v's decimal text.
func intLen(v int64) int64 {
	n := int64(1)
	u := uint64(v)
	if v < 0 {
		n++
		u = -u
	}
	for u >= 10 {
		u /= 10
		n++
	}
	return n
}

// Package rowset encodes result rows in the formats Snowflake's drivers
// read: Arrow IPC streams with Snowflake's type conventions (field
// metadata logicalType, precision, scale; NUMBER as scaled integers,
// timestamps as scaled integers or structs, semi-structured values as
// text). Rows arrive as the cells of Snowflake's JSON rowset (the text
// every column type is rendered as), so that masks and quotas apply to one
// representation whatever the format the client reads.
package rowset

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Field is one result column as Snowflake's rowtype describes it. Type is
// the lower-case type name: fixed, real, text, boolean, date, time,
// timestamp_ntz, timestamp_ltz, timestamp_tz, binary, variant, object,
// array.
type Field struct {
	Name             string
	Type             string
	Precision, Scale int64
	Length           int64
	Nullable         bool
}

// Arrow accumulates rows and encodes them as Arrow IPC streams, one record
// batch per stream (one stream per chunk, as Snowflake sends them).
type Arrow struct {
	fields  []Field
	schema  *arrow.Schema
	builder *array.RecordBuilder
	append  []func(string) error
	rows    int
	size    int // bytes of cell text appended since the last Encode
	buf     bytes.Buffer
}

// NewArrow returns an encoder for rows of the given columns.
func NewArrow(fields []Field) (*Arrow, error) {
	a := &Arrow{fields: fields}
	afs := make([]arrow.Field, len(fields))
	for i, f := range fields {
		t, err := arrowType(f)
		if err != nil {
			return nil, err
		}
		afs[i] = arrow.Field{Name: f.Name, Type: t, Nullable: true, Metadata: metadata(f)}
	}
	a.schema = arrow.NewSchema(afs, nil)
	a.builder = array.NewRecordBuilder(memory.DefaultAllocator, a.schema)
	a.append = make([]func(string) error, len(fields))
	for i, f := range fields {
		a.append[i] = appender(f, a.builder.Field(i))
	}
	return a, nil
}

// Rows is the number of rows appended since the last Encode.
func (a *Arrow) Rows() int { return a.rows }

// Size approximates the encoded size of the rows appended since the last
// Encode, for cutting chunks.
func (a *Arrow) Size() int { return a.size + 8*a.rows*len(a.fields) }

// Append adds one row: cells in Snowflake's JSON rowset text, valid false
// for NULL.
func (a *Arrow) Append(cells []string, valid []bool) error {
	for i, c := range cells {
		if !valid[i] {
			a.builder.Field(i).AppendNull()
			continue
		}
		if err := a.append[i](c); err != nil {
			return fmt.Errorf("column %s (%s): %q: %w", a.fields[i].Name, a.fields[i].Type, c, err)
		}
		a.size += len(c)
	}
	a.rows++
	return nil
}

// Encode returns the rows appended since the last Encode as an IPC stream
// (schema and one record batch) and starts anew. The bytes are valid until
// the next call.
func (a *Arrow) Encode() ([]byte, error) {
	rec := a.builder.NewRecordBatch()
	defer rec.Release()
	a.buf.Reset()
	w := ipc.NewWriter(&a.buf, ipc.WithSchema(a.schema))
	if err := w.Write(rec); err != nil {
		return nil, fmt.Errorf("arrow: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("arrow: %w", err)
	}
	a.rows, a.size = 0, 0
	return a.buf.Bytes(), nil
}

// Release frees the encoder's buffers.
func (a *Arrow) Release() { a.builder.Release() }

// wideFixed is the precision above which a NUMBER's unscaled value may not
// fit an int64: it is sent as decimal128.
const wideFixed = 18

// structTimestamp is the scale above which a timestamp's scaled value may
// overflow an int64 (past year 2262 at nanoseconds): it is sent as a
// struct of epoch seconds and nanoseconds, as Snowflake does.
const structTimestamp = 7

func arrowType(f Field) (arrow.DataType, error) {
	switch f.Type {
	case "fixed":
		if f.Precision > wideFixed || f.Precision == 0 {
			return &arrow.Decimal128Type{Precision: 38, Scale: int32(f.Scale)}, nil
		}
		return arrow.PrimitiveTypes.Int64, nil
	case "real":
		return arrow.PrimitiveTypes.Float64, nil
	case "text", "variant", "object", "array":
		return arrow.BinaryTypes.String, nil
	case "boolean":
		return arrow.FixedWidthTypes.Boolean, nil
	case "date":
		return arrow.FixedWidthTypes.Date32, nil
	case "time":
		return arrow.PrimitiveTypes.Int64, nil
	case "timestamp_ntz", "timestamp_ltz":
		if f.Scale > structTimestamp {
			return arrow.StructOf(
				arrow.Field{Name: "epoch", Type: arrow.PrimitiveTypes.Int64},
				arrow.Field{Name: "fraction", Type: arrow.PrimitiveTypes.Int32}), nil
		}
		return arrow.PrimitiveTypes.Int64, nil
	case "timestamp_tz":
		if f.Scale > structTimestamp {
			return arrow.StructOf(
				arrow.Field{Name: "epoch", Type: arrow.PrimitiveTypes.Int64},
				arrow.Field{Name: "fraction", Type: arrow.PrimitiveTypes.Int32},
				arrow.Field{Name: "timezone", Type: arrow.PrimitiveTypes.Int32}), nil
		}
		return arrow.StructOf(
			arrow.Field{Name: "epoch", Type: arrow.PrimitiveTypes.Int64},
			arrow.Field{Name: "timezone", Type: arrow.PrimitiveTypes.Int32}), nil
	case "binary":
		return arrow.BinaryTypes.Binary, nil
	}
	return nil, fmt.Errorf("arrow: no encoding for column %s of type %q", f.Name, f.Type)
}

func metadata(f Field) arrow.Metadata {
	keys := []string{"logicalType", "physicalType", "precision", "scale", "charLength", "byteLength", "finalType"}
	length := f.Length
	switch f.Type {
	case "text", "variant", "object", "array":
		if length == 0 {
			length = 16777216
		}
	case "binary":
		if length == 0 {
			length = 8388608
		}
	}
	precision := f.Precision
	if f.Type == "fixed" && precision == 0 {
		precision = 38
	}
	logical := strings.ToUpper(f.Type)
	return arrow.NewMetadata(keys, []string{logical, logical, strconv.FormatInt(precision, 10), strconv.FormatInt(f.Scale, 10),
		strconv.FormatInt(length, 10), strconv.FormatInt(length, 10), "T"})
}

// appender parses one cell of f's type into b.
func appender(f Field, b array.Builder) func(string) error {
	scale := int(f.Scale)
	switch f.Type {
	case "fixed":
		if d, ok := b.(*array.Decimal128Builder); ok {
			return func(s string) error {
				n, err := unscaled(s, scale)
				if err != nil {
					return err
				}
				if n.BitLen() > 127 {
					return fmt.Errorf("does not fit NUMBER(38)")
				}
				d.Append(decimal128.FromBigInt(n))
				return nil
			}
		}
		ib := b.(*array.Int64Builder)
		return func(s string) error {
			n, err := unscaled(s, scale)
			if err != nil {
				return err
			}
			if !n.IsInt64() {
				return fmt.Errorf("does not fit NUMBER(%d)", f.Precision)
			}
			ib.Append(n.Int64())
			return nil
		}
	case "real":
		fb := b.(*array.Float64Builder)
		return func(s string) error {
			v, err := parseReal(s)
			fb.Append(v)
			return err
		}
	case "text", "variant", "object", "array":
		sb := b.(*array.StringBuilder)
		return func(s string) error { sb.Append(s); return nil }
	case "boolean":
		bb := b.(*array.BooleanBuilder)
		return func(s string) error {
			switch strings.ToUpper(s) {
			case "1", "TRUE":
				bb.Append(true)
			case "0", "FALSE":
				bb.Append(false)
			default:
				return fmt.Errorf("not a boolean")
			}
			return nil
		}
	case "date":
		db := b.(*array.Date32Builder)
		return func(s string) error {
			d, err := strconv.ParseInt(s, 10, 32)
			db.Append(arrow.Date32(d))
			return err
		}
	case "time":
		ib := b.(*array.Int64Builder)
		return func(s string) error {
			sec, frac, err := epoch(s)
			ib.Append(sec*pow10(scale) + frac/pow10(9-scale))
			return err
		}
	case "timestamp_ntz", "timestamp_ltz":
		if sb, ok := b.(*array.StructBuilder); ok {
			eb, fb := sb.FieldBuilder(0).(*array.Int64Builder), sb.FieldBuilder(1).(*array.Int32Builder)
			return func(s string) error {
				sec, frac, err := epoch(s)
				sb.Append(true)
				eb.Append(sec)
				fb.Append(int32(frac))
				return err
			}
		}
		ib := b.(*array.Int64Builder)
		return func(s string) error {
			sec, frac, err := epoch(s)
			ib.Append(sec*pow10(scale) + frac/pow10(9-scale))
			return err
		}
	case "timestamp_tz":
		sb := b.(*array.StructBuilder)
		eb := sb.FieldBuilder(0).(*array.Int64Builder)
		return func(s string) error {
			at, tz, ok := strings.Cut(s, " ")
			if !ok {
				return fmt.Errorf("no time zone")
			}
			sec, frac, err := epoch(at)
			if err != nil {
				return err
			}
			offset, err := strconv.ParseInt(tz, 10, 32)
			if err != nil {
				return err
			}
			sb.Append(true)
			if sb.NumField() == 3 {
				eb.Append(sec)
				sb.FieldBuilder(1).(*array.Int32Builder).Append(int32(frac))
				sb.FieldBuilder(2).(*array.Int32Builder).Append(int32(offset))
				return nil
			}
			eb.Append(sec*pow10(scale) + frac/pow10(9-scale))
			sb.FieldBuilder(1).(*array.Int32Builder).Append(int32(offset))
			return nil
		}
	case "binary":
		bb := b.(*array.BinaryBuilder)
		return func(s string) error {
			v, err := hex.DecodeString(s)
			bb.Append(v)
			return err
		}
	}
	return func(string) error { return fmt.Errorf("no encoding") }
}

// unscaled reads decimal text as its value × 10^scale, exactly.
func unscaled(s string, scale int) (*big.Int, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > scale {
		if strings.Trim(frac[scale:], "0") != "" {
			return nil, fmt.Errorf("more than %d decimals", scale)
		}
		frac = frac[:scale]
	}
	frac += strings.Repeat("0", scale-len(frac))
	n, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		return nil, fmt.Errorf("not a number")
	}
	if neg {
		n.Neg(n)
	}
	return n, nil
}

// epoch reads "seconds[.fraction]" as the gateway renders times: whole
// seconds rounded down, and the nanoseconds after them (-1.25 s is
// "-2.750000000").
func epoch(s string) (sec, nanos int64, err error) {
	whole, frac, _ := strings.Cut(s, ".")
	if sec, err = strconv.ParseInt(whole, 10, 64); err != nil {
		return 0, 0, err
	}
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		frac += strings.Repeat("0", 9-len(frac))
		if nanos, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return 0, 0, err
		}
	}
	return sec, nanos, nil
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func parseReal(s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "inf", "Infinity":
		return math.Inf(1), nil
	case "-inf", "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// Package rowset encodes result rows in the formats Snowflake's drivers
// read: Arrow IPC streams with Snowflake's type conventions (field
// metadata logicalType, precision, scale; NUMBER as scaled integers,
// timestamps as scaled integers or structs, semi-structured values as
// text). Rows arrive either as the cells of Snowflake's JSON rowset (the
// text every column type is rendered as), or as record batches' columns in
// standard Arrow types (batch.go), which Text renders as the same text, so
// that masks and quotas apply to one representation whatever the format
// the client reads. A Writer encodes a result's rows into its Set: the
// first inline in the response, the rest in chunks spooled to disk and
// served to the drivers (chunks.go).
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
// batch per stream (one stream per chunk, as Snowflake sends them). Each
// stream carries its own schema: a NUMBER column whose values all fit in
// 64 bits is sent as int64 in that chunk, else as decimal128, as
// Snowflake picks the narrowest type per chunk.
type Arrow struct {
	fields  []Field
	cols    []column
	pending [][]arrow.Array // per column, the arrays AppendColumns took since the last Encode
	rows    int
	size    int // bytes of cell text appended since the last Encode
	buf     bytes.Buffer
}

// column is one column being filled: a builder, or for a NUMBER wider than
// 18 digits the values themselves until the chunk's type is known.
type column struct {
	field  arrow.Field
	b      array.Builder
	wide   *wideColumn
	append func(string) error
}

type wideColumn struct {
	scale int
	vals  []decimal128.Num
	valid []bool
	fits  bool // every value fits an int64
}

// NewArrow returns an encoder for rows of the given columns.
func NewArrow(fields []Field) (*Arrow, error) {
	a := &Arrow{fields: fields, cols: make([]column, len(fields))}
	for i, f := range fields {
		t, err := arrowType(f)
		if err != nil {
			return nil, err
		}
		c := &a.cols[i]
		c.field = arrow.Field{Name: f.Name, Type: t, Nullable: true, Metadata: metadata(f)}
		if f.Type == "fixed" && (f.Precision > wideFixed || f.Precision == 0) {
			w := &wideColumn{scale: int(f.Scale), fits: true}
			c.wide = w
			c.append = w.append
			continue
		}
		c.b = array.NewBuilder(memory.DefaultAllocator, t)
		c.append = appender(f, c.b)
	}
	return a, nil
}

// Rows is the number of rows appended since the last Encode.
func (a *Arrow) Rows() int { return a.rows }

// Size approximates the encoded size of the rows appended since the last
// Encode, for cutting chunks: the cells' text and 8 bytes a value, or the
// columns' own sizes.
func (a *Arrow) Size() int {
	if a.pending != nil {
		return a.size
	}
	return a.size + 8*a.rows*len(a.fields)
}

// Append adds one row: cells in Snowflake's JSON rowset text, valid false
// for NULL.
func (a *Arrow) Append(cells []string, valid []bool) error {
	if a.pending != nil {
		return fmt.Errorf("arrow: rows appended after columns")
	}
	for i, c := range cells {
		col := &a.cols[i]
		if !valid[i] {
			if col.wide != nil {
				col.wide.vals = append(col.wide.vals, decimal128.Num{})
				col.wide.valid = append(col.wide.valid, false)
			} else {
				col.b.AppendNull()
			}
			continue
		}
		if err := col.append(c); err != nil {
			return fmt.Errorf("column %s (%s): %q: %w", a.fields[i].Name, a.fields[i].Type, c, err)
		}
		a.size += len(c)
	}
	a.rows++
	return nil
}

// AppendColumns adds rows given as one array per column, in standard
// Arrow types (see Text), all of one length. The arrays are kept until
// Encode, which converts each column once.
func (a *Arrow) AppendColumns(cols []arrow.Array) error {
	if a.rows > 0 && a.pending == nil {
		return fmt.Errorf("arrow: columns appended after rows")
	}
	if len(cols) != len(a.fields) {
		return fmt.Errorf("arrow: %d columns for %d fields", len(cols), len(a.fields))
	}
	if a.pending == nil {
		a.pending = make([][]arrow.Array, len(cols))
	}
	for i, c := range cols {
		c.Retain()
		a.pending[i] = append(a.pending[i], c)
		a.size += arraySize(c)
	}
	if len(cols) > 0 {
		a.rows += cols[0].Len()
	}
	return nil
}

// Encode returns the rows appended since the last Encode as an IPC stream
// (schema and one record batch) and starts anew. The bytes are valid until
// the next call.
func (a *Arrow) Encode() ([]byte, error) {
	if a.pending != nil {
		return a.encodeColumns()
	}
	fields := make([]arrow.Field, len(a.cols))
	arrs := make([]arrow.Array, len(a.cols))
	defer releaseAll(arrs)
	for i := range a.cols {
		c := &a.cols[i]
		fields[i] = c.field
		if c.wide != nil {
			arrs[i] = c.wide.array()
			fields[i].Type = arrs[i].DataType()
			continue
		}
		arrs[i] = c.b.NewArray()
	}
	schema := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(schema, arrs, int64(a.rows))
	defer rec.Release()
	return a.write(schema, rec)
}

// encodeColumns writes the arrays AppendColumns took as one record batch
// each, in Snowflake's conventions, in one stream: a NUMBER column is
// int64 in every batch when every value of the chunk fits, else
// decimal128 in every one.
func (a *Arrow) encodeColumns() ([]byte, error) {
	batches := len(a.pending[0])
	conv := make([][]arrow.Array, len(a.cols)) // column, batch
	defer func() {
		for _, c := range conv {
			releaseAll(c)
		}
	}()
	fields := make([]arrow.Field, len(a.cols))
	for i, parts := range a.pending {
		narrow := true
		for _, p := range parts {
			if d, ok := p.(*array.Decimal128); ok && !fitsAll(d, func(j int) bool { return d.Value(j).FitsInPrecision(18) }) {
				narrow = false
			}
		}
		conv[i] = make([]arrow.Array, batches)
		for j, p := range parts {
			x, err := convert(a.fields[i], p, narrow)
			if err != nil {
				return nil, err
			}
			conv[i][j] = x
		}
		fields[i] = a.cols[i].field
		fields[i].Type = conv[i][0].DataType()
	}
	schema := arrow.NewSchema(fields, nil)
	recs := make([]arrow.RecordBatch, batches)
	defer func() {
		for _, r := range recs {
			if r != nil {
				r.Release()
			}
		}
	}()
	cols := make([]arrow.Array, len(a.cols))
	for j := range recs {
		for i := range cols {
			cols[i] = conv[i][j]
		}
		recs[j] = array.NewRecordBatch(schema, cols, int64(cols[0].Len()))
	}
	return a.write(schema, recs...)
}

// write encodes the record batches as one IPC stream and starts anew.
func (a *Arrow) write(schema *arrow.Schema, recs ...arrow.RecordBatch) ([]byte, error) {
	a.buf.Reset()
	w := ipc.NewWriter(&a.buf, ipc.WithSchema(schema))
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			return nil, fmt.Errorf("arrow: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("arrow: %w", err)
	}
	a.rows, a.size = 0, 0
	a.releasePending()
	return a.buf.Bytes(), nil
}

func releaseAll(arrs []arrow.Array) {
	for _, x := range arrs {
		if x != nil {
			x.Release()
		}
	}
}

func (a *Arrow) releasePending() {
	for i, parts := range a.pending {
		for _, x := range parts {
			x.Release()
		}
		a.pending[i] = parts[:0]
	}
}

// Release frees the encoder's buffers.
func (a *Arrow) Release() {
	a.releasePending()
	for _, c := range a.cols {
		if c.b != nil {
			c.b.Release()
		}
	}
}

func (w *wideColumn) append(s string) error {
	n, err := unscaled(s, w.scale)
	if err != nil {
		return err
	}
	w.vals = append(w.vals, n)
	w.valid = append(w.valid, true)
	if w.fits && !(n.HighBits() == 0 && n.LowBits() <= math.MaxInt64 || n.HighBits() == -1 && n.LowBits() > math.MaxInt64) {
		w.fits = false
	}
	return nil
}

// array builds the chunk's column: int64 when every value fits, else
// decimal128; and starts anew.
func (w *wideColumn) array() arrow.Array {
	defer func() { w.vals, w.valid, w.fits = w.vals[:0], w.valid[:0], true }()
	if w.fits {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		b.Reserve(len(w.vals))
		for i, v := range w.vals {
			if !w.valid[i] {
				b.AppendNull()
				continue
			}
			b.UnsafeAppend(int64(v.LowBits()))
		}
		return b.NewArray()
	}
	b := array.NewDecimal128Builder(memory.DefaultAllocator, &arrow.Decimal128Type{Precision: 38, Scale: int32(w.scale)})
	defer b.Release()
	b.AppendValues(w.vals, w.valid)
	return b.NewArray()
}

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
		return arrow.PrimitiveTypes.Int64, nil // or decimal128, per chunk, for wide ones
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
	case "timestamp_tz":
		// readers pick the struct's layout by it: 8 for epoch and time
		// zone, 16 for epoch, fraction and time zone
		length = 8
		if f.Scale > structTimestamp {
			length = 16
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
		ib := b.(*array.Int64Builder)
		return func(s string) error {
			n, err := unscaled(s, scale)
			if err != nil {
				return err
			}
			if !(n.HighBits() == 0 && n.LowBits() <= math.MaxInt64 || n.HighBits() == -1 && n.LowBits() > math.MaxInt64) {
				return fmt.Errorf("does not fit NUMBER(%d)", f.Precision)
			}
			ib.Append(int64(n.LowBits()))
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

// unscaled reads decimal text as its value × 10^scale, exactly, in 128
// bits.
func unscaled(s string, scale int) (decimal128.Num, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > scale {
		if strings.Trim(frac[scale:], "0") != "" {
			return decimal128.Num{}, fmt.Errorf("more than %d decimals", scale)
		}
		frac = frac[:scale]
	}
	if whole == "" && frac == "" {
		return decimal128.Num{}, fmt.Errorf("not a number")
	}
	if len(whole)+scale <= 18 { // fits an int64: no big arithmetic
		var n int64
		for _, part := range [2]string{whole, frac} {
			for i := 0; i < len(part); i++ {
				d := part[i] - '0'
				if d > 9 {
					return decimal128.Num{}, fmt.Errorf("not a number")
				}
				n = n*10 + int64(d)
			}
		}
		n *= pow10(scale - len(frac))
		if neg {
			n = -n
		}
		return decimal128.FromI64(n), nil
	}
	b, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", scale-len(frac)), 10)
	if !ok {
		return decimal128.Num{}, fmt.Errorf("not a number")
	}
	if neg {
		b.Neg(b)
	}
	if b.BitLen() > 127 {
		return decimal128.Num{}, fmt.Errorf("does not fit NUMBER(38)")
	}
	return decimal128.FromBigInt(b), nil
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
		if nanos, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return 0, 0, err
		}
		nanos *= pow10(9 - len(frac))
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

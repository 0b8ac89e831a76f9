package snowflake

// A statement that returns rows runs in gosnowflake's Arrow batch mode,
// with Snowflake's own numbers and timestamps kept (higher precision,
// original timestamps): a chunk is downloaded as record batches and no
// value is converted on its own. The batches are brought to the standard
// Arrow types proxy.BatchRows describes, column by column; a result with
// a column of a type that has none (TIMESTAMP_TZ, structured types) is
// read a row at a time from the same batches. A result Snowflake answers
// in JSON (SHOW, DESCRIBE, LIST...) is read row by row as gosnowflake
// parses it.

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/rowset"
	"github.com/snowgate/snowgate/proxy/statement"
)

// prefetch is how many of a result's chunks are downloaded ahead of the
// one being read: the Python connector's default.
const prefetch = 4

// query runs a statement that returns rows on the session's connection.
// The caller holds c.mu: the rows call unlock when closed.
func (c *conn) query(ctx context.Context, x proxy.Exec, args []any, unlock func()) (proxy.Rows, error) {
	bctx := sf.WithArrowBatches(sf.WithHigherPrecision(sf.WithArrowBatchesTimestampOption(ctx, sf.UseOriginalTimestamp)))
	dr, err := c.queryDriver(bctx, x.SQL, args)
	if err != nil {
		if narrowTimeFailed(err) {
			return c.queryJSON(ctx, x, args, unlock)
		}
		return nil, sqlError(err)
	}
	sr, ok := dr.(sf.SnowflakeRows)
	if !ok {
		dr.Close()
		return nil, fmt.Errorf("upstream: unexpected gosnowflake rows %T", dr)
	}
	cols := columnsOf(dr)
	batches, err := sr.GetArrowBatches()
	var se *sf.SnowflakeError
	if errors.As(err, &se) && se.Number == sf.ErrNonArrowResponseInArrowBatches {
		return &textRows{r: dr, cols: cols, vals: make([]driver.Value, len(cols)), unlock: unlock}, nil
	}
	if err != nil {
		dr.Close()
		return nil, sqlError(err)
	}
	if narrowTime(cols) && !x.Describe {
		dr.Close()
		return c.queryJSON(ctx, x, args, unlock)
	}
	for _, b := range batches {
		b.WithContext(ctx)
	}
	a := &arrowRows{r: dr, cols: cols, fetch: startFetch(batches), unlock: unlock}
	if batchable(cols) {
		return &batchRows{a}, nil
	}
	return a, nil
}

// queryDriver runs a query on the session's connection and returns
// gosnowflake's own rows.
func (c *conn) queryDriver(ctx context.Context, sqlText string, args []any) (driver.Rows, error) {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	var dr driver.Rows
	err := c.c.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("unexpected gosnowflake connection %T", dc)
		}
		var err error
		dr, err = q.QueryContext(ctx, sqlText, named)
		return err
	})
	return dr, err
}

// Snowflake sends a TIME of scale 0 to 4 as 32-bit integers, which
// gosnowflake's Arrow batches cannot read: it fails to cast them (a chunk
// that comes inline fails the query, later ones their download). Such a
// result is asked for again in JSON, which gosnowflake reads exactly (its
// numbers as text), when the statement only reads (the upstream's result
// cache usually answers it); any other statement fails, it is not run twice.
func narrowTime(cols []proxy.Column) bool {
	for _, c := range cols {
		if c.Type == "time" && c.Scale <= 4 {
			return true
		}
	}
	return false
}

func narrowTimeFailed(err error) bool {
	return strings.Contains(err.Error(), "cast_time64") && strings.Contains(err.Error(), "int32")
}

var errNarrowTime = errors.New("upstream: the result has a TIME column of scale 0 to 4, which gosnowflake's Arrow batches cannot read, and only a statement that reads is run again in JSON")

// queryJSON runs a statement that reads again, with the session's results
// in JSON for that statement.
func (c *conn) queryJSON(ctx context.Context, x proxy.Exec, args []any, unlock func()) (proxy.Rows, error) {
	switch x.Kind {
	case statement.KindSelect, statement.KindShow, statement.KindDescribe, statement.KindExplain, statement.KindList:
	default:
		return nil, errNarrowTime
	}
	// The ALTERs carry none of the statement's context values (describe
	// only, the query id's channel, which the first run closed).
	actx, cancel := context.WithCancel(context.Background())
	defer context.AfterFunc(ctx, cancel)()
	defer cancel()
	if _, err := c.c.ExecContext(actx, "ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON'"); err != nil {
		return nil, sqlError(err)
	}
	dr, err := c.queryDriver(sf.WithQueryIDChan(ctx, nil), x.SQL, args)
	// Back to Arrow, even when the statement was canceled: a JSON result's
	// chunks do not depend on the session.
	uctx, ucancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ucancel()
	if _, uerr := c.c.ExecContext(uctx, "ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'ARROW'"); uerr != nil && err == nil {
		dr.Close()
		err = uerr
	}
	if err != nil {
		return nil, sqlError(err)
	}
	cols := columnsOf(dr)
	return &textRows{r: dr, cols: cols, vals: make([]driver.Value, len(cols)), unlock: unlock}, nil
}

// columnsOf describes a result's columns as gosnowflake reports them.
func columnsOf(r driver.Rows) []proxy.Column {
	names := r.Columns()
	cols := make([]proxy.Column, len(names))
	for i, name := range names {
		c := proxy.Column{Name: name}
		if t, ok := r.(driver.RowsColumnTypeDatabaseTypeName); ok {
			c.Type = strings.ToLower(t.ColumnTypeDatabaseTypeName(i))
		}
		if c.Type == "fixed" {
			if ps, ok := r.(driver.RowsColumnTypePrecisionScale); ok {
				if p, s, ok := ps.ColumnTypePrecisionScale(i); ok {
					c.Precision, c.Scale = p, s
				}
			}
		}
		if l, ok := r.(driver.RowsColumnTypeLength); ok {
			if n, ok := l.ColumnTypeLength(i); ok {
				c.Length = n
			}
		}
		if n, ok := r.(driver.RowsColumnTypeNullable); ok {
			if v, ok := n.ColumnTypeNullable(i); ok {
				c.Nullable = v
			}
		}
		if c.Type == "time" || strings.HasPrefix(c.Type, "timestamp") {
			c.Scale = 9 // gosnowflake does not report a timestamp's
			if ps, ok := r.(driver.RowsColumnTypePrecisionScale); ok && c.Type == "time" {
				if s, _, ok := ps.ColumnTypePrecisionScale(i); ok { // a TIME's scale comes first
					c.Scale = s
				}
			}
		}
		cols[i] = c
	}
	return cols
}

// batchable says whether every column has a standard Arrow form that
// rowset reads.
func batchable(cols []proxy.Column) bool {
	for _, c := range cols {
		switch c.Type {
		case "fixed", "real", "text", "variant", "object", "array", "boolean", "date", "time",
			"timestamp_ntz", "timestamp_ltz", "binary":
		default:
			return false
		}
	}
	return true
}

// fetchRows downloads a result's chunks in order, up to prefetch of them
// ahead of the one being read.
type fetchRows struct {
	results []chan fetched
	stop    chan struct{}
	done    chan struct{}
	started int // chunks whose download started; read after done
	next    int // the next chunk to read
	slots   chan struct{}
}

type fetched struct {
	recs []arrow.RecordBatch
	err  error
}

func startFetch(batches []*sf.ArrowBatch) *fetchRows {
	f := &fetchRows{
		results: make([]chan fetched, len(batches)),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		slots:   make(chan struct{}, prefetch),
	}
	for i := range f.results {
		f.results[i] = make(chan fetched, 1)
	}
	go func() {
		defer close(f.done)
		for i, b := range batches {
			select {
			case f.slots <- struct{}{}:
			case <-f.stop:
				return
			}
			f.started = i + 1
			go func() {
				recs, err := b.Fetch()
				var out fetched
				if err != nil {
					out.err = err
				} else if recs != nil {
					out.recs = *recs
				}
				f.results[i] <- out
			}()
		}
	}()
	return f
}

// chunk waits for the next chunk's record batches; io.EOF after the last.
// The caller releases them.
func (f *fetchRows) chunk() ([]arrow.RecordBatch, error) {
	if f.next == len(f.results) {
		return nil, io.EOF
	}
	r := <-f.results[f.next]
	f.next++
	<-f.slots
	return r.recs, r.err
}

// close stops the downloads and releases what was downloaded and not read.
func (f *fetchRows) close() {
	close(f.stop)
	<-f.done
	for ; f.next < f.started; f.next++ {
		for _, r := range (<-f.results[f.next]).recs {
			r.Release()
		}
	}
}

// arrowRows reads a result downloaded in Arrow record batches a row at a
// time.
type arrowRows struct {
	r      driver.Rows
	cols   []proxy.Column
	fetch  *fetchRows
	chunk  []arrow.RecordBatch // the chunk being read; recs[0] is next
	cur    arrow.RecordBatch   // the batch being read, in standard types
	row    int
	values []func(int) any
	once   sync.Once
	unlock func()
}

func (a *arrowRows) Columns() []proxy.Column { return a.cols }

// nextBatch makes the next record batch of the result current, in
// standard Arrow types.
func (a *arrowRows) nextBatch() (arrow.RecordBatch, error) {
	if a.cur != nil {
		a.cur.Release()
		a.cur = nil
	}
	for len(a.chunk) == 0 {
		recs, err := a.fetch.chunk()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			return nil, sqlError(err)
		}
		a.chunk = recs
	}
	raw := a.chunk[0]
	a.chunk = a.chunk[1:]
	defer raw.Release()
	cur, err := standard(raw, a.cols)
	if err != nil {
		return nil, err
	}
	a.cur, a.row = cur, 0
	return cur, nil
}

func (a *arrowRows) Next(dst []any) error {
	for a.cur == nil || a.row == int(a.cur.NumRows()) {
		cur, err := a.nextBatch()
		if err != nil {
			return err
		}
		a.values = a.values[:0]
		for i, arr := range cur.Columns() {
			v, err := rowValues(a.cols[i], arr)
			if err != nil {
				return err
			}
			a.values = append(a.values, v)
		}
	}
	for i, v := range a.values {
		if a.cur.Column(i).IsNull(a.row) {
			dst[i] = nil
			continue
		}
		dst[i] = v(a.row)
	}
	a.row++
	return nil
}

func (a *arrowRows) Close() error {
	a.fetch.close()
	for _, r := range a.chunk {
		r.Release()
	}
	a.chunk = nil
	if a.cur != nil {
		a.cur.Release()
		a.cur = nil
	}
	err := a.r.Close()
	if a.unlock != nil {
		a.once.Do(a.unlock)
	}
	return err
}

// batchRows is a result every column of which has a standard Arrow form:
// the gateway reads it a record batch at a time.
type batchRows struct{ *arrowRows }

func (b *batchRows) NextBatch() (arrow.RecordBatch, error) { return b.nextBatch() }

// standard returns a record batch of Snowflake's Arrow forms, as
// gosnowflake hands it over with higher precision and original
// timestamps, in the standard Arrow types rowset reads: a scaled NUMBER as
// decimal128 of its scale, a time of day as time64 in nanoseconds, a
// timestamp as an Arrow timestamp, or the epoch/fraction struct where no
// unit holds its scale. Other columns are kept as they are.
func standard(rec arrow.RecordBatch, cols []proxy.Column) (arrow.RecordBatch, error) {
	if int(rec.NumCols()) != len(cols) {
		return nil, fmt.Errorf("upstream: a record batch of %d columns for a result of %d", rec.NumCols(), len(cols))
	}
	arrs := make([]arrow.Array, len(cols))
	fields := make([]arrow.Field, len(cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, c := range cols {
		f := rec.Schema().Field(i)
		a, err := standardColumn(c, scaleOf(f, c), rec.Column(i))
		if err != nil {
			return nil, fmt.Errorf("upstream: column %s: %w", c.Name, err)
		}
		arrs[i] = a
		fields[i] = arrow.Field{Name: f.Name, Type: a.DataType(), Nullable: true}
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows()), nil
}

// scaleOf is the scale of a column's raw values: Snowflake's field
// metadata says it; gosnowflake's column type says it for NUMBER.
func scaleOf(f arrow.Field, c proxy.Column) int {
	if v, ok := f.Metadata.GetValue("scale"); ok {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 && s <= 38 {
			return s
		}
	}
	return int(c.Scale)
}

func standardColumn(c proxy.Column, scale int, arr arrow.Array) (arrow.Array, error) {
	mem := memory.DefaultAllocator
	switch c.Type {
	case "fixed":
		if scale == 0 {
			break
		}
		if a, ok := arr.(*array.Decimal128); ok {
			return retype(a, &arrow.Decimal128Type{Precision: 38, Scale: int32(scale)}), nil
		}
		v, ok := rowset.Int64s(arr)
		if !ok {
			return nil, fmt.Errorf("NUMBER(%d,%d) as Arrow %s", c.Precision, scale, arr.DataType())
		}
		b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: int32(scale)})
		defer b.Release()
		b.Reserve(arr.Len())
		for i := range arr.Len() {
			if arr.IsNull(i) {
				b.UnsafeAppendBoolToBitmap(false)
				continue
			}
			b.UnsafeAppend(decimal128.FromI64(v(i)))
		}
		return b.NewArray(), nil
	case "time":
		// gosnowflake casts the raw integer to time64[ns] as it is.
		if a, ok := arr.(*array.Time64); ok && scale < 9 {
			b := array.NewTime64Builder(mem, &arrow.Time64Type{Unit: arrow.Nanosecond})
			defer b.Release()
			b.Reserve(a.Len())
			for i := range a.Len() {
				if a.IsNull(i) {
					b.UnsafeAppendBoolToBitmap(false)
					continue
				}
				sec, ns := rowset.SplitScaled(int64(a.Value(i)), scale)
				b.UnsafeAppend(arrow.Time64(sec*1e9 + ns))
			}
			return b.NewArray(), nil
		}
	case "timestamp_ntz", "timestamp_ltz":
		a, ok := arr.(*array.Int64)
		if !ok {
			break
		}
		if scale%3 == 0 && scale <= 9 { // seconds, milli-, micro-, nanoseconds
			return retype(a, &arrow.TimestampType{Unit: arrow.TimeUnit(scale / 3)}), nil
		}
		return rowset.EpochFractions(a, func(i int) (int64, int64) { return rowset.SplitScaled(a.Value(i), scale) }), nil
	case "timestamp_tz":
		// of scale 0 to 3: the epoch scaled and the zone; read as the
		// wider form, whole seconds, nanoseconds and the zone
		a, ok := arr.(*array.Struct)
		if !ok || a.NumField() != 2 {
			break
		}
		epoch, ok1 := a.Field(0).(*array.Int64)
		tz, ok2 := a.Field(1).(*array.Int32)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("TIMESTAMP_TZ as Arrow %s", arr.DataType())
		}
		b := array.NewStructBuilder(mem, arrow.StructOf(
			arrow.Field{Name: "epoch", Type: arrow.PrimitiveTypes.Int64},
			arrow.Field{Name: "fraction", Type: arrow.PrimitiveTypes.Int32},
			arrow.Field{Name: "timezone", Type: arrow.PrimitiveTypes.Int32}))
		defer b.Release()
		eb, fb, zb := b.FieldBuilder(0).(*array.Int64Builder), b.FieldBuilder(1).(*array.Int32Builder), b.FieldBuilder(2).(*array.Int32Builder)
		for i := range a.Len() {
			if a.IsNull(i) {
				b.AppendNull()
				continue
			}
			sec, ns := rowset.SplitScaled(epoch.Value(i), scale)
			b.Append(true)
			eb.Append(sec)
			fb.Append(int32(ns))
			zb.Append(tz.Value(i))
		}
		return b.NewArray(), nil
	}
	arr.Retain()
	return arr, nil
}

// retype returns arr's data as type t, sharing its buffers.
func retype(arr arrow.Array, t arrow.DataType) arrow.Array {
	d := arr.Data()
	nd := array.NewData(t, d.Len(), d.Buffers(), d.Children(), d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}

// rowValues reads a column in standard Arrow types (standard's) as the Go
// values proxy.Rows hands over; the caller skips NULLs.
func rowValues(c proxy.Column, arr arrow.Array) (func(int) any, error) {
	switch a := arr.(type) {
	case *array.Int64, *array.Int32, *array.Int16, *array.Int8:
		if v, ok := rowset.Int64s(a); ok && c.Type == "fixed" {
			return func(i int) any { return v(i) }, nil
		}
	case *array.Decimal128:
		scale := int(a.DataType().(*arrow.Decimal128Type).Scale)
		return func(i int) any { return proxy.Fixed{Unscaled: a.Value(i).BigInt(), Scale: scale} }, nil
	case *array.Float64:
		return func(i int) any { return a.Value(i) }, nil
	case *array.String:
		return func(i int) any { return strings.Clone(a.Value(i)) }, nil
	case *array.Boolean:
		return func(i int) any { return a.Value(i) }, nil
	case *array.Binary:
		return func(i int) any { return bytes.Clone(a.Value(i)) }, nil
	case *array.Date32:
		return func(i int) any { return a.Value(i).ToTime() }, nil
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		return func(i int) any { return time.Time{}.Add(time.Duration(int64(a.Value(i)) * int64(unit.Multiplier()))) }, nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return func(i int) any { return a.Value(i).ToTime(unit).UTC() }, nil
	case *array.Struct:
		if epoch, fraction, ok := rowset.EpochFraction(a); ok {
			return func(i int) any { return time.Unix(epoch.Value(i), int64(fraction.Value(i))).UTC() }, nil
		}
		if c.Type == "timestamp_tz" {
			return zonedValues(c, a)
		}
	}
	return nil, fmt.Errorf("upstream: column %s of type %s: cannot read Arrow %s", c.Name, c.Type, arr.DataType())
}

// zonedValues reads TIMESTAMP_TZ as standard leaves it: whole seconds,
// nanoseconds and the zone, an offset in minutes plus 1440.
func zonedValues(c proxy.Column, a *array.Struct) (func(int) any, error) {
	if a.NumField() == 3 {
		epoch, ok1 := a.Field(0).(*array.Int64)
		fraction, ok2 := a.Field(1).(*array.Int32)
		tz, ok3 := a.Field(2).(*array.Int32)
		if ok1 && ok2 && ok3 {
			return func(i int) any {
				zone := time.FixedZone("", (int(tz.Value(i))-1440)*60)
				return time.Unix(epoch.Value(i), int64(fraction.Value(i))).In(zone)
			}, nil
		}
	}
	return nil, fmt.Errorf("upstream: column %s: TIMESTAMP_TZ as Arrow %s", c.Name, a.DataType())
}

// textRows reads a result Snowflake answered in JSON, as gosnowflake
// parses it with higher precision.
type textRows struct {
	r      driver.Rows
	cols   []proxy.Column
	vals   []driver.Value
	once   sync.Once
	unlock func()
}

func (t *textRows) Columns() []proxy.Column { return t.cols }

func (t *textRows) Next(dst []any) error {
	if err := t.r.Next(t.vals); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return sqlError(err)
	}
	for i, v := range t.vals {
		x, err := sameAsArrow(t.cols[i], v)
		if err != nil {
			return fmt.Errorf("upstream: column %s: %w", t.cols[i].Name, err)
		}
		dst[i] = x
	}
	return nil
}

// sameAsArrow is a value gosnowflake parsed from JSON as rowValues reads
// the same value from Arrow, so that a mask reads the same text of it.
func sameAsArrow(c proxy.Column, v driver.Value) (any, error) {
	switch x := v.(type) {
	case big.Int:
		return &x, nil
	case big.Float:
		return fixedOf(&x, int(c.Scale))
	case []byte:
		return bytes.Clone(x), nil
	case string:
		switch c.Type {
		case "real":
			return strconv.ParseFloat(x, 64) // NaN, Infinity and -Infinity included
		case "boolean":
			return x == "1" || strings.EqualFold(x, "true"), nil
		}
	case time.Time:
		switch c.Type {
		case "time":
			h, m, s := x.Clock()
			return time.Date(1, time.January, 1, h, m, s, x.Nanosecond(), time.UTC), nil
		case "timestamp_ltz":
			return x.UTC(), nil
		}
	}
	return v, nil
}

// fixedOf is a scaled NUMBER gosnowflake parsed from JSON text into a
// big.Float of 127 bits (rounded away from zero): within 2^-126 of the
// decimal, so rounded to its scale it is that decimal exactly while the
// unscaled value stays below 2^125. A larger one (38 digits, above about
// 4.25e37) could come out one off in its last digit: it is refused.
func fixedOf(f *big.Float, scale int) (proxy.Fixed, error) {
	text := f.Text('f', scale)
	digits := strings.Replace(text, ".", "", 1)
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return proxy.Fixed{}, fmt.Errorf("cannot read NUMBER %q", text)
	}
	if n.BitLen() > 125 {
		return proxy.Fixed{}, fmt.Errorf("cannot read NUMBER(38,%d) %s exactly from a JSON result", scale, text)
	}
	return proxy.Fixed{Unscaled: n, Scale: scale}, nil
}

func (t *textRows) Close() error {
	err := t.r.Close()
	if t.unlock != nil {
		t.once.Do(t.unlock)
	}
	return err
}

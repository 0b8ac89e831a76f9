//go:build duckdb_arrow

package standin

// Built with the duckdb_arrow tag (make does), a query whose columns are
// all batchable is read through DuckDB's Arrow interface: a record batch
// of up to 2,048 rows at a time, no value converted on its own.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/snowgate/snowgate/proxy"
)

// Batches says whether this build reads query results in record batches.
const Batches = true

// queryBatches runs a checked query and reads its result in record
// batches. The reader holds the session's DuckDB connection beyond Raw's
// callback: the session's lock (conn.mu) keeps every other use of it out
// until the rows are closed.
func (c *conn) queryBatches(ctx context.Context, sqlText string, args []any, stmtText string) (proxy.Rows, error) {
	var rr array.RecordReader
	err := c.c.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("stand-in: unexpected DuckDB connection %T", dc)
		}
		a, err := duckdb.NewArrowFromConn(dconn)
		if err != nil {
			return err
		}
		rr, err = a.QueryContext(ctx, sqlText, args...)
		return err
	})
	if err != nil {
		return nil, duckError(err)
	}
	fields := rr.Schema().Fields()
	b := &batchRows{r: rr, cols: make([]proxy.Column, len(fields))}
	for i, f := range fields {
		b.cols[i] = column(f.Name, arrowTypeName(f.Type), stmtText)
	}
	return b, nil
}

// batchRows is a query's result read in record batches.
type batchRows struct {
	r    array.RecordReader
	cols []proxy.Column
}

func (b *batchRows) Columns() []proxy.Column { return b.cols }

func (b *batchRows) Next([]any) error {
	return errors.New("stand-in: this result is read in record batches")
}

func (b *batchRows) NextBatch() (arrow.RecordBatch, error) {
	if b.r.Next() {
		return b.r.RecordBatch(), nil
	}
	if err := b.r.Err(); err != nil {
		return nil, duckError(err)
	}
	return nil, io.EOF
}

func (b *batchRows) Close() error {
	b.r.Release()
	return nil
}

// arrowTypeName is the DuckDB type name of a batchable column's Arrow
// type, for column; anything else maps to text, whose Arrow form the
// gateway then refuses to read unless it is one.
func arrowTypeName(t arrow.DataType) string {
	switch t := t.(type) {
	case *arrow.BooleanType:
		return "BOOLEAN"
	case *arrow.Int8Type:
		return "TINYINT"
	case *arrow.Int16Type:
		return "SMALLINT"
	case *arrow.Int32Type:
		return "INTEGER"
	case *arrow.Int64Type:
		return "BIGINT"
	case *arrow.Uint8Type:
		return "UTINYINT"
	case *arrow.Uint16Type:
		return "USMALLINT"
	case *arrow.Uint32Type:
		return "UINTEGER"
	case *arrow.Decimal128Type:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
	case *arrow.Float32Type:
		return "FLOAT"
	case *arrow.Float64Type:
		return "DOUBLE"
	case *arrow.StringType:
		return "VARCHAR"
	case *arrow.BinaryType:
		return "BLOB"
	case *arrow.Date32Type:
		return "DATE"
	case *arrow.Time64Type:
		return "TIME"
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return "TIMESTAMPTZ"
		}
		return "TIMESTAMP"
	}
	return t.String()
}

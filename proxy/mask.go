package proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/rowset"
	"github.com/snowgate/snowgate/proxy/statement"
)

// maskFn appends the masked text of one encoded cell to dst; valid is
// false for NULL, and so is ok for a masked NULL.
type maskFn func(dst []byte, cell string, valid bool) (out []byte, ok bool)

// maskPlan is the mask of each result column; nil entries pass through.
type maskPlan []maskFn

// strength orders strategies when several masked sources feed one output:
// the strongest wins.
var strength = map[string]int{
	engine.MaskEmailDomain: 1, engine.MaskPartial: 2, engine.MaskHash: 3, engine.MaskRedact: 4, engine.MaskNull: 5,
}

// planMasks maps the decision's masks, keyed by source column, onto the
// statement's output columns through their lineage. It fails when a mask
// cannot be guaranteed: an output whose lineage is untraced, a strategy the
// gateway does not know, or outputs that do not line up with the result.
func planMasks(masks map[string]string, stmt statement.Statement, key []byte) (map[int]string, error) {
	for col, s := range masks {
		if _, ok := strength[s]; !ok {
			return nil, fmt.Errorf("unknown mask strategy %q for %s", s, col)
		}
	}
	plan := map[int]string{}
	for i, out := range stmt.Outputs {
		if !out.Traced {
			return nil, fmt.Errorf("result column %q cannot be traced to its sources, so masking cannot be guaranteed", out.Name)
		}
		for _, src := range out.Sources {
			s, ok := masks[columnKey(src)]
			if !ok {
				continue
			}
			// partial, email_domain and hash show something of the value
			// they mask. Of a plain copy that is what the policy chose; of
			// anything derived it can be an oracle: part of an expression
			// mixing columns or of an aggregate listing many values, or the
			// hash of a value with a handful of possible results (a CASE
			// yielding 1 or NULL hashes to one of two tokens). Only redact
			// and null show nothing.
			if out.Transform != statement.TransformCopy && s != engine.MaskNull {
				s = engine.MaskRedact
			}
			if strength[s] > strength[plan[i]] {
				plan[i] = s
			}
		}
	}
	if len(plan) == 0 && len(masks) > 0 && len(stmt.Outputs) == 0 {
		return nil, fmt.Errorf("the statement's result columns are unknown, so masking cannot be guaranteed")
	}
	return plan, nil
}

// columnKey is a source column as the policy names it: DB.SCHEMA.TABLE.COLUMN.
func columnKey(c statement.Column) string {
	return strings.Join([]string{c.Database, c.Schema, c.Table, c.Name}, ".")
}

// apply turns the strategy plan into per-column functions, and changes the
// masked columns' types so that every masked value stays valid for the type
// the drivers decode: the original type for null (every value is NULL),
// text that is never NULL for the other strategies.
func (p maskPlanSpec) apply(cols []Column) (maskPlan, error) {
	// Checked even when no output is masked: a result column the analysis
	// did not see could carry a masked source.
	if p.outputs != len(cols) {
		return nil, fmt.Errorf("the statement has %d result columns by analysis but %d upstream, so masking cannot be guaranteed", p.outputs, len(cols))
	}
	if len(p.byOutput) == 0 {
		return nil, nil
	}
	plan := make(maskPlan, len(cols))
	for i, strategy := range p.byOutput {
		if strategy == engine.MaskNull {
			cols[i].Nullable = true
		} else {
			cols[i] = Column{Name: cols[i].Name, Type: "text", Database: cols[i].Database, Schema: cols[i].Schema, Table: cols[i].Table}
		}
		plan[i] = maskFunc(strategy, p.key)
	}
	return plan, nil
}

// maskPlanSpec is a plan before the result's columns are known.
type maskPlanSpec struct {
	byOutput map[int]string
	outputs  int
	key      []byte
}

// redacted is what a redacted cell shows, and what every masked NULL shows
// under the strategies other than null: were a NULL to pass through, whether
// a masked value is NULL would be visible, and a masked expression that is
// NULL or not by the value it hides (CASE WHEN SUBSTR(ssn, 1, 1) = '1' THEN 1
// END) would give that away one bit at a time.
const redacted = "********"

func maskFunc(strategy string, key []byte) maskFn {
	switch strategy {
	case engine.MaskNull:
		return func(dst []byte, _ string, _ bool) ([]byte, bool) { return dst, false }
	case engine.MaskHash:
		// One MAC per column of one result, which one goroutine encodes:
		// reset for each value rather than keyed anew.
		m := hmac.New(sha256.New, key)
		var sum [sha256.Size]byte
		return func(dst []byte, cell string, valid bool) ([]byte, bool) {
			if !valid {
				return append(dst, redacted...), true
			}
			m.Reset()
			m.Write(unsafe.Slice(unsafe.StringData(cell), len(cell))) // read, not kept
			return hex.AppendEncode(dst, m.Sum(sum[:0])[:16]), true
		}
	case engine.MaskPartial:
		return func(dst []byte, cell string, valid bool) ([]byte, bool) {
			if !valid {
				return append(dst, redacted...), true
			}
			n := utf8.RuneCountInString(cell)
			if n <= 4 {
				for range n {
					dst = append(dst, '*')
				}
				return dst, true
			}
			// stars for all but the last 4 runes, which are kept as
			// []rune would keep them (an invalid byte is U+FFFD)
			i := 0
			for k := 0; k < n-4; k++ {
				dst = append(dst, '*')
				_, size := utf8.DecodeRuneInString(cell[i:])
				i += size
			}
			for i < len(cell) {
				r, size := utf8.DecodeRuneInString(cell[i:])
				dst = utf8.AppendRune(dst, r)
				i += size
			}
			return dst, true
		}
	case engine.MaskEmailDomain:
		return func(dst []byte, cell string, valid bool) ([]byte, bool) {
			if !valid {
				return append(dst, redacted...), true
			}
			if at := strings.LastIndexByte(cell, '@'); at >= 0 {
				return append(append(dst, "****"...), cell[at:]...), true
			}
			return append(dst, redacted...), true
		}
	}
	return func(dst []byte, _ string, _ bool) ([]byte, bool) { return append(dst, redacted...), true }
}

// maskColumn masks a column of a record batch: each value's text through
// mask, into a text column, or for a column whose type the plan kept (the
// null strategy) NULLs of its type. It returns a new reference.
func maskColumn(mask maskFn, dst rowset.Field, arr arrow.Array) (arrow.Array, error) {
	n := arr.Len()
	if dst.Type != "text" {
		if _, ok := mask(nil, "", true); ok {
			return nil, fmt.Errorf("column %s: a mask that keeps the type must give NULL", dst.Name)
		}
		return array.MakeArrayOfNull(memory.DefaultAllocator, arr.DataType(), n), nil
	}
	text, err := maskedText(arr)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", dst.Name, err)
	}
	strs, _ := arr.(*array.String)
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.Reserve(n)
	var scratch, out []byte
	for i := range n {
		var cell string
		valid := arr.IsValid(i)
		switch {
		case !valid:
		case strs != nil:
			cell = strs.Value(i)
		default:
			scratch = text(scratch[:0], i)
			// the mask reads the text and keeps none of it
			cell = unsafe.String(unsafe.SliceData(scratch), len(scratch))
		}
		var ok bool
		out, ok = mask(out[:0], cell, valid)
		if !ok {
			b.AppendNull()
			continue
		}
		b.BinaryBuilder.Append(out)
	}
	return b.NewArray(), nil
}

// maskedText is the text a mask reads of a value of a column it turns to
// text: what encodeValue renders, for a text column, of the Go value a row
// of the same result holds (Rows.Next): fmt's text of numbers and
// booleans, RFC 3339 of dates, times and timestamps (in UTC; a time of day
// on 0001-01-01), the bytes of binary values.
func maskedText(arr arrow.Array) (func(dst []byte, i int) []byte, error) {
	switch a := arr.(type) {
	case *array.String:
		return func(dst []byte, i int) []byte { return append(dst, a.Value(i)...) }, nil
	case *array.Binary:
		return func(dst []byte, i int) []byte { return append(dst, a.Value(i)...) }, nil
	case *array.Int8, *array.Int16, *array.Int32, *array.Int64, *array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64:
		return rowset.Text(rowset.Field{Type: "fixed"}, a) // the digits, as fmt writes them
	case *array.Decimal128: // as Fixed.String
		return rowset.Text(rowset.Field{Type: "fixed", Scale: int64(a.DataType().(*arrow.Decimal128Type).Scale)}, a)
	case *array.Boolean, *array.Float32, *array.Float64:
		return func(dst []byte, i int) []byte { return fmt.Append(dst, a.GetOneForMarshal(i)) }, nil
	case *array.Date32:
		return func(dst []byte, i int) []byte { return a.Value(i).ToTime().AppendFormat(dst, time.RFC3339Nano) }, nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return func(dst []byte, i int) []byte {
			return a.Value(i).ToTime(unit).UTC().AppendFormat(dst, time.RFC3339Nano)
		}, nil
	case *array.Struct:
		if epoch, fraction, ok := rowset.EpochFraction(a); ok {
			return func(dst []byte, i int) []byte {
				return time.Unix(epoch.Value(i), int64(fraction.Value(i))).UTC().AppendFormat(dst, time.RFC3339Nano)
			}, nil
		}
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		return func(dst []byte, i int) []byte {
			t := a.Value(i).ToTime(unit).UTC()
			return time.Date(1, time.January, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC).AppendFormat(dst, time.RFC3339Nano)
		}, nil
	}
	return nil, fmt.Errorf("cannot mask Arrow %s", arr.DataType())
}

package rowset

import (
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// JSON accumulates rows as Snowflake's JSON rowset: "[...],[...]", without
// the outer brackets, every value a string or null.
type JSON struct {
	Fields []Field // the columns, for AppendColumns
	buf    []byte
	rows   int
	cells  []jsonCell
}

// jsonCell appends one column's i-th value as a JSON string.
type jsonCell func(dst []byte, i int) []byte

// AppendColumns adds rows given as one array per column, in standard
// Arrow types (see Text), all of one length.
func (j *JSON) AppendColumns(cols []arrow.Array) error {
	if len(cols) != len(j.Fields) {
		return fmt.Errorf("json: %d columns for %d fields", len(cols), len(j.Fields))
	}
	j.cells = j.cells[:0]
	for i, c := range cols {
		cell, err := jsonCellOf(j.Fields[i], c)
		if err != nil {
			return err
		}
		j.cells = append(j.cells, cell)
	}
	if len(cols) == 0 {
		return nil
	}
	for r := range cols[0].Len() {
		j.beginRow()
		for i, c := range cols {
			if i > 0 {
				j.buf = append(j.buf, ',')
			}
			if c.IsNull(r) {
				j.buf = append(j.buf, "null"...)
				continue
			}
			j.buf = j.cells[i](j.buf, r)
		}
		j.buf = append(j.buf, ']')
		j.rows++
	}
	return nil
}

// jsonCellOf escapes text; the other types render as digits, signs,
// points, hex and the names of the non-finite numbers, which need none.
func jsonCellOf(f Field, arr arrow.Array) (jsonCell, error) {
	if s, ok := arr.(*array.String); ok {
		if _, err := Text(f, arr); err != nil {
			return nil, err
		}
		return func(dst []byte, i int) []byte { return AppendJSONString(dst, s.Value(i)) }, nil
	}
	text, err := Text(f, arr)
	if err != nil {
		return nil, err
	}
	return func(dst []byte, i int) []byte {
		dst = append(dst, '"')
		return append(text(dst, i), '"')
	}, nil
}

// Rows is the number of rows appended since the last Encode.
func (j *JSON) Rows() int { return j.rows }

// Size is the encoded size of the rows appended since the last Encode.
func (j *JSON) Size() int { return len(j.buf) }

// Append adds one row: cells as text, valid false for NULL.
func (j *JSON) Append(cells []string, valid []bool) error {
	j.beginRow()
	for i, c := range cells {
		if i > 0 {
			j.buf = append(j.buf, ',')
		}
		if !valid[i] {
			j.buf = append(j.buf, "null"...)
			continue
		}
		j.buf = AppendJSONString(j.buf, c)
	}
	j.buf = append(j.buf, ']')
	j.rows++
	return nil
}

func (j *JSON) beginRow() {
	if len(j.buf) > 0 {
		j.buf = append(j.buf, ',')
	}
	j.buf = append(j.buf, '[')
}

// Encode returns the rows appended since the last Encode and starts anew,
// reusing its buffer: the bytes are valid until the next Append.
func (j *JSON) Encode() ([]byte, error) {
	b := j.buf
	j.buf, j.rows = j.buf[:0], 0
	return b, nil
}

// Release frees nothing: the buffer is the garbage collector's.
func (j *JSON) Release() {}

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func AppendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

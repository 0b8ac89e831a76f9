package rowset

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Writer encodes a result's rows into its Set: the inline part up to its
// limit, then chunks of up to theirs, spooled as they fill, so that memory
// stays bounded whatever the row count. Rows come in one way: as cells, or
// as record batches' columns.
type Writer struct {
	set                     *Set
	fields                  []Field
	inlineLimit, chunkLimit int
	spoolDir                string

	enc      encoder // the chunk being filled
	spilling bool
	perRow   int // bytes a row of record batches adds, as last seen
}

// encoder is a result format: rows in, one chunk's bytes out.
type encoder interface {
	Append(cells []string, valid []bool) error
	AppendColumns(cols []arrow.Array) error
	Rows() int
	Size() int
	Encode() ([]byte, error)
	Release()
}

// NewWriter writes rows of fields into set, as Arrow when set.Arrow says
// so, else as JSON. Chunks are spooled in spoolDir.
func NewWriter(set *Set, fields []Field, inlineLimit, chunkLimit int, spoolDir string) (*Writer, error) {
	w := &Writer{set: set, fields: fields, inlineLimit: inlineLimit, chunkLimit: chunkLimit, spoolDir: spoolDir, enc: &JSON{Fields: fields}}
	if set.Arrow {
		a, err := NewArrow(fields)
		if err != nil {
			return nil, err
		}
		w.enc = a
	}
	return w, nil
}

// Fields are the columns the writer encodes.
func (w *Writer) Fields() []Field { return w.fields }

// Close frees what the writer holds.
func (w *Writer) Close() { w.enc.Release() }

// WriteColumns appends a record batch's columns (n rows), cut where the
// inline part and the chunks end.
func (w *Writer) WriteColumns(cols []arrow.Array, n int) error {
	part := make([]arrow.Array, len(cols))
	for off := 0; off < n; {
		take := n - off
		if w.perRow == 0 {
			take = min(take, 64) // a first slice, to learn the row size
		} else if room := (w.limit() - w.enc.Size()) / w.perRow; room < take {
			take = max(room, 1)
		}
		whole := take == n
		for i, c := range cols {
			part[i] = c
			if !whole {
				part[i] = array.NewSlice(c, int64(off), int64(off+take))
			}
		}
		before := w.enc.Size()
		err := w.enc.AppendColumns(part)
		if !whole {
			for _, p := range part {
				p.Release()
			}
		}
		if err != nil {
			return err
		}
		w.perRow = max(1, (w.enc.Size()-before)/take)
		w.set.Total += int64(take)
		off += take
		if w.enc.Size() >= w.limit() {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *Writer) limit() int {
	if w.spilling {
		return w.chunkLimit
	}
	return w.inlineLimit
}

// WriteRow appends one row of encoded cells (valid false for NULL).
func (w *Writer) WriteRow(cells []string, valid []bool) error {
	if err := w.enc.Append(cells, valid); err != nil {
		return err
	}
	w.set.Total++
	if w.enc.Size() >= w.limit() {
		return w.flush()
	}
	return nil
}

// Finish ends the last chunk and waits until the spooled ones are stored.
func (w *Writer) Finish() error {
	if err := w.flush(); err != nil {
		return err
	}
	if w.set.Chunks != nil {
		return w.set.Chunks.Finish()
	}
	return nil
}

// flush ends the chunk being filled: the inline part, then spooled chunks.
func (w *Writer) flush() error {
	rows := int64(w.enc.Rows())
	if rows == 0 {
		return nil
	}
	b, err := w.enc.Encode()
	if err != nil {
		return err
	}
	if !w.spilling {
		w.set.Inline = append([]byte(nil), b...)
		w.set.InlineRows = rows
		w.spilling = true
		return nil
	}
	if w.set.Chunks == nil {
		c, err := NewChunks(w.spoolDir)
		if err != nil {
			return err
		}
		w.set.Chunks = c
	}
	return w.set.Chunks.Write(b, rows)
}

package proxy

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/snowgate/snowgate/proxy/rowset"
)

// result is a finished statement's answer: its columns, the first rows
// inline, and the rest spooled to disk and served as chunks.
type result struct {
	statementType int
	arrow         bool // inline and chunks are Arrow IPC streams, not JSON rowsets
	columns       []Column
	inline        []byte // rows as Snowflake's rowset: "[...],[...]" without the outer brackets
	inlineRows    int64
	total         int64
	valueBytes    int64  // the values' text, as quotas count bytes returned
	spool         *spool // nil when every row is inline
	resultIDs     string // multi-statement parent only
	resultTypes   string
	state         SessionState
	numBinds      int
}

func (r *result) close() {
	if r.spool != nil {
		r.spool.close()
	}
}

// spool is a result's rows beyond the inline part, in an unlinked temporary
// file: nothing is left on disk if the gateway dies, and the rows never sit
// in memory. Chunks are written to the file by a goroutine of their own
// while the next ones are encoded; finish waits for it.
type spool struct {
	key    string // unguessable: the chunk URLs' credential
	mu     sync.Mutex
	f      *os.File
	size   int64
	chunks []chunkInfo
	served map[int]bool // chunks downloaded at least once (drain waits for them)

	queue    chan []byte // chunks on their way to the file
	wrote    chan error  // the writer's first failure, when it has stopped
	failed   atomic.Pointer[error]
	finished sync.Once
	err      error
}

type chunkInfo struct {
	off, len int64
	rows     int64
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "snowgate-result-*")
	if err != nil {
		return nil, fmt.Errorf("spool result: %w", err)
	}
	_ = os.Remove(f.Name())
	sp := &spool{key: newToken(), f: f, queue: make(chan []byte, 2), wrote: make(chan error, 1)}
	go sp.writeOut(f)
	return sp, nil
}

// write queues a copy of chunk for the file; it fails once a chunk could
// not be written.
func (sp *spool) write(chunk []byte, rows int64) error {
	if err := sp.failed.Load(); err != nil {
		return *err
	}
	sp.queue <- append([]byte(nil), chunk...)
	sp.chunks = append(sp.chunks, chunkInfo{off: sp.size, len: int64(len(chunk)), rows: rows})
	sp.size += int64(len(chunk))
	return nil
}

func (sp *spool) writeOut(f *os.File) {
	var err error
	for b := range sp.queue {
		if err == nil {
			if _, err = f.Write(b); err != nil {
				err = fmt.Errorf("spool result: %w", err)
				sp.failed.Store(&err)
			}
		}
	}
	sp.wrote <- err
}

// finish waits until every chunk written is in the file, and reports
// whether one could not be.
func (sp *spool) finish() error {
	sp.finished.Do(func() {
		close(sp.queue)
		sp.err = <-sp.wrote
	})
	return sp.err
}

func (sp *spool) close() {
	_ = sp.finish()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.f != nil {
		_ = sp.f.Close()
		sp.f = nil
	}
}

// section returns a reader over chunk n, or nil when the result is gone.
func (sp *spool) section(n int) (io.ReadSeeker, int64) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.f == nil || n < 0 || n >= len(sp.chunks) {
		return nil, 0
	}
	c := sp.chunks[n]
	if sp.served == nil {
		sp.served = map[int]bool{}
	}
	sp.served[n] = true
	return io.NewSectionReader(sp.f, c.off, c.len), c.len
}

// fetched reports whether every chunk was downloaded at least once.
func (sp *spool) fetched() bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.f == nil || len(sp.served) == len(sp.chunks)
}

// rowWriter encodes rows into the inline part and then into spooled
// chunks, so that memory stays bounded whatever the row count.
type rowWriter struct {
	inlineLimit, chunkLimit int
	spoolDir                string

	res      *result
	fields   []rowset.Field // res.columns as the encoders take them
	enc      encoder        // the chunk being filled
	spilling bool
	perRow   int // bytes a row of record batches adds, as last seen
}

// encoder is a result format (proxy/rowset): rows in, one chunk's bytes out.
// A result's rows come in one way: as cells, or as record batches' columns.
type encoder interface {
	Append(cells []string, valid []bool) error
	AppendColumns(cols []arrow.Array) error
	Rows() int
	Size() int
	Encode() ([]byte, error)
	Release()
}

func newRowWriter(res *result, inlineLimit, chunkLimit int, spoolDir string) (*rowWriter, error) {
	fields := rowFields(res.columns)
	w := &rowWriter{res: res, fields: fields, inlineLimit: inlineLimit, chunkLimit: chunkLimit, spoolDir: spoolDir, enc: &rowset.JSON{Fields: fields}}
	if res.arrow {
		a, err := rowset.NewArrow(fields)
		if err != nil {
			return nil, err
		}
		w.enc = a
	}
	return w, nil
}

func rowFields(cols []Column) []rowset.Field {
	fields := make([]rowset.Field, len(cols))
	for i, c := range cols {
		fields[i] = rowset.Field{Name: c.Name, Type: c.Type, Precision: c.Precision, Scale: c.Scale, Length: c.Length, Nullable: c.Nullable}
	}
	return fields
}

// close frees what the writer holds.
func (w *rowWriter) close() { w.enc.Release() }

// writeColumns appends a record batch's columns (n rows), cut where the
// inline part and the chunks end.
func (w *rowWriter) writeColumns(cols []arrow.Array, n int) error {
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
		w.res.total += int64(take)
		off += take
		if w.enc.Size() >= w.limit() {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *rowWriter) limit() int {
	if w.spilling {
		return w.chunkLimit
	}
	return w.inlineLimit
}

// writeRow appends one row of encoded cells (valid false for NULL).
func (w *rowWriter) writeRow(cells []string, valid []bool) error {
	if err := w.enc.Append(cells, valid); err != nil {
		return err
	}
	w.res.total++
	if w.enc.Size() >= w.limit() {
		return w.flush()
	}
	return nil
}

// finish ends the last chunk and waits until the spooled ones are stored.
func (w *rowWriter) finish() error {
	if err := w.flush(); err != nil {
		return err
	}
	if w.res.spool != nil {
		return w.res.spool.finish()
	}
	return nil
}

// flush ends the chunk being filled: the inline part, then spooled chunks.
func (w *rowWriter) flush() error {
	rows := int64(w.enc.Rows())
	if rows == 0 {
		return nil
	}
	b, err := w.enc.Encode()
	if err != nil {
		return err
	}
	if !w.spilling {
		w.res.inline = append([]byte(nil), b...)
		w.res.inlineRows = rows
		w.spilling = true
		return nil
	}
	if w.res.spool == nil {
		sp, err := newSpool(w.spoolDir)
		if err != nil {
			return err
		}
		w.res.spool = sp
	}
	return w.res.spool.write(b, rows)
}

// rowType is one entry of the response's rowtype.
type rowType struct {
	Name       string  `json:"name"`
	Database   string  `json:"database"`
	Schema     string  `json:"schema"`
	Table      string  `json:"table"`
	Type       string  `json:"type"`
	Nullable   bool    `json:"nullable"`
	Length     *int64  `json:"length"`
	Precision  *int64  `json:"precision"`
	Scale      *int64  `json:"scale"`
	ByteLength *int64  `json:"byteLength"`
	Collation  *string `json:"collation"`
}

func rowTypes(cols []Column) []rowType {
	out := make([]rowType, len(cols))
	for i, c := range cols {
		rt := rowType{Name: c.Name, Database: c.Database, Schema: c.Schema, Table: c.Table, Type: c.Type, Nullable: c.Nullable}
		switch c.Type {
		case "fixed":
			p, s := c.Precision, c.Scale
			if p == 0 {
				p = 38
			}
			rt.Precision, rt.Scale = &p, &s
		case "time", "timestamp_ntz", "timestamp_ltz", "timestamp_tz":
			p, s := int64(0), c.Scale
			rt.Precision, rt.Scale = &p, &s
		case "text", "variant", "object", "array", "binary":
			l := c.Length
			if l == 0 {
				l = 16777216
				if c.Type == "binary" {
					l = 8388608
				}
			}
			rt.Length, rt.ByteLength = &l, &l
		}
		out[i] = rt
	}
	return out
}

type chunkRef struct {
	URL              string `json:"url"`
	RowCount         int64  `json:"rowCount"`
	UncompressedSize int64  `json:"uncompressedSize"`
	CompressedSize   int64  `json:"compressedSize"`
}

// render encodes the response body for a finished query. base is the
// scheme and host the client reached us on: chunk URLs are absolute.
func (r *result) render(queryID, base string) ([]byte, error) {
	data := map[string]any{
		"parameters":      sessionParameters,
		"rowtype":         rowTypes(r.columns),
		"total":           r.total,
		"returned":        r.inlineRows,
		"queryId":         queryID,
		"statementTypeId": r.statementType,
		"version":         1,

		"numberOfBinds":      r.numBinds,
		"arrayBindSupported": false,
		"sendResultTime":     time.Now().UnixMilli(),
		"databaseProvider":   nil,
		"finalDatabaseName":  nullable(r.state.Database),
		"finalSchemaName":    nullable(r.state.Schema),
		"finalWarehouseName": nullable(r.state.Warehouse),
		"finalRoleName":      nullable(r.state.Role),
		"queryContext":       map[string]any{"entries": []any{}},
	}
	if r.arrow {
		data["queryResultFormat"] = "arrow"
		data["rowsetBase64"] = base64.StdEncoding.EncodeToString(r.inline)
	} else {
		rows := make([]byte, 0, len(r.inline)+2)
		rows = append(rows, '[')
		rows = append(rows, r.inline...)
		rows = append(rows, ']')
		data["queryResultFormat"] = "json"
		data["rowset"] = json.RawMessage(rows)
	}
	if r.resultIDs != "" {
		data["resultIds"] = r.resultIDs
		data["resultTypes"] = r.resultTypes
	}
	if r.spool != nil {
		chunks := make([]chunkRef, len(r.spool.chunks))
		for i, c := range r.spool.chunks {
			chunks[i] = chunkRef{
				URL:      fmt.Sprintf("%s/chunks/%s/%d?k=%s", base, queryID, i, r.spool.key),
				RowCount: c.rows, UncompressedSize: c.len, CompressedSize: c.len,
			}
		}
		data["chunks"] = chunks
	}
	return json.Marshal(envelope{Data: data, Success: true})
}

// chunk serves one spooled chunk. Drivers fetch chunks without a session
// token, so the URL's key is the credential; it is compared in constant time.
func (s *Server) chunk(w http.ResponseWriter, r *http.Request) {
	q := s.queries.get(r.PathValue("id"))
	n, err := strconv.Atoi(r.PathValue("n"))
	if q == nil || err != nil || !q.finished() || q.res == nil || q.res.spool == nil {
		http.Error(w, "no such result chunk", http.StatusNotFound)
		return
	}
	sp := q.res.spool
	if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("k")), []byte(sp.key)) != 1 {
		s.log.Warn("chunk request with a wrong key", "query", q.id, "addr", remoteIP(r))
		http.Error(w, "no such result chunk", http.StatusNotFound)
		return
	}
	sec, size := sp.section(n)
	if sec == nil {
		http.Error(w, "no such result chunk", http.StatusNotFound)
		return
	}
	if q.res.arrow {
		w.Header().Set("Content-Type", "application/octet-stream")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	if _, err := io.Copy(w, sec); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		s.log.Info("chunk download interrupted", "query", q.id, "chunk", n, "err", err)
	}
}

// baseURL is how the client reached us, for absolute chunk URLs.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if strings.ContainsAny(host, "/ \\") {
		host = "localhost"
	}
	return scheme + "://" + host
}

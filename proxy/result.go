package proxy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/snowgate/snowgate/proxy/rowset"
)

// result is a finished statement's answer: its columns and its rows as
// encoded (proxy/rowset: the first inline, the rest spooled to disk and
// served as chunks).
type result struct {
	rowset.Set
	statementType int
	columns       []Column
	valueBytes    int64  // the values' text, as quotas count bytes returned
	resultIDs     string // multi-statement parent only
	resultTypes   string
	state         SessionState
	numBinds      int
}

func (r *result) close() { r.Set.Close() }

// setText makes r's rows one row of one text cell, inline: a status line.
func (r *result) setText(text string) {
	r.Inline = append(rowset.AppendJSONString([]byte{'['}, text), ']')
	r.InlineRows, r.Total = 1, 1
}

// rowWriter writes res's rows: spooled chunks beyond inlineLimit.
func rowWriter(res *result, inlineLimit, chunkLimit int, spoolDir string) (*rowset.Writer, error) {
	return rowset.NewWriter(&res.Set, rowFields(res.columns), inlineLimit, chunkLimit, spoolDir)
}

func rowFields(cols []Column) []rowset.Field {
	fields := make([]rowset.Field, len(cols))
	for i, c := range cols {
		fields[i] = rowset.Field{Name: c.Name, Type: c.Type, Precision: c.Precision, Scale: c.Scale, Length: c.Length, Nullable: c.Nullable}
	}
	return fields
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

// render encodes the response body for a finished query. base is the
// scheme and host the client reached us on: chunk URLs are absolute.
func (r *result) render(queryID, base string) ([]byte, error) {
	data := map[string]any{
		"parameters":      sessionParameters,
		"rowtype":         rowTypes(r.columns),
		"total":           r.Total,
		"returned":        r.InlineRows,
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
	if r.Arrow {
		data["queryResultFormat"] = "arrow"
		data["rowsetBase64"] = base64.StdEncoding.EncodeToString(r.Inline)
	} else {
		rows := make([]byte, 0, len(r.Inline)+2)
		rows = append(rows, '[')
		rows = append(rows, r.Inline...)
		rows = append(rows, ']')
		data["queryResultFormat"] = "json"
		data["rowset"] = json.RawMessage(rows)
	}
	if r.resultIDs != "" {
		data["resultIds"] = r.resultIDs
		data["resultTypes"] = r.resultTypes
	}
	if r.Chunks != nil {
		data["chunks"] = r.Chunks.Refs(base + "/chunks/" + queryID)
	}
	return json.Marshal(envelope{Data: data, Success: true})
}

// chunk serves one spooled chunk (rowset.Chunks.Serve).
func (s *Server) chunk(w http.ResponseWriter, r *http.Request) {
	q := s.queries.get(r.PathValue("id"))
	n, err := strconv.Atoi(r.PathValue("n"))
	if q == nil || err != nil || !q.finished() || q.res == nil || q.res.Chunks == nil {
		http.Error(w, rowset.ErrNoChunk.Error(), http.StatusNotFound)
		return
	}
	err = q.res.Chunks.Serve(w, n, r.URL.Query().Get("k"), q.res.Arrow)
	switch {
	case err == nil, errors.Is(err, io.ErrClosedPipe):
	case errors.Is(err, rowset.ErrChunkKey):
		s.log.Warn("chunk request with a wrong key", "query", q.id, "addr", remoteIP(r))
	case errors.Is(err, rowset.ErrNoChunk):
	default:
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

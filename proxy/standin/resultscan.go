package standin

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/snowgate/snowgate/proxy/statement"
)

// Stored results: Snowflake keeps every query's result for a day and
// RESULT_SCAN('<query id>') reads it back. The stand-in gives each query
// it answers an id of Snowflake's shape and remembers the query (not its
// rows) of the last few; TABLE(RESULT_SCAN('<id>')) runs that query again.
// So a stored result here shows the data as it is now, not as it was: a
// convenience, like the rest of the stand-in. Queries with bind values are
// not kept.

// keptResults is how many of a session's queries RESULT_SCAN can name.
const keptResults = 64

type keptResult struct {
	id  string
	sql string // as DuckDB ran it: rewritten and checked
}

// newQueryID makes an id of the shape Snowflake's have
// (01b2c3d4-0000-1234-0000-0000abcd1234).
func newQueryID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// keep remembers a query the session answered, under its new id.
func (c *conn) keep(sqlText string) string {
	id := newQueryID()
	c.results = append(c.results, keptResult{id: id, sql: sqlText})
	if len(c.results) > keptResults {
		c.results = c.results[len(c.results)-keptResults:]
	}
	return id
}

// storedQuery returns the query kept under id.
func (c *conn) storedQuery(id string) (string, bool) {
	for i := len(c.results) - 1; i >= 0; i-- {
		if c.results[i].id == id {
			return c.results[i].sql, true
		}
	}
	return "", false
}

// resultScanAt reports whether toks[i:] is TABLE(RESULT_SCAN('<id>')) and
// returns the id and the index of its last token.
func resultScanAt(toks []statement.Token, i int) (string, int, bool) {
	if i < 0 || i+6 >= len(toks) {
		return "", 0, false
	}
	t := toks[i : i+7]
	if t[0].Kind != statement.TokIdent || t[0].Value != "TABLE" || t[1].Value != "(" ||
		t[2].Kind != statement.TokIdent || t[2].Value != "RESULT_SCAN" || t[3].Value != "(" ||
		(t[4].Kind != statement.TokString && t[4].Kind != statement.TokDollarString) || t[5].Value != ")" || t[6].Value != ")" {
		return "", 0, false
	}
	for _, k := range []int{1, 3, 5, 6} {
		if t[k].Kind != statement.TokOp {
			return "", 0, false
		}
	}
	return strings.TrimSpace(t[4].Value), i + 6, true
}

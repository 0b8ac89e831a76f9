package proxy

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/proxy/statement"
)

// The fuzz targets of the request decoder. Their seeds run with go test;
// to fuzz: go test ./proxy -run '^$' -fuzz '^FuzzDecodeBody$' -fuzztime 30s
// (and FuzzBinds).

// Request bodies as the drivers send them.
var requestSeeds = []string{
	`{"data":{"CLIENT_APP_ID":"Go","CLIENT_APP_VERSION":"1.17.0","ACCOUNT_NAME":"snowgate","LOGIN_NAME":"","AUTHENTICATOR":"OAUTH","TOKEN":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","SESSION_PARAMETERS":{"CLIENT_VALIDATE_DEFAULT_PARAMETERS":true,"QUERY_TAG":"{\"name\":\"mcp_server\"}"}}}`,
	`{"data":{"CLIENT_APP_ID":"PythonConnector","CLIENT_APP_VERSION":"3.12.0","ACCOUNT_NAME":"snowgate","LOGIN_NAME":"analyst","PASSWORD":"x","SESSION_PARAMETERS":{}}}`,
	`{"sqlText":"SELECT 1","asyncExec":false,"sequenceId":1,"querySubmissionTime":1700000000000,"parameters":{"MULTI_STATEMENT_COUNT":"1"}}`,
	`{"sqlText":"SELECT * FROM IDENTIFIER(?) WHERE id = ?","sequenceId":2,"bindings":{"1":{"type":"TEXT","value":"DEMO.PUBLIC.ORDERS"},"2":{"type":"FIXED","value":"7"}}}`,
	`{"sqlText":"INSERT INTO t VALUES (?, ?)","bindings":{"1":{"type":"FIXED","value":["1","2",null]},"2":{"type":"TEXT","value":["a",null,"c"]}}}`,
	`{"sqlText":"SELECT 1","describeOnly":true,"bindStage":"@~/binds"}`,
	`{"sqlText":"SELECT ?","bindings":{"1":{"type":"TEXT","value":{}}}}`,
	`{"sqlText": 1}`,
	`{"data": []}`,
	"  \n",
	"",
	`{"sqlText":"SELECT 1"} trailing`,
}

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gunzipAtMost decompresses b independently of readBody, stopping after max
// bytes; ok is false when b is not valid gzip within those bytes.
func gunzipAtMost(b []byte, max int64) (out []byte, ok bool) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, false
	}
	out, err = io.ReadAll(io.LimitReader(zr, max))
	if err != nil {
		return out, false
	}
	return out, true
}

// FuzzDecodeBody checks the request body decoder with a small limit: it
// either fails with a Snowflake error of a numeric code, or returns exactly
// the JSON the (decompressed) body holds, never a body beyond the limit. A
// body that is larger than the limit, before or after decompression, is
// refused as too large; a decoded login or query request round-trips.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s), uint16(4096))
		f.Add(gzipped(f, []byte(s)), uint16(4096))
	}
	f.Add(gzipped(f, []byte(requestSeeds[2])), uint16(16)) // within the limit compressed, beyond it decompressed
	f.Add(gzipped(f, bytes.Repeat([]byte{' '}, 1<<20)), uint16(1024))
	f.Add(append(gzipped(f, []byte(requestSeeds[2])), gzipped(f, []byte(" "))...), uint16(4096)) // two gzip members
	f.Add(append(gzipped(f, []byte(requestSeeds[2])), 'x'), uint16(4096))                        // trailing garbage
	f.Add([]byte{0x1f, 0x8b}, uint16(4096))
	f.Fuzz(func(t *testing.T, body []byte, lim uint16) {
		limit := int64(lim%8192) + 1
		var plain []byte // what the body holds, if within the limit
		tooLarge, valid := false, true
		switch {
		case int64(len(body)) > limit:
			tooLarge = true
		case !bytes.HasPrefix(body, gzipMagic):
			plain = body
		default:
			out, ok := gunzipAtMost(body, limit+1)
			switch {
			case int64(len(out)) > limit:
				tooLarge = true
			case !ok:
				valid = false
			default:
				plain = out
			}
		}
		for _, shape := range []func() any{func() any { return new(queryRequest) }, func() any { return new(loginRequest) }} {
			got := shape()
			r := httptest.NewRequest("POST", "/queries/v1/query-request", bytes.NewReader(body))
			err := decodeBody(r, limit, got)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not a Snowflake error", err)
				}
				if _, perr := strconv.Atoi(e.Code); perr != nil || len(e.Code) != 6 || len(e.SQLState) != 5 {
					t.Fatalf("error code %q sqlstate %q", e.Code, e.SQLState)
				}
				if tooLarge != (e.Code == CodeStatementTooLarge) {
					t.Fatalf("too large = %v, but error %s: %s", tooLarge, e.Code, e.Message)
				}
				if !tooLarge && valid {
					want := shape()
					if json.Unmarshal(plain, want) == nil {
						t.Fatalf("refused a body that decodes: %s", e.Message)
					}
				}
				continue
			}
			if tooLarge || !valid {
				t.Fatalf("accepted a body (too large %v, valid gzip %v)", tooLarge, valid)
			}
			want := shape()
			if len(bytes.TrimSpace(plain)) > 0 {
				if err := json.Unmarshal(plain, want); err != nil {
					t.Fatalf("accepted a body that does not decode: %v", err)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %+v, want %+v", got, want)
			}
			// The shapes round-trip: what the gateway read is what it would send.
			again := shape()
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if err := json.Unmarshal(b, again); err != nil {
				t.Fatalf("re-decode %s: %v", b, err)
			}
			b2, _ := json.Marshal(again)
			if !bytes.Equal(b, b2) {
				t.Fatalf("round trip changed %s into %s", b, b2)
			}
		}
	})
}

// TestDecodeBody_GzipBomb: a small gzip body that decompresses far beyond
// the limit is refused after reading no more than the limit.
func TestDecodeBody_GzipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 64 { // 64 MiB of zeros in about 64 KiB
		zw.Write(zeros)
	}
	zw.Close()
	bomb := buf.Bytes()
	const limit = 1 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var req queryRequest
	err := decodeBody(httptest.NewRequest("POST", "/queries/v1/query-request", bytes.NewReader(bomb)), limit, &req)
	runtime.ReadMemStats(&after)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeStatementTooLarge {
		t.Fatalf("gzip bomb: %v, want %s", err, CodeStatementTooLarge)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*limit {
		t.Errorf("gzip bomb: allocated %d bytes for a limit of %d", alloc, limit)
	}
}

// phToken is a bind placeholder of a lexed statement.
type phToken struct {
	at, next int // the token index of '?' or ':', and of the token after the placeholder
	num      int
	numbered bool
	ident    bool // the whole argument of IDENTIFIER( )
}

// placeholders finds the bind placeholders of toks: ?, and : followed by a
// number. ok is false for a : number that is not a bind number.
func placeholders(toks []statement.Token) (phs []phToken, ok bool) {
	positional := 0
	for i := 0; i < len(toks); i++ {
		var p phToken
		switch {
		case toks[i].Kind == statement.TokOp && toks[i].Value == "?":
			positional++
			p = phToken{at: i, next: i + 1, num: positional}
		case toks[i].Kind == statement.TokOp && toks[i].Value == ":" && i+1 < len(toks) && toks[i+1].Kind == statement.TokNumber:
			n, err := strconv.Atoi(toks[i+1].Value)
			if err != nil || n < 1 {
				return nil, false
			}
			p = phToken{at: i, next: i + 2, num: n, numbered: true}
		default:
			continue
		}
		p.ident = i >= 2 && toks[i-1].Kind == statement.TokOp && toks[i-1].Value == "(" &&
			toks[i-2].Kind == statement.TokIdent && toks[i-2].Value == "IDENTIFIER" &&
			p.next < len(toks) && toks[p.next].Kind == statement.TokOp && toks[p.next].Value == ")"
		phs = append(phs, p)
		i = p.next - 1
	}
	return phs, true
}

func sameBindValue(a, b Bind) bool {
	return a.Type == b.Type && a.Array == b.Array && reflect.DeepEqual(a.Value, b.Value) && reflect.DeepEqual(a.Values, b.Values)
}

// FuzzBinds decodes a request's bindings and resolves the binds that name
// objects. decodeBinds returns an error or every binding, typed as it came,
// in order. bindIdentifiers either leaves statement and binds exactly as
// they came, or returns a statement that lexes to the same tokens with each
// IDENTIFIER(placeholder) replaced by one string whose value is the bind's
// text (quoting cannot be broken out of), no placeholder left inside
// IDENTIFIER( ), and exactly the binds the remaining placeholders use,
// named 1..n.
func FuzzBinds(f *testing.F) {
	seeds := []struct{ sql, binds string }{
		{"SHOW TABLES IN SCHEMA IDENTIFIER(?)", `{"1":{"type":"TEXT","value":"DEMO.PUBLIC"}}`},
		{"SELECT * FROM IDENTIFIER(?) WHERE id = ? AND name = ?", `{"1":{"type":"TEXT","value":"orders"},"2":{"type":"FIXED","value":"7"},"3":{"type":"TEXT","value":"x"}}`},
		{"DELETE FROM IDENTIFIER ( ? ) WHERE id = ?", `{"1":{"type":"text","value":"\"My Table\""},"2":{"type":"FIXED","value":"7"}}`},
		{"SELECT :2 FROM identifier(:1) WHERE a = :3 OR b = :2", `{"1":{"type":"TEXT","value":"t"},"2":{"type":"FIXED","value":"5"},"3":{"type":"FIXED","value":"6"}}`},
		{"SELECT :1 FROM IDENTIFIER(:1)", `{"1":{"type":"TEXT","value":"t"}}`},
		{"SELECT * FROM IDENTIFIER(?)", `{"1":{"type":"TEXT","value":"t'; DROP TABLE x; --\\"}}`},
		{"SELECT * FROM IDENTIFIER(?)", `{"1":{"type":"TEXT","value":"\\u0027) || x --\\x27\\'"}}`},
		{"SELECT * FROM IDENTIFIER(?)", `{"1":{"type":"TEXT","value":null}}`},
		{"SELECT * FROM IDENTIFIER(?)", `{"1":{"type":"TEXT","value":["a","b"]}}`},
		{"SELECT * FROM IDENTIFIER(?) WHERE a = :1", `{"1":{"type":"TEXT","value":"t"}}`},
		{"SELECT * FROM IDENTIFIER(:2)", `{"1":{"type":"TEXT","value":"t"}}`},
		{"SELECT * FROM IDENTIFIER(? || 'x')", `{"1":{"type":"TEXT","value":"t"}}`},
		{"INSERT INTO IDENTIFIER(:1) SELECT :02 , :10", `{"1":{"type":"TEXT","value":"t"},"2":{"type":"FIXED","value":"1"},"10":{"type":"REAL","value":"1.5"}}`},
		{"SELECT ?", `{"1":{"type":"TEXT","value":{}}}`},
		{"SELECT ?", `{"1":{"type":"TEXT","value":[1]}}`},
		{"CALL IDENTIFIER(?)(?); SELECT ? /* ? */ -- ?\n", `{"1":{"type":"TEXT","value":"p"},"2":{"type":"ANY","value":""},"3":{"type":"TEXT","value":"?"}}`},
	}
	for _, s := range seeds {
		f.Add(s.sql, []byte(s.binds))
	}
	f.Fuzz(func(t *testing.T, sql string, bindings []byte) {
		var m map[string]bindingJSON
		if json.Unmarshal(bindings, &m) != nil {
			return
		}
		binds, err := decodeBinds(m)
		if err != nil {
			var e *Error
			if binds != nil || !errors.As(err, &e) || e.Code != CodeBadRequest {
				t.Fatalf("decodeBinds: %v with %d binds", err, len(binds))
			}
			return
		}
		if len(binds) != len(m) {
			t.Fatalf("decodeBinds: %d binds from %d bindings", len(binds), len(m))
		}
		for i, b := range binds {
			in, ok := m[b.Name]
			if !ok || b.Type != strings.ToUpper(in.Type) {
				t.Fatalf("bind %+v is not the binding %+v", b, in)
			}
			raw := strings.TrimSpace(string(in.Value))
			switch {
			case raw == "" || raw == "null":
				if b.Value != nil || b.Array {
					t.Fatalf("null binding %s decoded as %+v", b.Name, b)
				}
			case b.Array:
				var want []*string
				if json.Unmarshal(in.Value, &want) != nil || !reflect.DeepEqual(b.Values, want) {
					t.Fatalf("array binding %s decoded as %+v", b.Name, b)
				}
			default:
				var want string
				if b.Value == nil || json.Unmarshal(in.Value, &want) != nil || *b.Value != want {
					t.Fatalf("binding %s decoded as %+v", b.Name, b)
				}
			}
			if i > 0 {
				a, errA := strconv.Atoi(binds[i-1].Name)
				c, errC := strconv.Atoi(b.Name)
				if errA == nil && errC == nil && a > c {
					t.Fatalf("binds out of order: %s before %s", binds[i-1].Name, b.Name)
				}
			}
		}
		orig := append([]Bind(nil), binds...)

		out, outBinds := bindIdentifiers(sql, binds)
		if !reflect.DeepEqual(binds, orig) {
			t.Fatalf("bindIdentifiers changed its argument")
		}
		if out == sql {
			if !reflect.DeepEqual(outBinds, orig) {
				t.Fatalf("statement unchanged but binds %+v became %+v", orig, outBinds)
			}
			return
		}
		inToks, err := statement.Lex(sql)
		if err != nil {
			t.Fatalf("rewrote a statement that does not lex: %q", sql)
		}
		outToks, err := statement.Lex(out)
		if err != nil {
			t.Fatalf("rewritten statement does not lex: %v\n%q", err, out)
		}
		inPh, ok := placeholders(inToks)
		if !ok {
			t.Fatalf("rewrote %q, which has a : number that is not a bind", sql)
		}
		outPh, ok := placeholders(outToks)
		if !ok {
			t.Fatalf("rewritten %q has a : number that is not a bind", out)
		}
		byName := map[string]Bind{}
		for _, b := range orig {
			byName[b.Name] = b
		}
		// Walk both token streams: equal but for the placeholders.
		renumber := map[int]int{}
		used := map[int]bool{}
		i, j, pi, pj := 0, 0, 0, 0
		for i < len(inToks) {
			if pi < len(inPh) && inPh[pi].at == i {
				p := inPh[pi]
				pi++
				b, ok := byName[strconv.Itoa(p.num)]
				if !ok {
					t.Fatalf("rewrote %q with no bind %d", sql, p.num)
				}
				if p.ident {
					if j >= len(outToks) || outToks[j].Kind != statement.TokString {
						t.Fatalf("IDENTIFIER(%s) not replaced by a string in %q", inToks[i].Text(sql), out)
					}
					if b.Value == nil || b.Array || b.Type != "TEXT" || outToks[j].Value != *b.Value {
						t.Fatalf("IDENTIFIER bind %+v became the string %q in %q", b, outToks[j].Value, out)
					}
					i, j = p.next, j+1
					continue
				}
				if pj >= len(outPh) || outPh[pj].at != j || outPh[pj].numbered != p.numbered || outPh[pj].ident {
					t.Fatalf("placeholder %d of %q has no counterpart in %q", pi, sql, out)
				}
				q := outPh[pj]
				pj++
				if n, seen := renumber[p.num]; seen && n != q.num {
					t.Fatalf("bind %d renumbered as both %d and %d", p.num, n, q.num)
				}
				renumber[p.num] = q.num
				used[q.num] = true
				if q.num < 1 || q.num > len(outBinds) || outBinds[q.num-1].Name != strconv.Itoa(q.num) || !sameBindValue(outBinds[q.num-1], b) {
					t.Fatalf("placeholder for bind %d became %d, binds %+v", p.num, q.num, outBinds)
				}
				i, j = p.next, q.next
				continue
			}
			if j >= len(outToks) || inToks[i].Kind != outToks[j].Kind || inToks[i].Value != outToks[j].Value {
				t.Fatalf("token %d (%q) of %q changed in %q", i, inToks[i].Text(sql), sql, out)
			}
			i, j = i+1, j+1
		}
		if j != len(outToks) || pj != len(outPh) {
			t.Fatalf("%q has tokens %q does not", out, sql)
		}
		if len(used) != len(outBinds) {
			t.Fatalf("binds %+v, but the placeholders of %q use %d", outBinds, out, len(used))
		}
		for k, b := range outBinds {
			if b.Name != strconv.Itoa(k+1) {
				t.Fatalf("binds not named 1..n: %+v", outBinds)
			}
		}
		for n := range renumber { // order kept
			for m := range renumber {
				if n < m && renumber[n] > renumber[m] {
					t.Fatalf("binds %d and %d swapped", n, m)
				}
			}
		}
	})
}

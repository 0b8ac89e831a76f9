package snowflake

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// narrowTimeAccount answers the Snowflake protocol as an account whose
// results have a TIME(0) column, which Snowflake sends as 32-bit integers
// in Arrow: neither the stand-in nor fakesnow sends that form, and no real
// account can be reached here, so this hand-written server stands in for
// one. It records the statements it was sent.
type narrowTimeAccount struct {
	mu      sync.Mutex
	json    bool // the session's results are JSON
	queries []string
	inline  bool // the Arrow rows come inline (else the result is empty)

	loginFormat string // GO_QUERY_RESULT_FORMAT as the login set it
}

func (a *narrowTimeAccount) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, _ = io.ReadAll(zr)
		}
	}
	reply := func(data map[string]any) {
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "success": true, "code": nil, "message": nil})
	}
	switch r.URL.Path {
	case "/session/v1/login-request":
		var login struct {
			Data struct {
				SessionParameters map[string]any `json:"SESSION_PARAMETERS"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &login)
		a.mu.Lock()
		a.loginFormat, _ = login.Data.SessionParameters["GO_QUERY_RESULT_FORMAT"].(string)
		a.mu.Unlock()
		reply(map[string]any{"token": "t", "masterToken": "m", "validityInSeconds": 3600, "masterValidityInSeconds": 14400,
			"sessionId": 1, "parameters": []any{}, "sessionInfo": map[string]any{}})
	case "/queries/v1/query-request":
		var req struct {
			SQLText string `json:"sqlText"`
		}
		_ = json.Unmarshal(body, &req)
		a.mu.Lock()
		a.queries = append(a.queries, req.SQLText)
		switch req.SQLText {
		case "ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON'":
			a.json = true
		case "ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'ARROW'":
			a.json = false
		}
		asJSON, inline := a.json, a.inline
		a.mu.Unlock()
		if strings.HasPrefix(req.SQLText, "ALTER") {
			reply(map[string]any{"rowtype": []any{map[string]any{"name": "status", "type": "text", "nullable": true}},
				"rowset": [][]any{{"Statement executed successfully."}}, "total": 1, "returned": 1, "queryId": "q-alter",
				"statementTypeId": 0x4000, "queryResultFormat": "json"})
			return
		}
		data := map[string]any{
			"rowtype": []any{map[string]any{"name": "T", "type": "time", "scale": 0, "precision": 0, "nullable": true}},
			"total":   2, "returned": 2, "queryId": "q-" + strconv.Itoa(len(a.queries)), "statementTypeId": 0x1000,
		}
		if asJSON {
			data["queryResultFormat"], data["rowset"] = "json", [][]any{{"45296"}, {nil}}
		} else {
			data["queryResultFormat"], data["rowsetBase64"] = "arrow", ""
			if inline {
				data["rowsetBase64"] = narrowTimeChunk()
			} else {
				data["total"], data["returned"] = 0, 0
			}
		}
		reply(data)
	default: // session delete, telemetry, heartbeat
		reply(map[string]any{})
	}
}

// narrowTimeChunk is a TIME(0) column as Snowflake sends it in Arrow:
// int32 seconds, 12:34:56 and NULL.
func narrowTimeChunk() string {
	md := arrow.NewMetadata([]string{"logicalType", "scale", "precision"}, []string{"TIME", "0", "0"})
	schema := arrow.NewSchema([]arrow.Field{{Name: "T", Type: arrow.PrimitiveTypes.Int32, Nullable: true, Metadata: md}}, nil)
	b := array.NewInt32Builder(memory.DefaultAllocator)
	b.Append(45296)
	b.AppendNull()
	rec := array.NewRecordBatch(schema, []arrow.Array{b.NewArray()}, 2)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	_ = w.Write(rec)
	_ = w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// TestNarrowTime: a result with a TIME of scale 0 to 4, which gosnowflake's
// Arrow batches cannot read, is asked for again in JSON when the statement
// only reads, and the session's results are Arrow again after it; a CALL
// is not run twice.
func TestNarrowTime(t *testing.T) {
	for _, inline := range []bool{true, false} {
		acct := &narrowTimeAccount{inline: inline}
		srv := httptest.NewServer(acct)
		defer srv.Close()
		host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
		p, _ := strconv.Atoi(port)
		u := &Upstream{Account: "narrow", Host: host, Port: p, Protocol: "http", LoginTimeout: 10 * time.Second}
		c, err := u.Open(context.Background(), proxy.OpenParams{User: "u", Password: "p"})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.Run(context.Background(), proxy.Exec{SQL: "SELECT t FROM times", Kind: statement.KindSelect, Batches: true})
		if err != nil {
			t.Fatalf("inline %v: %v", inline, err)
		}
		if _, ok := out.Rows.(proxy.BatchRows); ok {
			t.Errorf("inline %v: a TIME(0) result read in batches", inline)
		}
		var got []string
		dst := make([]any, 1)
		for out.Rows.Next(dst) == nil {
			if tm, ok := dst[0].(time.Time); ok {
				got = append(got, tm.Format("2006-01-02 15:04:05"))
			} else {
				got = append(got, "NULL")
			}
		}
		out.Rows.Close()
		if strings.Join(got, ",") != "0001-01-01 12:34:56,NULL" || out.Rows.Columns()[0].Scale != 0 {
			t.Errorf("inline %v: rows %v, scale %d", inline, got, out.Rows.Columns()[0].Scale)
		}
		want := "SELECT t FROM times|ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON'|SELECT t FROM times|ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'ARROW'"
		if q := strings.Join(acct.queries, "|"); q != want {
			t.Errorf("inline %v: statements sent\n %s\nwant\n %s", inline, q, want)
		}
		if acct.json || acct.loginFormat != "ARROW" {
			t.Errorf("inline %v: the session's results stayed JSON (set to %q at login)", inline, acct.loginFormat)
		}
		if out.QueryID != "q-1" {
			t.Errorf("inline %v: query id %q, want the first run's", inline, out.QueryID)
		}
		// a CALL that returns such a result is not run again
		acct.queries = nil
		_, err = c.Run(context.Background(), proxy.Exec{SQL: "CALL times()", Kind: statement.KindCall, Batches: true})
		if err == nil || !strings.Contains(err.Error(), "TIME column of scale 0 to 4") || len(acct.queries) != 1 {
			t.Errorf("inline %v: CALL: %v after %q", inline, err, acct.queries)
		}
		c.Close()
	}
}

// TestFixedOf: a scaled NUMBER gosnowflake parsed from JSON is read back
// exactly, or refused where its 127 bits may not hold it.
func TestFixedOf(t *testing.T) {
	for _, c := range []struct {
		text  string
		scale int
		ok    bool
	}{
		{"0.1", 1, true}, {"-12345678901234567890.123456789", 9, true}, {"0.00000000000000000000000000000000000001", 38, true},
		{"4253529586511730793292182592897102643.1", 1, true},  // 2^125 - 1 unscaled: the largest read
		{"9999999999999999999999999999999999999.9", 1, false}, // 38 digits near the top: may be one off
		{"-9999999999999999999999999999.999999999", 9, true}, {"-99999999999999999999999999999.999999999", 9, false},
	} {
		f, _, err := big.ParseFloat(c.text, 10, 127, big.AwayFromZero)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fixedOf(f, c.scale)
		if (err == nil) != c.ok || err == nil && got.String() != c.text {
			t.Errorf("%s: %v, %v", c.text, got, err)
		}
	}
}

// TestStandard: Snowflake's raw Arrow forms of times and timestamps, at
// the scales the stand-in and fakesnow never send, read as the values they
// hold: TIME(3) as int64 (gosnowflake's time64 cast keeps the raw
// integer), TIMESTAMP_NTZ(2) as a scaled int64, TIMESTAMP_TZ(3) as a
// scaled epoch and a zone. Pre-1970 values round down to the second.
func TestStandard(t *testing.T) {
	md := func(typ, scale string) arrow.Metadata {
		return arrow.NewMetadata([]string{"logicalType", "scale"}, []string{typ, scale})
	}
	mem := memory.DefaultAllocator
	tm := array.NewTime64Builder(mem, &arrow.Time64Type{Unit: arrow.Nanosecond})
	tm.AppendValues([]arrow.Time64{45296789, 45296789}, nil) // 12:34:56.789
	ntz := array.NewInt64Builder(mem)
	ntz.AppendValues([]int64{170921245512, -150}, nil) // 2024-02-29 13:14:15.12, 1969-12-31 23:59:58.50
	tzb := array.NewStructBuilder(mem, arrow.StructOf(
		arrow.Field{Name: "epoch", Type: arrow.PrimitiveTypes.Int64}, arrow.Field{Name: "timezone", Type: arrow.PrimitiveTypes.Int32}))
	for _, v := range []struct {
		epoch int64
		tz    int32
	}{{1709212455123, 1440 + 120}, {-1500, 1440 - 300}} {
		tzb.Append(true)
		tzb.FieldBuilder(0).(*array.Int64Builder).Append(v.epoch)
		tzb.FieldBuilder(1).(*array.Int32Builder).Append(v.tz)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "TM", Type: arrow.FixedWidthTypes.Time64ns, Metadata: md("TIME", "3")},
		{Name: "NTZ", Type: arrow.PrimitiveTypes.Int64, Metadata: md("TIMESTAMP_NTZ", "2")},
		{Name: "TZ", Type: tzb.Type(), Metadata: md("TIMESTAMP_TZ", "3")},
	}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{tm.NewArray(), ntz.NewArray(), tzb.NewArray()}, 2)
	cols := []proxy.Column{{Name: "TM", Type: "time", Scale: 9}, {Name: "NTZ", Type: "timestamp_ntz", Scale: 9}, {Name: "TZ", Type: "timestamp_tz", Scale: 9}}
	std, err := standard(rec, cols)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, c := range cols {
		v, err := rowValues(c, std.Column(i))
		if err != nil {
			t.Fatal(err)
		}
		for r := range 2 {
			got = append(got, v(r).(time.Time).Format("2006-01-02 15:04:05.000 -07:00"))
		}
	}
	want := "0001-01-01 12:34:56.789 +00:00|0001-01-01 12:34:56.789 +00:00|" +
		"2024-02-29 13:14:15.120 +00:00|1969-12-31 23:59:58.500 +00:00|" +
		"2024-02-29 15:14:15.123 +02:00|1969-12-31 18:59:58.500 -05:00"
	if g := strings.Join(got, "|"); g != want {
		t.Errorf("values\n got %s\nwant %s", g, want)
	}
}

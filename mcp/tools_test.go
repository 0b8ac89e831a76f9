package mcp

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestIdentifier(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parts int
		ok    bool
	}{
		{"DEMO", 1, true},
		{"demo_2$", 1, true},
		{`"My Db"`, 1, true},
		{`"a""b"`, 1, true},
		{"DEMO.PUBLIC", 1, false},
		{"DEMO.PUBLIC.CUSTOMERS", 3, true},
		{`DEMO."Public".customers`, 3, true},
		{"A.B.C.D", 3, false},
		{"customers; DROP TABLE orders", 3, false},
		{"customers --", 3, false},
		{`"unclosed`, 1, false},
		{"", 1, false},
	} {
		if _, err := identifier(tc.name, tc.parts); (err == nil) != tc.ok {
			t.Errorf("identifier(%q, %d): %v, want ok %v", tc.name, tc.parts, err, tc.ok)
		}
	}
}

func TestJSONValue(t *testing.T) {
	ts := time.Date(2024, 2, 29, 13, 14, 15, 500_000_000, time.UTC)
	for _, tc := range []struct {
		v    any
		typ  string
		want any
	}{
		{ts, "DATE", "2024-02-29"},
		{ts, "TIME", "13:14:15.5"},
		{ts, "TIMESTAMP_NTZ", "2024-02-29 13:14:15.5"},
		{ts, "TIMESTAMP_TZ", "2024-02-29T13:14:15.5Z"},
		{[]byte{0xde, 0xad}, "BINARY", "DEAD"},
		{"12.50", "FIXED", "12.50"},
		{nil, "TEXT", nil},
		{true, "BOOLEAN", true},
	} {
		if got := jsonValue(tc.v, tc.typ); got != tc.want {
			t.Errorf("jsonValue(%v, %s) = %v, want %v", tc.v, tc.typ, got, tc.want)
		}
	}
}

// roundTripper answers a login with tokens and records what it was sent.
type roundTripper struct{ sent []byte }

func (rt *roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.sent, _ = io.ReadAll(r.Body)
	body := `{"data":{"token":"session-1","masterToken":"master-1"},"success":true}`
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func TestClientTransport_login(t *testing.T) {
	for _, zipped := range []bool{false, true} {
		base := &roundTripper{}
		tr := &clientTransport{base: base, app: ClientApp, version: "1.2.3"}
		body := []byte(`{"data":{"CLIENT_APP_ID":"Go","CLIENT_APP_VERSION":"1.19.1","TOKEN":"oidc","SESSION_PARAMETERS":{"A":1}}}`)
		if zipped {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(body)
			zw.Close()
			body = b.Bytes()
		}
		req, _ := http.NewRequest(http.MethodPost, "http://gw"+loginPath+"?databaseName=DEMO", bytes.NewReader(body))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "session-1") {
			t.Errorf("the driver gets %s", b)
		}
		var sent struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(base.sent, &sent); err != nil {
			t.Fatalf("sent %s: %v", base.sent, err)
		}
		if sent.Data["CLIENT_APP_ID"] != ClientApp || sent.Data["CLIENT_APP_VERSION"] != "1.2.3" || sent.Data["TOKEN"] != "oidc" || sent.Data["SESSION_PARAMETERS"] == nil {
			t.Errorf("zipped %v: sent %s", zipped, base.sent)
		}
		if s, m := tr.tokens(); s != "session-1" || m != "master-1" {
			t.Errorf("tokens %q %q", s, m)
		}
		// Later requests carry the driver's current session token.
		q, _ := http.NewRequest(http.MethodPost, "http://gw/queries/v1/query-request", strings.NewReader("{}"))
		q.Header.Set("Authorization", `Snowflake Token="session-2"`)
		if _, err := tr.RoundTrip(q); err != nil {
			t.Fatal(err)
		}
		if s, _ := tr.tokens(); s != "session-2" {
			t.Errorf("after renewal: %q", s)
		}
	}
}

package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

func TestCanonical(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"keys sorted at every level", map[string]any{"b": 1, "a": map[string]any{"z": true, "y": nil}}, `{"a":{"y":null,"z":true},"b":1}`},
		{"no HTML escaping", map[string]string{"sql": "a < b && c > d"}, `{"sql":"a < b && c > d"}`},
		{"big integers kept exactly", map[string]int64{"rows": 9007199254740993}, `{"rows":9007199254740993}`},
		{"struct fields sorted, empty ones left out", Outcome{Rows: 2, DurationMS: 7, ErrorCode: "002003"}, `{"duration_ms":7,"error_code":"002003","rows":2}`},
		{"raw JSON re-encoded", json.RawMessage(`{ "b" : [1, "x"], "a":2.50 }`), `{"a":2.50,"b":[1,"x"]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonical(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("Canonical(%v) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// TestSeal_MatchesDocumentedEncoding recomputes a record's hash the way
// the package documentation tells an auditor to, from an export line.
func TestSeal_MatchesDocumentedEncoding(t *testing.T) {
	e := normalize(statementEvent("s", 1), time.Now(), false)
	ev, err := Canonical(&e)
	if err != nil {
		t.Fatal(err)
	}
	body, hash := seal(ev, "gw<1>", 7, "abc123")
	line, err := Export(Record{Replica: "gw<1>", Seq: 7, Hash: hash, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{"event": line.Event, "prev": line.Prev, "replica": line.Replica, "seq": line.Seq, "v": 1}
	canon, err := Canonical(doc)
	if err != nil {
		t.Fatal(err)
	}
	if string(canon) != string(body) {
		t.Fatalf("seal wrote\n%s\nthe documented encoding is\n%s", body, canon)
	}
	sum := sha256.Sum256(canon)
	if hex.EncodeToString(sum[:]) != hash {
		t.Errorf("hash %s is not the SHA-256 of the documented encoding", hash)
	}
}

func TestParseID(t *testing.T) {
	cases := []struct {
		id      string
		replica string
		seq     int64
		ok      bool
	}{
		{"gw-1:42", "gw-1", 42, true},
		{"a:b:3", "a:b", 3, true},
		{"gw", "", 0, false},
		{":3", "", 0, false},
		{"gw:0", "", 0, false},
		{"gw:x", "", 0, false},
	}
	for _, tc := range cases {
		r, s, err := ParseID(tc.id)
		if (err == nil) != tc.ok || r != tc.replica || s != tc.seq {
			t.Errorf("ParseID(%q) = %q, %d, %v; want %q, %d, ok=%v", tc.id, r, s, err, tc.replica, tc.seq, tc.ok)
		}
	}
}

func TestRedactLiterals(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT 1", "SELECT ?"},
		{"SELECT * FROM t WHERE ssn = '123-45-6789'", "SELECT * FROM t WHERE ssn = ?"},
		{`SELECT "Col 'x'" FROM t WHERE a = 'it''s' AND b = 1.5e3`, `SELECT "Col 'x'" FROM t WHERE a = ? AND b = ?`},
		{"CALL p($$ secret $$)", "CALL p(?)"},
		{"SELECT a -- token abc\nFROM t /* pw */ WHERE x IN (1, 2)", "SELECT a /**/\nFROM t /**/ WHERE x IN (?, ?)"},
		{"PUT file:///tmp/keys.csv @stage", "PUT ? @stage"},
		{"SELECT $1, $name FROM @s", "SELECT $1, $name FROM @s"},
		{"SELECT 'unterminated", redactedUnlexable},
	}
	for _, tc := range cases {
		if got := RedactLiterals(tc.in); got != tc.want {
			t.Errorf("RedactLiterals(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

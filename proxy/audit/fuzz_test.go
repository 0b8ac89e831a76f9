package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzRecordDecode feeds arbitrary bytes to the record decoder and to the
// verifier's check of one record: neither panics. A body that decodes
// re-encodes as the writer encodes it into a canonical body, a fixed point
// of Canonical that decodes to the same envelope, and a chain of two such
// records verifies without a problem. Run:
// go test ./proxy/audit -run '^$' -fuzz '^FuzzRecordDecode$' -fuzztime 30s
func FuzzRecordDecode(f *testing.F) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	events := []Event{
		{Type: TypeSessionStart, Time: at, SessionID: "s-1", Identity: &Identity{Subject: "analyst", Email: "a@example.com", Issuer: "https://idp", Agent: "sql-agent", Groups: []string{"analysts"}},
			Client: &Client{App: "Go", Version: "1.17.0", Address: "127.0.0.1:5000", QueryTag: `{"name":"mcp_server"}`}, Upstream: "SNOWGATE"},
		statementEvent("SELECT email FROM customers WHERE note = '<&>'", 3),
		{Type: TypeStatement, Time: at, SessionID: "s-1", RequestID: "r-1", Statement: &Statement{SQL: "DELETE FROM orders", Kind: "delete", Objects: []string{"TABLE DEMO.PUBLIC.ORDERS write"}, Count: 1},
			Decision: &Decision{ID: "d-1", Action: "mask", Reasons: []string{"pii"}, Masks: map[string]string{"DEMO.PUBLIC.CUSTOMERS.EMAIL": "hash", "B": "null"}, Rules: []string{"snowgate.mask"}}},
		{Type: TypeOutcome, Time: at, RequestID: "r-1", QueryID: "01b2", Outcome: &Outcome{Rows: 3, Bytes: 1 << 40, DurationMS: 12, ErrorCode: "003001", ErrorMessage: "denied \u2028 \"x\"", Abandoned: true}},
		{Type: TypeApproval, Time: at, Approval: &Approval{ID: "apr-1", State: "approved", By: "approver"}},
		{Type: TypeClassification, Time: at, Classification: &Classification{Op: "inherited", Records: []ClassificationRecord{{ID: "c1", Column: "D.S.T.C", Class: "pii", Strategy: "hash", From: []string{"D.S.U.C"}}}}},
		{Type: TypeLoginRefused, Time: at, Reason: "token expired"},
	}
	prev := ""
	for i, e := range events {
		ev, err := Canonical(&e)
		if err != nil {
			f.Fatal(err)
		}
		body, hash := seal(ev, "gw-1", int64(i+1), prev)
		prev = hash
		f.Add(body)
	}
	f.Add([]byte(`null`))
	f.Add([]byte(`{"event":{"type":"statement","time":"2026-03-01T12:00:00+05:30"},"prev":"\"}","replica":"a\u0000b","seq":-1,"v":2}`))
	f.Add([]byte(`{"EVENT":{"TYPE":"outcome"},"event":{"type":"statement"},"Seq":9223372036854775807,"v":1.0}`))
	f.Add([]byte(`{"event":{"type":"x","time":"0000-01-01T00:00:00Z","decision":{"masks":{"":""}}},"seq":1e3}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := Record{Replica: "gw-1", Seq: 1, Hash: hashOf(body), Body: body}
		check := &chainCheck{replica: "gw-1"}
		_ = check.add(rec)
		check.finish(nil)
		env, err := rec.Decode()
		if err != nil {
			return
		}
		// Re-encode as the writer does: normalize, Canonical, seal.
		e := normalize(env.Event, at, false)
		event, err := Canonical(&e)
		if err != nil {
			t.Fatalf("a decoded event does not re-encode: %v", err)
		}
		if again, err := Canonical(json.RawMessage(event)); err != nil || !bytes.Equal(again, event) {
			t.Fatalf("Canonical is not a fixed point:\n%s\n%s", event, again)
		}
		replica := env.Replica
		first, h1 := seal(event, replica, 1, "")
		second, h2 := seal(event, replica, 2, h1)
		for _, b := range [][]byte{first, second} {
			canon, err := Canonical(json.RawMessage(b))
			if err != nil || !bytes.Equal(canon, b) {
				t.Fatalf("sealed body is not canonical: %v\n%s\n%s", err, b, canon)
			}
		}
		// The sealed body is the canonical encoding of its envelope.
		want, err := Canonical(Envelope{Event: e, Prev: h1, Replica: replica, Seq: 2, V: FormatVersion})
		if err != nil || !bytes.Equal(want, second) {
			t.Fatalf("seal and Canonical disagree: %v\n%s\n%s", err, second, want)
		}
		// It decodes to the same envelope, which re-encodes to the same bytes.
		back, err := Record{Replica: replica, Seq: 2, Body: second}.Decode()
		if err != nil {
			t.Fatalf("sealed body does not decode: %v", err)
		}
		if back.Seq != 2 || back.Prev != h1 || back.Replica != replica || back.V != FormatVersion || !back.Event.Time.Equal(e.Time) {
			t.Fatalf("round trip changed the envelope: %+v", back)
		}
		if ev2, err := Canonical(&back.Event); err != nil || !bytes.Equal(ev2, event) {
			t.Fatalf("event changed in the round trip:\n%s\n%s", event, ev2)
		}
		// And a chain of the two verifies as the writer's would.
		v := &chainCheck{replica: replica}
		for i, r := range []Record{
			{Replica: replica, Seq: 1, Hash: h1, Body: first},
			{Replica: replica, Seq: 2, Prev: h1, Hash: h2, Body: second},
		} {
			r.Time, r.Type, r.SessionID, r.Subject = e.Time, e.Type, e.SessionID, e.subject()
			if hashOf(r.Body) != r.Hash {
				t.Fatalf("record %d: hash does not cover the body", i+1)
			}
			_ = v.add(r)
		}
		rr := v.finish(nil)
		if len(v.problems) != 0 || rr.LastSeq != 2 || rr.LastHash != h2 {
			t.Fatalf("re-encoded chain does not verify: %+v %+v\n%s", v.problems, rr, second)
		}
	})
}

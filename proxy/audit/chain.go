package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FormatVersion is the "v" of every record's canonical encoding.
const FormatVersion = 1

// Record is one entry of a replica's chain as it is stored. Body is the
// canonical encoding the hash covers; Time, Type, SessionID and Subject are
// copies of body fields kept beside it so a store can filter on them, and
// Verify checks that they still agree with the body.
type Record struct {
	Replica   string
	Seq       int64  // 1 for the replica's first record, then +1 each
	Prev      string // Hash of the replica's previous record; "" for seq 1
	Hash      string // lowercase hex SHA-256 of Body
	Body      []byte // canonical encoding, see Canonical
	Time      time.Time
	Type      string
	SessionID string
	Subject   string
}

// ID is the record's identifier, "REPLICA:SEQ": what Log.Record returns and
// what the gateway sets as the upstream QUERY_TAG.
func (r Record) ID() string { return RecordID(r.Replica, r.Seq) }

// RecordID formats a record identifier.
func RecordID(replica string, seq int64) string {
	return replica + ":" + strconv.FormatInt(seq, 10)
}

// ParseID splits "REPLICA:SEQ".
func ParseID(id string) (replica string, seq int64, err error) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 {
		return "", 0, fmt.Errorf("audit record id %q: want REPLICA:SEQ", id)
	}
	seq, err = strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil || seq < 1 {
		return "", 0, fmt.Errorf("audit record id %q: want REPLICA:SEQ", id)
	}
	return id[:i], seq, nil
}

// Envelope is the decoded body of a record: the document the hash covers.
type Envelope struct {
	Event   Event  `json:"event"`
	Prev    string `json:"prev"`
	Replica string `json:"replica"`
	Seq     int64  `json:"seq"`
	V       int    `json:"v"`
}

// Decode parses the record's body.
func (r Record) Decode() (Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(r.Body, &env); err != nil {
		return env, fmt.Errorf("record %s: decode body: %w", r.ID(), err)
	}
	// A time the writer could not have encoded (an offset taking it out of
	// years 0 to 9999 in UTC) would fail whoever re-encodes the event.
	if y := env.Event.Time.UTC().Year(); y < 0 || y > 9999 {
		return Envelope{}, fmt.Errorf("record %s: decode body: time %q is outside years 0 to 9999 in UTC", r.ID(), env.Event.Time.String())
	}
	return env, nil
}

// Canonical returns the canonical encoding of v: JSON with the keys of
// every object sorted byte-wise, no insignificant whitespace, no HTML
// escaping, numbers written as they were marshalled. A record's body is the
// canonical encoding of
//
//	{"event":EVENT,"prev":PREV,"replica":REPLICA,"seq":SEQ,"v":1}
//
// where EVENT is the canonical encoding of the Event (zero fields left
// out, time in RFC 3339 UTC to the microsecond); its hash is the lowercase
// hex SHA-256 of those bytes. Anyone can recompute it from an export.
func Canonical(v any) ([]byte, error) {
	raw, err := marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("canonical encoding: %w", err)
	}
	return marshal(generic)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("canonical encoding: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// seal builds the body of a record from an event already in canonical
// form, and its hash. The keys are written in sorted order by hand so the
// writer does not re-encode the event.
func seal(event []byte, replica string, seq int64, prev string) (body []byte, hash string) {
	rep, _ := marshal(replica) // a string always marshals
	body = make([]byte, 0, len(event)+len(rep)+len(prev)+64)
	body = append(body, `{"event":`...)
	body = append(body, event...)
	body = append(body, `,"prev":"`...)
	body = append(body, prev...) // hex: needs no escaping
	body = append(body, `","replica":`...)
	body = append(body, rep...)
	body = append(body, `,"seq":`...)
	body = strconv.AppendInt(body, seq, 10)
	body = append(body, `,"v":`...)
	body = strconv.AppendInt(body, FormatVersion, 10)
	body = append(body, '}')
	return body, hashOf(body)
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// normalize prepares an event for the trail: time in UTC to the
// microsecond (what every store keeps), literals redacted when asked.
func normalize(e Event, now time.Time, redact bool) Event {
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if redact && e.Statement != nil {
		st := *e.Statement
		st.SQL = RedactLiterals(st.SQL)
		if st.Rewritten != "" {
			st.Rewritten = RedactLiterals(st.Rewritten)
		}
		e.Statement = &st
	}
	return e
}

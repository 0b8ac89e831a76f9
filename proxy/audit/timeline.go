package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// ExportLine is one line of `snowgate audit export`: a record with its
// position, hashes and event. The event is the exact canonical encoding the
// hash covers, so a line can be checked without the store: the hash is the
// SHA-256 of {"event":EVENT,"prev":PREV,"replica":REPLICA,"seq":SEQ,"v":1}.
type ExportLine struct {
	ID      string          `json:"id"`
	Replica string          `json:"replica"`
	Seq     int64           `json:"seq"`
	Prev    string          `json:"prev"`
	Hash    string          `json:"hash"`
	Event   json.RawMessage `json:"event"`
}

// Export turns a record into its export line.
func Export(r Record) (ExportLine, error) {
	var env struct {
		Event json.RawMessage `json:"event"`
		Prev  string          `json:"prev"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil {
		return ExportLine{}, fmt.Errorf("record %s: decode body: %w", r.ID(), err)
	}
	return ExportLine{ID: r.ID(), Replica: r.Replica, Seq: r.Seq, Prev: env.Prev, Hash: r.Hash, Event: env.Event}, nil
}

// Summary is a one-line account of an event, for listings and timelines.
func Summary(e Event) string {
	var b strings.Builder
	switch e.Type {
	case TypeSessionStart:
		b.WriteString("session started")
		writeIdentity(&b, e.Identity)
		if c := e.Client; c != nil {
			fmt.Fprintf(&b, " from %s %s at %s", c.App, c.Version, c.Address)
		}
		if e.Upstream != "" {
			fmt.Fprintf(&b, " as upstream user %s", e.Upstream)
		}
	case TypeSessionEnd:
		b.WriteString("session ended")
		if e.Reason != "" {
			b.WriteString(": " + e.Reason)
		}
	case TypeLoginRefused:
		b.WriteString("login refused")
		writeIdentity(&b, e.Identity)
		if e.Reason != "" {
			b.WriteString(": " + e.Reason)
		}
	case TypeStatement:
		st := e.Statement
		if st.Count > 1 {
			fmt.Fprintf(&b, "statement %d/%d ", st.Index+1, st.Count)
		}
		fmt.Fprintf(&b, "%s: %s", orDash(st.Kind), oneLine(st.SQL, 120))
		if d := e.Decision; d != nil {
			fmt.Fprintf(&b, " → %s", d.Action)
			if len(d.Reasons) > 0 {
				fmt.Fprintf(&b, " (%s)", strings.Join(d.Reasons, "; "))
			}
			if len(d.Masks) > 0 {
				cols := make([]string, 0, len(d.Masks))
				for c, s := range d.Masks {
					cols = append(cols, c+"="+s)
				}
				sort.Strings(cols)
				fmt.Fprintf(&b, " masks %s", strings.Join(cols, ", "))
			}
			fmt.Fprintf(&b, " [decision %s, policy %s]", d.ID, orDash(d.Revision))
		}
	case TypeApproval:
		a := e.Approval
		fmt.Fprintf(&b, "approval %s %s", a.ID, a.State)
		if a.By != "" {
			b.WriteString(" by " + a.By)
		}
	case TypeClassification:
		c := e.Classification
		cols := make([]string, 0, len(c.Records))
		for _, r := range c.Records {
			x := fmt.Sprintf("%s=%s/%s", r.Column, r.Class, r.Strategy)
			if len(r.From) > 0 {
				x += " from " + strings.Join(r.From, "+")
			}
			cols = append(cols, x)
		}
		fmt.Fprintf(&b, "classification %s: %s", c.Op, strings.Join(cols, ", "))
		if c.Reason != "" {
			fmt.Fprintf(&b, " (%s)", c.Reason)
		}
	case TypeOutcome:
		o := e.Outcome
		if o.ErrorCode != "" || o.ErrorMessage != "" {
			fmt.Fprintf(&b, "failed after %d ms: %s %s", o.DurationMS, o.ErrorCode, oneLine(o.ErrorMessage, 120))
		} else {
			fmt.Fprintf(&b, "ran in %d ms: %d rows, %d bytes", o.DurationMS, o.Rows, o.Bytes)
		}
		if e.QueryID != "" {
			fmt.Fprintf(&b, " [query %s]", e.QueryID)
		}
	default:
		b.WriteString(e.Type)
	}
	return b.String()
}

func writeIdentity(b *strings.Builder, id *Identity) {
	if id == nil {
		return
	}
	fmt.Fprintf(b, " for %s", orDash(id.Subject))
	if id.Email != "" {
		fmt.Fprintf(b, " <%s>", id.Email)
	}
	if id.Agent != "" {
		fmt.Fprintf(b, " via agent %s", id.Agent)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine collapses whitespace and cuts s to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// WriteTimeline writes records (one session's, in order) as a timeline a
// person can read: offset from the first record, id, and what happened.
func WriteTimeline(w io.Writer, recs []Record) error {
	if len(recs) == 0 {
		_, err := fmt.Fprintln(w, "no records")
		return err
	}
	var start time.Time
	for i, r := range recs {
		env, err := r.Decode()
		if err != nil {
			return err
		}
		e := env.Event
		if i == 0 {
			start = e.Time
			fmt.Fprintf(w, "session %s on replica %s, from %s\n", orDash(e.SessionID), r.Replica, start.Format("2006-01-02T15:04:05.000Z07:00"))
		}
		off := e.Time.Sub(start).Round(time.Millisecond)
		if _, err := fmt.Fprintf(w, "  +%-10s %-12s %s\n", off, r.ID(), Summary(e)); err != nil {
			return err
		}
	}
	return nil
}

package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// OPAEvent is one decision in OPA's decision-log format, as OPA's own
// decision-log plugin uploads it, so that tools that read OPA's logs can
// read snowgate's decisions.
type OPAEvent struct {
	Labels      map[string]string         `json:"labels"`
	DecisionID  string                    `json:"decision_id"`
	Path        string                    `json:"path"`
	Input       map[string]any            `json:"input"`
	Result      map[string]any            `json:"result"`
	Bundles     map[string]map[string]any `json:"bundles,omitempty"`
	Timestamp   time.Time                 `json:"timestamp"`
	RequestedBy string                    `json:"requested_by,omitempty"`
}

// ToOPA turns a statement record into an OPA decision-log event; ok is
// false for records that hold no decision. The input carries what the
// trail keeps of the policy input: identity, session and the statement's
// analysis summary.
func ToOPA(r Record, replica string) (OPAEvent, bool, error) {
	env, err := r.Decode()
	if err != nil {
		return OPAEvent{}, false, err
	}
	e := env.Event
	if e.Type != TypeStatement || e.Decision == nil {
		return OPAEvent{}, false, nil
	}
	ev := OPAEvent{
		Labels:     map[string]string{"id": replica, "app": "snowgate", "record": r.ID()},
		DecisionID: e.Decision.ID,
		Path:       "snowgate/decision",
		Input: map[string]any{
			"identity":  e.Identity,
			"session":   map[string]any{"id": e.SessionID},
			"statement": e.Statement,
			"request":   map[string]any{"id": e.RequestID, "time": e.Time},
		},
		Result:    map[string]any{"action": e.Decision.Action, "reasons": e.Decision.Reasons, "masks": e.Decision.Masks},
		Timestamp: e.Time,
	}
	if e.Client != nil {
		ev.RequestedBy = e.Client.Address
	}
	if e.Decision.Revision != "" {
		ev.Bundles = map[string]map[string]any{"snowgate": {"revision": e.Decision.Revision}}
	}
	return ev, true, nil
}

// PostOPA uploads events to an OPA decision-log sink (the URL OPA's
// decision_logs service would post to, e.g. https://logs.example.com/logs):
// a gzip-compressed JSON array, as OPA sends it.
func PostOPA(ctx context.Context, client *http.Client, url string, events []OPAEvent) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(events); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("decision-log sink: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("decision-log sink answered %s", resp.Status)
	}
	return nil
}

package engine

import "slices"

// Action is what the gateway does with a statement.
type Action string

// The actions, from the most to the least restrictive.
const (
	ActionDeny            Action = "deny"
	ActionRequireApproval Action = "require_approval"
	ActionMask            Action = "mask"
	ActionAllow           Action = "allow"
)

// Valid reports whether a is one of the four actions.
func (a Action) Valid() bool {
	switch a {
	case ActionDeny, ActionRequireApproval, ActionMask, ActionAllow:
		return true
	}
	return false
}

// The mask strategies a decision may name.
const (
	MaskRedact      = "redact"
	MaskNull        = "null"
	MaskHash        = "hash"
	MaskPartial     = "partial"
	MaskEmailDomain = "email_domain"
)

// MaskStrategies lists every strategy the gateway can apply.
var MaskStrategies = []string{MaskRedact, MaskNull, MaskHash, MaskPartial, MaskEmailDomain}

// ValidMask reports whether s is a strategy the gateway can apply.
func ValidMask(s string) bool { return slices.Contains(MaskStrategies, s) }

// Decision is the outcome for one statement.
type Decision struct {
	ID       string   `json:"id"`       // random, unique per decision
	Revision string   `json:"revision"` // the active policy revision
	Action   Action   `json:"action"`
	Reasons  []string `json:"reasons"` // human-readable; shown to the client and audited
	// Rules names what fired: the rule packages behind a deny or a mask,
	// the approval requirements behind a require_approval (for metrics and
	// the trail; optional).
	Rules []string `json:"rules,omitempty"`
	// FailedClosed marks a deny the policy did not give: none was active,
	// or its evaluation failed, timed out or gave no valid decision. The
	// statement may well be allowed once the policy can decide again.
	FailedClosed bool `json:"failed_closed,omitempty"`
	// Masks maps a source column, "DB.SCHEMA.TABLE.COLUMN" upper-case as
	// resolved by the analyser, to the strategy applied to every result
	// column derived from it.
	Masks    map[string]string `json:"masks,omitempty"`
	Approval *Approval         `json:"approval,omitempty"` // set when Action is require_approval
	// Estimate is the policy asking for the plan's estimate of a read
	// before it decides: the gateway estimates (input.estimate) and asks
	// again. The second decision is the one that counts.
	Estimate bool `json:"estimate,omitempty"`
	// Limits caps the result the statement may return; the gateway cuts
	// a result that passes it with an error (the caller's quota).
	Limits *Limits `json:"limits,omitempty"`
	// RowFilters maps a table, "DB.SCHEMA.TABLE" as in SQL, to a predicate:
	// the gateway rewrites the statement so that it reads, updates and
	// deletes only the table's rows the predicate admits, or refuses it.
	RowFilters map[string]string `json:"row_filters,omitempty"`
}

// Limits are caps on one statement's result; zero is no cap (the policy
// cannot send zero: decodeDecision refuses it, since it would read as none).
type Limits struct {
	Rows  int64 `json:"rows,omitempty"`
	Bytes int64 `json:"bytes,omitempty"`
}

// Approval says who must approve a held statement.
type Approval struct {
	Groups     []string `json:"groups"`      // an approver must be in one of these
	Count      int      `json:"count"`       // distinct approvers needed
	TTLSeconds int      `json:"ttl_seconds"` // how long an approval stays usable
	Why        string   `json:"why"`
	// Mode is how the statement waits: "hold" (the client's request waits
	// for the decision) or "ticket" (the client is answered at once with
	// the request); empty for the gateway's own setting.
	Mode string `json:"mode,omitempty"`
}

// denied returns a deny decision with the given reasons.
func denied(id, revision string, reasons ...string) Decision {
	return Decision{ID: id, Revision: revision, Action: ActionDeny, Reasons: reasons, FailedClosed: true}
}

package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/rego"
)

// decodeDecision is the one place a policy result becomes a Decision. It
// accepts exactly one result holding an object with a valid action, string
// reasons, masks naming known strategies and, for require_approval, an
// approval with groups and a positive count. Anything else is an error, and
// so a deny.
func decodeDecision(rs rego.ResultSet) (Decision, error) {
	obj, err := single(rs)
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	action, ok := obj["action"].(string)
	if !ok || !Action(action).Valid() {
		return Decision{}, malformed("action %v is not one of allow, deny, require_approval, mask", obj["action"])
	}
	d.Action = Action(action)
	if d.Reasons, err = stringList(obj["reasons"], "reasons"); err != nil {
		return Decision{}, err
	}
	if d.Masks, err = masks(obj["masks"]); err != nil {
		return Decision{}, err
	}
	if d.Rules, err = stringList(obj["rules"], "rules"); err != nil {
		return Decision{}, err
	}
	if len(d.Rules) == 0 {
		d.Rules = nil
	}
	if d.Approval, err = approval(obj["approval"]); err != nil {
		return Decision{}, err
	}
	if d.Limits, err = limits(obj["limits"]); err != nil {
		return Decision{}, err
	}
	if d.RowFilters, err = rowFilters(obj["row_filters"]); err != nil {
		return Decision{}, err
	}
	switch e := obj["estimate"].(type) {
	case nil:
	case bool:
		d.Estimate = e
	default:
		return Decision{}, malformed("estimate %v is not a boolean", e)
	}
	switch {
	case d.Action == ActionRequireApproval && d.Approval == nil:
		return Decision{}, malformed("require_approval without an approval")
	case d.Action == ActionDeny && len(d.Reasons) == 0:
		d.Reasons = []string{"denied by policy"}
	case d.Action == ActionAllow && len(d.Masks) > 0:
		d.Action = ActionMask // never return less protection than the policy asked for
	case d.Action == ActionMask && len(d.Masks) == 0:
		return Decision{}, malformed("mask without masks")
	}
	if d.Action != ActionRequireApproval {
		d.Approval = nil
	}
	if d.Action == ActionDeny {
		d.Masks, d.RowFilters = nil, nil
	}
	return d, nil
}

// single returns the object of a one-result, one-expression result set.
func single(rs rego.ResultSet) (map[string]any, error) {
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, errUndefined
	}
	if len(rs) > 1 || len(rs[0].Expressions) > 1 {
		return nil, malformed("%d results", len(rs))
	}
	obj, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return nil, malformed("decision is a %T, not an object", rs[0].Expressions[0].Value)
	}
	return obj, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// stringList decodes an optional array (or set) of strings.
func stringList(v any, field string) ([]string, error) {
	if v == nil {
		return []string{}, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, malformed("%s is a %T, not an array", field, v)
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, malformed("%s holds a %T, not a string", field, x)
		}
		out = append(out, s)
	}
	return out, nil
}

func masks(v any) (map[string]string, error) {
	return stringObject(v, "masks", func(col string, x any) (string, error) {
		s, ok := x.(string)
		if !ok || !ValidMask(s) {
			return "", malformed("mask %v for %s is not one of %v", x, col, MaskStrategies)
		}
		return s, nil
	})
}

// rowFilters reads a decision's row filters: table name to a non-empty
// predicate.
func rowFilters(v any) (map[string]string, error) {
	return stringObject(v, "row_filters", func(table string, x any) (string, error) {
		s, ok := x.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return "", malformed("row filter %v for %s is not a predicate", x, table)
		}
		return s, nil
	})
}

// stringObject reads an optional object whose values value turns into
// strings (or rejects); nil when absent or empty.
func stringObject(v any, field string, value func(key string, x any) (string, error)) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("%s is a %T, not an object", field, v)
	}
	if len(obj) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(obj))
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		s, err := value(k, obj[k])
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

func approval(v any) (*Approval, error) {
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("approval is a %T, not an object", v)
	}
	var a Approval
	var err error
	if a.Groups, err = stringList(obj["groups"], "approval.groups"); err != nil {
		return nil, err
	}
	if len(a.Groups) == 0 {
		return nil, malformed("approval names no approver groups")
	}
	if a.Count, err = integer(obj["count"], 1); err != nil || a.Count < 1 {
		return nil, malformed("approval.count %v is not a positive integer", obj["count"])
	}
	if a.TTLSeconds, err = integer(obj["ttl_seconds"], 3600); err != nil || a.TTLSeconds < 1 {
		return nil, malformed("approval.ttl_seconds %v is not a positive integer", obj["ttl_seconds"])
	}
	if w, ok := obj["why"]; ok {
		if a.Why, ok = w.(string); !ok {
			return nil, malformed("approval.why is a %T, not a string", w)
		}
	}
	if m, ok := obj["mode"]; ok {
		a.Mode, _ = m.(string)
		if a.Mode != "hold" && a.Mode != "ticket" {
			return nil, malformed("approval.mode %v is not hold or ticket", m)
		}
	}
	return &a, nil
}

// limits reads a decision's result limits: an object of positive integers
// rows and bytes, each optional. A limit of zero would read as no limit:
// a policy that allows no rows must deny, so zero is malformed (a deny).
func limits(v any) (*Limits, error) {
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("limits is a %T, not an object", v)
	}
	var l Limits
	for name, to := range map[string]*int64{"rows": &l.Rows, "bytes": &l.Bytes} {
		raw, present := obj[name]
		if !present {
			continue
		}
		n, err := integer(raw, 0)
		if err != nil || n < 1 {
			return nil, malformed("limits.%s %v is not a positive integer", name, raw)
		}
		*to = int64(n)
	}
	for name := range obj {
		if name != "rows" && name != "bytes" {
			return nil, malformed("limits.%s is not a limit", name)
		}
	}
	if l == (Limits{}) {
		return nil, nil
	}
	return &l, nil
}

// integer decodes an optional whole number, def when absent.
func integer(v any, def int) (int, error) {
	if v == nil {
		return def, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number")
	}
	i, err := n.Int64()
	if err != nil {
		return 0, err
	}
	return int(i), nil
}

# METADATA
# title: The decision
# description: |
#   data.snowgate.decision combines every package under snowgate.rules.
#   Each may contribute to four sets:
#     deny     reasons (strings)
#     approve  {"rule": id, "why": text}; requirements in approvals[id],
#              else approvals.default
#     mask     {"column": "DB.SCHEMA.TABLE.COLUMN", "strategy": s,
#              "reason": text shown with a mask decision (optional)}
#   "rules" names what fired: the rule packages behind a deny or a mask,
#   the approval requirements behind a require_approval.
#   A package may also set wants_estimate (see decision below).
#   Precedence: deny > require_approval > mask > allow. Masks union, and the
#   strongest strategy wins when two rules mask the same column. An approval
#   needs an approver who satisfies every rule that asked for one.
package snowgate

import data.snowgate.lib

deny_reasons contains r if some r in data.snowgate.rules[_].deny

approvals contains a if some a in data.snowgate.rules[_].approve

mask_items contains m if some m in data.snowgate.rules[_].mask

notices contains object.get(m, "reason", sprintf("%s masked (%s)", [m.column, m.strategy])) if some m in mask_items

deny_reasons contains "the approval rules that apply name no common approver group; ask a platform admin" if {
	count(approvals) > 0
	count(approval.groups) == 0
}

requirement(rule) := object.get(lib.config.approvals, rule, lib.config.approvals.default)

approval := object.union(
	{
		"groups": sort(intersection({{g | some g in r.groups} | some r in reqs})),
		"count": max([object.get(r, "count", 1) | some r in reqs]),
		"ttl_seconds": min([object.get(r, "ttl_seconds", 3600) | some r in reqs]),
		"why": concat("; ", sort({a.why | some a in approvals})),
	},
	mode,
) if {
	count(approvals) > 0
	reqs := [requirement(a.rule) | some a in approvals]
}

# How a held statement waits (approval_mode): "ticket" answers the client
# at once with the request, its page and how to retry; "hold" keeps the
# client's request waiting until a person decides. An agent's tool call
# must not hang on a person, so agents get approval_mode.agents; a client
# (input.session.client, e.g. "PythonConnector") may have its own in
# approval_mode.clients; otherwise approval_mode.default, and without any,
# the gateway's own setting.
mode := {"mode": m} if {
	m := approval_mode
	m != ""
} else := {}

approval_mode := m if {
	input.identity.agent
	m := lib.config.approval_mode.agents
} else := m if {
	m := lib.config.approval_mode.clients[input.session.client]
} else := lib.config.approval_mode.default

# Strategies by strength; an unknown strategy outranks all so that the
# engine, which rejects it, fails closed.
strength(s) := object.get({"email_domain": 1, "partial": 2, "hash": 3, "redact": 4, "null": 5}, s, 100)

masks[col] := max(ranked)[1] if {
	some m in mask_items
	col := m.column
	ranked := [[strength(x.strategy), x.strategy] | some x in mask_items; x.column == col]
}

# A package's wants_estimate asks for the plan of a read before the
# decision counts (rules/cost.rego): the decision carries estimate: true,
# and the gateway decides again with input.estimate. A deny needs no plan.
# A package's limits (rules/quotas.rego) cap the result: the smallest of
# each wins. A package's row_filters (rules/row_filters.rego) confine the
# rows the statement reads and changes.
decision := object.union(verdict, {"estimate": true}) if {
	verdict.action != "deny"
	some name
	data.snowgate.rules[name].wants_estimate
} else := object.union(verdict, extras) if {
	verdict.action != "deny"
	count(extras) > 0
} else := verdict

# What else a decision that lets the statement run carries: its result
# limits, and its row filters (rules/row_filters.rego), a table's
# predicates from several packages all holding.
extras[k] := v if {
	some k, v in {"limits": result_limits, "row_filters": row_filters}
	count(v) > 0
}

filter_items contains [table, p] if {
	some name
	some table, p in data.snowgate.rules[name].row_filters
}

row_filters[table] := joined(preds) if {
	some [table, _] in filter_items
	preds := sort({q | some [t, q] in filter_items; t == table})
}

joined(preds) := preds[0] if count(preds) == 1

else := concat(" AND ", [sprintf("(%s)", [q]) | some q in preds])

result_limits[k] := min(caps) if {
	some k in {"rows", "bytes"}
	caps := [n | some name; n := data.snowgate.rules[name].limits[k]]
	count(caps) > 0
}

verdict := {"action": "deny", "reasons": sort(deny_reasons), "rules": sort(denied_by)} if {
	count(deny_reasons) > 0
} else := {
	"action": "require_approval",
	"reasons": sort({a.why | some a in approvals}),
	"approval": approval,
	"rules": sort({a.rule | some a in approvals}),
} if {
	count(approvals) > 0
} else := {"action": "mask", "reasons": sort(notices), "masks": masks, "rules": sort(masked_by)} if {
	count(mask_items) > 0
} else := {"action": "allow", "reasons": []}

# denied_by and masked_by name the rule packages behind a deny or a mask
# (an approval names its requirements instead), for metrics and the trail.
denied_by contains name if {
	some name
	some _ in data.snowgate.rules[name].deny
}

masked_by contains name if {
	some name
	some _ in data.snowgate.rules[name].mask
}

# METADATA
# title: The decision
# description: |
#   data.snowgate.decision combines every package under snowgate.rules.
#   Each may contribute to four sets:
#     deny     reasons (strings)
#     approve  {"rule": id, "why": text}; requirements in approvals[id]
#     mask     {"column": "DB.SCHEMA.TABLE.COLUMN", "strategy": s}
#     notice   reasons shown with a mask decision
#   Precedence: deny > require_approval > mask > allow. Masks union, and the
#   strongest strategy wins when two rules mask the same column.
package snowgate

import data.snowgate.lib

deny_reasons contains r if some r in data.snowgate.rules[_].deny

approvals contains a if some a in data.snowgate.rules[_].approve

mask_items contains m if some m in data.snowgate.rules[_].mask

notices contains n if some n in data.snowgate.rules[_].notice

# Approval requirements of the rules that fired.
requirement(rule) := lib.config.approvals[rule] if lib.config.approvals[rule]

else := lib.config.approvals.default

requirements := [requirement(a.rule) | some a in approvals]

# Any approver must satisfy every rule that fired.
approver_groups := intersection({{g | some g in r.groups} | some r in requirements})

deny_reasons contains "the approval rules that apply name no common approver group; ask a platform admin" if {
	count(approvals) > 0
	count(approver_groups) == 0
}

approval := {
	"groups": sort(approver_groups),
	"count": max([object.get(r, "count", 1) | some r in requirements]),
	"ttl_seconds": min([object.get(r, "ttl_seconds", 3600) | some r in requirements]),
	"why": concat("; ", sort([a.why | some a in approvals])),
} if count(approvals) > 0

# Strategies by strength; an unknown strategy outranks all so that the
# engine, which rejects it, fails closed.
strength(s) := object.get({"email_domain": 1, "partial": 2, "hash": 3, "redact": 4, "null": 5}, s, 100)

masks[col] := strategy if {
	some m in mask_items
	col := m.column
	ranked := [[strength(x.strategy), x.strategy] | some x in mask_items; x.column == col]
	strategy := max(ranked)[1]
}

action := "deny" if count(deny_reasons) > 0

else := "require_approval" if count(approvals) > 0

else := "mask" if count(masks) > 0

else := "allow"

reasons := sort(deny_reasons) if action == "deny"

else := sort({a.why | some a in approvals}) if action == "require_approval"

else := sort(notices) if action == "mask"

else := []

decision := {"action": action, "reasons": reasons, "masks": masks, "approval": approval} if action == "require_approval"

else := {"action": action, "reasons": reasons, "masks": masks}

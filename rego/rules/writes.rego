# METADATA
# title: Bulk writes
# description: |
#   UPDATE and DELETE without a WHERE clause, or with one that is always true
#   (WHERE 1=1), change every row: they need approval (approvals.bulk_write).
package snowgate.rules.writes

import data.snowgate.lib

approve contains {"rule": "bulk_write", "why": why} if {
	input.statement.kind == "update"
	unbounded
	why := sprintf("UPDATE of every row of %s (%s)", [targets, shape])
}

approve contains {"rule": "bulk_write", "why": why} if {
	input.statement.kind == "delete"
	unbounded
	why := sprintf("DELETE of every row of %s (%s)", [targets, shape])
}

unbounded if not input.statement.where.present

unbounded if input.statement.where.always_true == true

unbounded if input.statement.flags.no_where == true

shape := "the WHERE clause is always true" if input.statement.where.always_true == true

else := "no WHERE clause"

targets := concat(", ", sort(names)) if {
	names := {lib.object_key(o) | some o in input.statement.objects; o.access in {"write", "delete"}}
	count(names) > 0
} else := "an unnamed table"

# METADATA
# title: Bulk writes
# description: |
#   UPDATE and DELETE without a WHERE clause, or with one that is always true
#   (WHERE 1=1), change every row: they need approval (approvals.bulk_write).
package snowgate.rules.writes

import data.snowgate.lib

bulk_kinds := {"update", "delete"}

approve contains {"rule": "bulk_write", "why": why} if {
	lib.stmt.kind in bulk_kinds
	unbounded
	why := sprintf("%s of every row of %s (%s)", [upper(lib.stmt.kind), concat(", ", targets), shape])
}

unbounded if not lib.stmt.where.present

unbounded if lib.stmt.where.always_true

unbounded if lib.stmt.flags.no_where

shape := "the WHERE clause is always true" if lib.stmt.where.always_true

else := "no WHERE clause"

targets contains lib.object_key(o) if {
	some o in lib.stmt.objects
	o.access in {"write", "delete"}
}

targets contains "an unnamed table" if {
	not any_target
}

any_target if {
	some o in lib.stmt.objects
	o.access in {"write", "delete"}
}

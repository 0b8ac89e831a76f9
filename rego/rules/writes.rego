# METADATA
# title: Destructive writes
# description: |
#   What a statement can destroy, however it is spelled
#   (input.statement.effects), needs approval:
#     rows removed or replaced without a predicate that bounds them (UPDATE
#     and DELETE without a WHERE clause or with one that is always true once
#     constants are folded, MERGE ... WHEN MATCHED THEN DELETE or an
#     unconditional UPDATE, INSERT OVERWRITE, TRUNCATE, COPY with PURGE or
#     OVERWRITE): approvals.bulk_write;
#     UPDATE and DELETE whose WHERE clause bounds them, but which the
#     upstream estimated before the decision (input.estimate) to touch more
#     than config.writes.max_share of the table: approvals.bulk_write;
#     objects replaced (CREATE OR REPLACE, ALTER ... SWAP WITH, RENAME, CLONE
#     over a name): approvals.object_replaced;
#     protections removed (masking, row access and other policies unset or
#     dropped, tags, time travel turned off, secure views made plain):
#     approvals.protection_removed.
#   Rows and objects in the caller's own workspace (lib.in_own_workspace)
#   are the caller's to rebuild: replacing them, and removing or replacing
#   their rows, needs no approval. Protections removed there still do.
package snowgate.rules.writes

import data.snowgate.lib

approve contains {"rule": "bulk_write", "why": why} if {
	input.statement.kind == "update"
	unbounded
	not own_targets
	why := sprintf("UPDATE of every row of %s (%s)", [targets, shape])
}

approve contains {"rule": "bulk_write", "why": why} if {
	input.statement.kind == "delete"
	unbounded
	not own_targets
	why := sprintf("DELETE of every row of %s (%s)", [targets, shape])
}

# A predicate that is not always true may still select (nearly) every row:
# DELETE FROM orders WHERE id > 0. The gateway asks the upstream how much of
# the table it selects (input.estimate, absent when it could not say).
approve contains {"rule": "bulk_write", "why": why} if {
	input.statement.kind in {"update", "delete"}
	not unbounded
	not own_targets
	e := input.estimate
	e.method != "failed"
	e.share > max_share
	why := sprintf("%s of an estimated %s of %s (%d of %d %s; the WHERE clause bounds it to more than %s)", [
		upper(input.statement.kind), percent(e.share), e.object,
		e.rows, e.total, estimate_unit(e.method), percent(max_share),
	])
}

# An estimate the statement called for and the upstream could not give
# (an error, the time bound): it cannot be shown to be bounded.
approve contains {"rule": "bulk_write", "why": why} if {
	input.statement.kind in {"update", "delete"}
	input.estimate.method == "failed"
	not own_targets
	why := sprintf("%s of %s: how much of the table its WHERE clause selects could not be estimated", [upper(input.statement.kind), input.estimate.object])
}

# The share of a table an UPDATE or DELETE may touch without approval.
default max_share := 0.5

max_share := lib.config.writes.max_share

percent(x) := sprintf("%v%%", [round(x * 1000) / 10])

estimate_unit(method) := "micro-partitions" if method == "explain_partitions"

else := "rows"

# Every other unbounded removal or replacement of rows or files.
approve contains {"rule": "bulk_write", "why": why} if {
	some e in input.statement.effects
	e.effect in {"rows_removed", "rows_replaced"}
	not e.bounded
	not plain_update_or_delete(e)
	not lib.in_own_workspace(e.object)
	why := sprintf("%s: every %s of %s %s", [e.how, unit(e.object), lib.object_key(e.object), verb[e.effect]])
}

approve contains {"rule": "object_replaced", "why": why} if {
	some e in input.statement.effects
	e.effect == "object_replaced"
	not lib.in_own_workspace(e.object)
	why := sprintf("%s: %s %s", [e.how, e.object.type, lib.object_key(e.object)])
}

approve contains {"rule": "protection_removed", "why": why} if {
	some e in input.statement.effects
	e.effect == "protection_removed"
	why := sprintf("%s removes a protection of %s %s", [e.how, e.object.type, lib.object_key(e.object)])
}

verb := {"rows_removed": "may be removed", "rows_replaced": "may be replaced"}

unit(o) := "file" if o.type in {"stage", "location", "table_stage"}

else := "row"

# The UPDATE and DELETE rules above already speak for these.
plain_update_or_delete(e) if {
	input.statement.kind in {"update", "delete"}
	e.how in {"UPDATE", "DELETE"}
	unbounded
}

unbounded if not input.statement.where.present

unbounded if input.statement.where.always_true == true

unbounded if input.statement.flags.no_where == true

shape := "the WHERE clause is always true" if input.statement.where.always_true == true

else := "no WHERE clause"

# own_targets: every table the statement writes is in the caller's own
# workspace (and it writes at least one).
own_targets if {
	written := [o | some o in input.statement.objects; o.access in {"write", "delete"}]
	count(written) > 0
	every o in written {
		lib.in_own_workspace(o)
	}
}

targets := concat(", ", sort(names)) if {
	names := {lib.object_key(o) | some o in input.statement.objects; o.access in {"write", "delete"}}
	count(names) > 0
} else := "an unnamed table"

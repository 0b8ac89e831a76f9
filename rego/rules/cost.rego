# METADATA
# title: Cost guard
# description: |
#   Before a read runs, the policy can ask for the upstream's plan of it:
#   wants_estimate makes the decision carry estimate: true, and the gateway
#   plans the statement without running it (Snowflake's EXPLAIN USING JSON,
#   the stand-in's planner) and decides again with input.estimate. From
#   config.cost:
#     a scan of a table in no_full_scan that nothing narrows (no filter
#     reaches it, or the plan keeps every micro-partition or row of the
#     table) is denied, for everyone;
#     an agent's read whose scans add up to more than agent_max_scan_bytes
#     (Snowflake's bytesAssigned) or agent_max_scan_rows (the stand-in's
#     estimated rows) needs approvals.large_scan;
#     a plan that was asked for and could not be had holds the read for
#     approvals.large_scan when it touches a no_full_scan table or comes
#     from an agent under a limit: it cannot be shown to be small.
#   The plan is asked for only when one of these could apply: a statement
#   that reads a table in no_full_scan or a view (which may read one),
#   whatever its kind, or an agent's read when a limit is set.
package snowgate.rules.cost

import data.snowgate.lib

default cfg := {}

cfg := lib.config.cost

no_full_scan := {upper(t) | some t in object.get(cfg, "no_full_scan", [])}

max_bytes := object.get(cfg, "agent_max_scan_bytes", 0)

max_rows := object.get(cfg, "agent_max_scan_rows", 0)

limited if max_bytes > 0

limited if max_rows > 0

# Statements that could meet a rule below. A table marked no_full_scan is
# guarded in every statement that reads it (INSERT ... SELECT, CREATE
# TABLE ... AS SELECT, MERGE ... USING as much as SELECT); an agent's
# limits apply to its reads.
concerned if {
	count(no_full_scan) > 0
	some o in input.statement.objects
	o.access == "read"
	upper(lib.object_key(o)) in no_full_scan
}

concerned if {
	count(no_full_scan) > 0
	some o in input.statement.objects
	o.access == "read"
	o.type == "view"
}

concerned if {
	limited
	input.statement.category == "read"
	input.identity.agent
}

wants_estimate if {
	not input.estimate
	concerned
}

planned := e if {
	e := input.estimate
	e.method != "failed"
}

deny contains why if {
	some s in planned.scans
	s.full
	upper(s.object) in no_full_scan
	why := sprintf("a full scan of %s, which is marked no_full_scan: filter it so that it can be pruned", [s.object])
}

approve contains {"rule": "large_scan", "why": why} if {
	input.identity.agent
	max_bytes > 0
	planned.bytes > max_bytes
	why := sprintf("a read by %s would scan an estimated %d bytes, more than %d", [lib.agent_name, planned.bytes, max_bytes])
}

approve contains {"rule": "large_scan", "why": why} if {
	input.identity.agent
	max_rows > 0
	planned.method == "plan_rows"
	planned.rows > max_rows
	why := sprintf("a read by %s would scan an estimated %d rows, more than %d", [lib.agent_name, planned.rows, max_rows])
}

approve contains {"rule": "large_scan", "why": "how much the read would scan could not be estimated"} if {
	input.estimate.method == "failed"
	concerned
}

# A bounded UPDATE or DELETE comes with the estimate of the rows it
# changes (rules/writes.rego), not with a plan of what it reads: what it
# scans of a guarded table cannot be told, so it is held too.
approve contains {"rule": "large_scan", "why": "how much the statement would scan could not be estimated: its estimate is of the rows it changes"} if {
	concerned
	input.estimate.method != "failed"
	not input.estimate.scans
	input.estimate.object != ""
}

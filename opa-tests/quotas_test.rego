package snowgate.rules.quotas_test

import data.fixtures
import data.snowgate
import data.snowgate.connect
import data.snowgate.rules.quotas

limited := object.union(data.snowgate.config, {"quotas": {
	"subjects": {"statements_per_minute": 60, "rows_per_hour": 100000},
	"agents": {"rows_per_hour": 20000, "approval_after_rows_per_hour": 10000, "bytes_per_day": 5000000, "sessions": 2},
	"groups": {"analysts": {"rows_per_hour": 50000}},
}})

counts(statements, rows, bytes, sessions) := {"statements_minute": statements, "rows_hour": rows, "bytes_day": bytes, "sessions": sessions}

usage(subject, agent, group) := {"subject": subject, "agent": agent, "groups": {"analysts": group}}

quiet := usage(counts(1, 10, 100, 1), counts(1, 10, 100, 1), counts(1, 10, 100, 1))

test_no_quotas_no_limits if {
	d := snowgate.decision with input as fixtures.select_orders with input.usage as quiet
	not d.limits
	d.action == "allow"
}

test_left_of_the_budgets_caps_the_result if {
	d := snowgate.decision with input as fixtures.select_orders with input.usage as usage(counts(5, 400, 0, 1), counts(5, 4000, 1000000, 1), counts(5, 45000, 0, 1)) with data.snowgate.config as limited
	d.action == "allow"
	d.limits == {"rows": 5000, "bytes": 4000000} # the group's 50,000 - 45,000 rows; the agent's bytes
}

test_statements_a_minute if {
	d := snowgate.decision with input as fixtures.select_orders with input.usage as usage(counts(60, 0, 0, 1), counts(0, 0, 0, 1), counts(0, 0, 0, 1)) with data.snowgate.config as limited
	d.action == "deny"
	d.reasons == ["your limit of 60 statements a minute is reached; wait a minute"]
	d.rules == ["quotas"]
}

test_rows_spent if {
	quotas.deny == {"agent sql-agent's limit of 20000 rows returned an hour is spent; wait for the next hour"} with input as fixtures.select_orders with input.usage as usage(counts(1, 20000, 0, 1), counts(1, 20000, 0, 1), counts(1, 20000, 0, 1)) with data.snowgate.config as limited
}

test_bytes_spent if {
	some r in quotas.deny with input as fixtures.select_orders with input.usage as usage(counts(1, 0, 0, 1), counts(1, 0, 5000000, 1), counts(1, 0, 0, 1)) with data.snowgate.config as limited
	contains(r, "5000000 bytes returned a day is spent")
}

test_approval_after_rows if {
	d := snowgate.decision with input as fixtures.select_orders with input.usage as usage(counts(1, 12000, 0, 1), counts(1, 12000, 0, 1), counts(1, 12000, 0, 1)) with data.snowgate.config as limited
	d.action == "require_approval"
	d.reasons == ["agent sql-agent's 12000 rows this hour passed the 10000 after which statements need approval"]
	d.approval.ttl_seconds == 3600
}

test_agent_limits_are_not_a_persons if {
	count(quotas.approve) == 0 with input as fixtures.select_customers_admin with input.usage as usage(counts(1, 12000, 0, 1), null, counts(1, 12000, 0, 1)) with data.snowgate.config as limited
}

test_counts_unavailable_under_a_limit if {
	d := snowgate.decision with input as fixtures.select_orders with input.usage as {"subject": counts(0, 0, 0, 0), "groups": {}, "unavailable": true} with data.snowgate.config as limited
	d.action == "deny"
	d.reasons == ["the quota counters cannot be read, and a quota applies to you; try again shortly"]
}

test_no_counts_under_a_limit if {
	some r in quotas.deny with input as fixtures.select_orders with data.snowgate.config as limited
	contains(r, "cannot be read")
}

test_counts_unavailable_without_limits if {
	count(quotas.deny) == 0 with input as fixtures.select_orders with input.usage as {"subject": counts(0, 0, 0, 0), "groups": {}, "unavailable": true}
}

test_sessions_at_login if {
	login := {"version": "1", "identity": fixtures.select_orders.identity, "session": fixtures.select_orders.session, "request": fixtures.select_orders.request}
	d := connect.decision with input as login with input.usage as usage(counts(0, 0, 0, 2), counts(0, 0, 0, 2), counts(0, 0, 0, 2)) with data.snowgate.config as limited
	d.action == "deny"
	d.reasons == ["agent sql-agent's limit of 2 sessions at once is reached; close one first"]
	ok := connect.decision with input as login with input.usage as usage(counts(0, 0, 0, 1), counts(0, 0, 0, 1), counts(0, 0, 0, 1)) with data.snowgate.config as limited
	ok.action == "allow"
}

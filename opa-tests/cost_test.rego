package snowgate.rules.cost_test

import data.fixtures
import data.snowgate
import data.snowgate.rules.cost

# The cost settings these tests run with; the default data.json sets none.
guarded := object.union(data.snowgate.config, {"cost": {
	"no_full_scan": ["demo.public.orders"],
	"agent_max_scan_bytes": 1000000,
	"agent_max_scan_rows": 5000,
}})

admin_orders := json.patch(fixtures.select_customers_admin, [{"op": "replace", "path": "/statement/objects", "value": fixtures.select_orders.statement.objects}])

plan(method, rows, total, bytes, scans) := {"object": "", "rows": rows, "total": total, "share": 0, "method": method, "bytes": bytes, "scans": scans}

full_orders := {"object": "DEMO.PUBLIC.ORDERS", "rows": 1000, "total": 1000, "share": 1, "full": true}

pruned_orders := {"object": "DEMO.PUBLIC.ORDERS", "rows": 3, "total": 1000, "share": 0.003, "full": false}

test_no_settings_no_plan if {
	not snowgate.decision.estimate with input as fixtures.select_orders
	not cost.wants_estimate with input as fixtures.select_orders
}

test_agent_read_under_a_limit_asks_for_the_plan if {
	snowgate.decision.estimate with input as fixtures.select_orders with data.snowgate.config as guarded
}

test_a_no_full_scan_table_asks_for_the_plan_for_everyone if {
	snowgate.decision.estimate with input as admin_orders with data.snowgate.config as guarded
}

test_a_view_may_read_a_no_full_scan_table if {
	view := json.patch(fixtures.select_customers_admin, [{"op": "replace", "path": "/statement/objects", "value": [{"type": "view", "database": "DEMO", "schema": "PUBLIC", "name": "V", "access": "read"}]}])
	snowgate.decision.estimate with input as view with data.snowgate.config as guarded
}

test_other_reads_ask_for_nothing if {
	not snowgate.decision.estimate with input as fixtures.select_customers_admin with data.snowgate.config as guarded
	not snowgate.decision.estimate with input as fixtures.delete_with_where with data.snowgate.config as guarded
}

test_with_the_plan_no_more_asking if {
	d := snowgate.decision with input as fixtures.select_orders with input.estimate as plan("plan_rows", 3, 1000, 0, [pruned_orders]) with data.snowgate.config as guarded
	not d.estimate
	d.action == "allow"
}

test_a_deny_asks_for_no_plan if {
	d := snowgate.decision with input as fixtures.grant_role with data.snowgate.config as guarded
	d.action == "deny"
	not d.estimate
}

test_full_scan_of_a_no_full_scan_table_denied if {
	d := snowgate.decision with input as admin_orders with input.estimate as plan("explain_partitions", 1000, 1000, 900, [full_orders]) with data.snowgate.config as guarded
	d.action == "deny"
	d.reasons == ["a full scan of DEMO.PUBLIC.ORDERS, which is marked no_full_scan: filter it so that it can be pruned"]
	d.rules == ["cost"]
}

test_pruned_scan_allowed if {
	count(cost.deny) == 0 with input as admin_orders with input.estimate as plan("explain_partitions", 3, 1000, 900, [pruned_orders]) with data.snowgate.config as guarded
}

test_agent_scan_over_bytes_held if {
	cost.approve == {{"rule": "large_scan", "why": "a read by agent sql-agent for u-1001 would scan an estimated 2000000 bytes, more than 1000000"}} with input as fixtures.select_orders
		with input.estimate as plan("explain_partitions", 3, 1000, 2000000, [pruned_orders]) with data.snowgate.config as guarded
}

test_agent_scan_over_rows_held if {
	d := snowgate.decision with input as fixtures.select_orders with input.estimate as plan("plan_rows", 6000, 9000, 0, [pruned_orders]) with data.snowgate.config as guarded
	d.action == "require_approval"
	d.rules == ["large_scan"]
}

test_rows_limit_ignores_partitions if {
	count(cost.approve) == 0 with input as fixtures.select_orders with input.estimate as plan("explain_partitions", 6000, 9000, 10, [pruned_orders]) with data.snowgate.config as guarded
}

test_people_are_not_limited if {
	count(cost.approve) == 0 with input as admin_orders with input.estimate as plan("plan_rows", 60000, 90000, 5000000, [pruned_orders]) with data.snowgate.config as guarded
}

test_failed_plan_held if {
	d := snowgate.decision with input as fixtures.select_orders with input.estimate as {"object": "", "rows": 0, "total": 0, "share": 0, "method": "failed"} with data.snowgate.config as guarded
	d.action == "require_approval"
	d.reasons == ["how much the read would scan could not be estimated"]
}

test_failed_plan_of_an_unconcerned_read_is_nothing if {
	count(cost.approve) == 0 with input as fixtures.select_customers_admin with input.estimate as {"object": "", "rows": 0, "total": 0, "share": 0, "method": "failed"} with data.snowgate.config as guarded
}

test_any_statement_reading_a_no_full_scan_table_asks_for_the_plan if {
	insert := json.patch(fixtures.insert_select_pii, [{"op": "replace", "path": "/statement/objects", "value": [
		{"type": "table", "database": "DEV", "schema": "SANDBOX", "name": "COPY", "access": "write"},
		{"type": "table", "database": "DEMO", "schema": "PUBLIC", "name": "ORDERS", "access": "read"},
	]}])
	snowgate.decision.estimate with input as insert with data.snowgate.config as guarded
	d := snowgate.decision with input as insert with input.estimate as plan("plan_rows", 1000, 1000, 0, [full_orders]) with data.snowgate.config as guarded
	d.action == "deny"
}

test_a_write_reading_nothing_guarded_is_not_planned if {
	not snowgate.decision.estimate with input as fixtures.insert_order with data.snowgate.config as guarded
}

test_a_bounded_write_reading_a_guarded_table_is_held if {
	reads := array.concat(fixtures.delete_with_where.statement.objects, [{"type": "table", "database": "DEMO", "schema": "PUBLIC", "name": "ORDERS", "access": "read"}])
	write := json.patch(fixtures.delete_with_where, [{"op": "replace", "path": "/statement/objects", "value": reads}])
	rows := {"object": "DEMO.PUBLIC.ORDERS", "rows": 1, "total": 1000, "share": 0.001, "method": "count"}
	d := snowgate.decision with input as write with input.estimate as rows with data.snowgate.config as guarded
	d.action == "require_approval"
	"large_scan" in d.rules
	not d.estimate
}

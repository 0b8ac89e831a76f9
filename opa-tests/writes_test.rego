package snowgate.rules.writes_test

import data.fixtures
import data.snowgate
import data.snowgate.rules.writes

test_delete_without_where_needs_approval if {
	writes.approve == {{"rule": "bulk_write", "why": "DELETE of every row of DEMO.PUBLIC.ORDERS (no WHERE clause)"}} with input as fixtures.delete_without_where
}

test_delete_always_true_needs_approval if {
	writes.approve == {{"rule": "bulk_write", "why": "DELETE of every row of DEMO.PUBLIC.ORDERS (the WHERE clause is always true)"}} with input as fixtures.delete_always_true
}

test_update_without_where_needs_approval if {
	some a in writes.approve with input as fixtures.update_without_where
	startswith(a.why, "UPDATE of every row of DEMO.PUBLIC.ORDERS")
}

test_no_where_flag_alone if {
	count(writes.approve) == 1 with input as fixtures.update_with_where with input.statement.flags.no_where as true
}

test_update_with_where_allowed if {
	count(writes.approve) == 0 with input as fixtures.update_with_where
}

test_delete_with_where_allowed if {
	count(writes.approve) == 0 with input as fixtures.delete_with_where
}

test_unnamed_target if {
	some a in writes.approve with input as fixtures.delete_without_where with input.statement.objects as []
	contains(a.why, "an unnamed table")
}

test_insert_untouched if {
	count(writes.approve) == 0 with input as fixtures.insert_order
}

# Destructive effects however they are spelled.
test_insert_overwrite_needs_approval if {
	writes.approve == {{"rule": "bulk_write", "why": "INSERT OVERWRITE truncates the table first: every row of DEMO.PUBLIC.ORDERS may be replaced"}} with input as fixtures.insert_overwrite
}

test_merge_delete_needs_approval if {
	writes.approve == {{"rule": "bulk_write", "why": "MERGE ... WHEN MATCHED THEN DELETE: every row of DEMO.PUBLIC.ORDERS may be removed"}} with input as fixtures.merge_delete
}

test_merge_conditional_update_allowed if {
	count(writes.approve) == 0 with input as fixtures.merge_update_conditional
}

test_copy_purge_counts_files if {
	some a in writes.approve with input as fixtures.copy_purge
	a.rule == "bulk_write"
	contains(a.why, "every file of DEV.SANDBOX.INBOX may be removed")
}

test_swap_replaces_both if {
	whys := {a.why | some a in writes.approve; a.rule == "object_replaced"} with input as fixtures.swap_tables
	whys == {"ALTER TABLE ... SWAP WITH: table DEV.SANDBOX.A", "ALTER TABLE ... SWAP WITH: table DEV.SANDBOX.B"}
}

test_unset_masking_policy_removes_a_protection if {
	writes.approve == {{"rule": "protection_removed", "why": "ALTER TABLE ... UNSET MASKING POLICY removes a protection of table DEV.SANDBOX.PEOPLE"}} with input as fixtures.unset_masking_policy
}

test_bounded_effect_needs_nothing if {
	count(writes.approve) == 0 with input as fixtures.insert_overwrite
		with input.statement.effects as [{"effect": "rows_removed", "object": {"type": "table", "name": "ORDERS"}, "bounded": true, "how": "DELETE"}]
}

# A WHERE clause that is not always true but, by the upstream's estimate,
# still selects more than config.writes.max_share of the table.
all_orders := {"object": "DEMO.PUBLIC.ORDERS", "rows": 1000, "total": 1000, "share": 1, "method": "count"}

test_delete_of_most_rows_needs_approval if {
	writes.approve == {{"rule": "bulk_write", "why": "DELETE of an estimated 100% of DEMO.PUBLIC.ORDERS (1000 of 1000 rows; the WHERE clause bounds it to more than 50%)"}} with input as fixtures.delete_with_where
		with input.estimate as all_orders
}

test_update_of_most_rows_needs_approval if {
	writes.approve == {{"rule": "bulk_write", "why": "UPDATE of an estimated 66.7% of DEMO.PUBLIC.ORDERS (667 of 1000 rows; the WHERE clause bounds it to more than 50%)"}} with input as fixtures.update_with_where
		with input.estimate as {"object": "DEMO.PUBLIC.ORDERS", "rows": 667, "total": 1000, "share": 0.667, "method": "count"}
}

test_partitions_estimate_names_its_unit if {
	some a in writes.approve with input as fixtures.delete_with_where
		with input.estimate as {"object": "DEMO.PUBLIC.ORDERS", "rows": 240, "total": 250, "share": 0.96, "method": "explain_partitions"}
	a.why == "DELETE of an estimated 96% of DEMO.PUBLIC.ORDERS (240 of 250 micro-partitions; the WHERE clause bounds it to more than 50%)"
}

test_share_at_the_limit_allowed if {
	count(writes.approve) == 0 with input as fixtures.delete_with_where
		with input.estimate as {"object": "DEMO.PUBLIC.ORDERS", "rows": 500, "total": 1000, "share": 0.5, "method": "count"}
}

test_small_share_allowed if {
	count(writes.approve) == 0 with input as fixtures.update_with_where
		with input.estimate as {"object": "DEMO.PUBLIC.ORDERS", "rows": 1, "total": 1000, "share": 0.001, "method": "count"}
}

test_empty_table_allowed if {
	count(writes.approve) == 0 with input as fixtures.delete_with_where
		with input.estimate as {"object": "DEMO.PUBLIC.ORDERS", "rows": 0, "total": 0, "share": 0, "method": "count"}
}

test_no_estimate_no_new_rule if {
	count(writes.approve) == 0 with input as fixtures.delete_with_where
}

test_max_share_configurable if {
	count(writes.approve) == 0 with input as fixtures.delete_with_where
		with input.estimate as all_orders
		with data.snowgate.config.writes.max_share as 1
	some a in writes.approve with input as fixtures.delete_with_where
		with input.estimate as {"object": "DEMO.PUBLIC.ORDERS", "rows": 11, "total": 1000, "share": 0.011, "method": "count"}
		with data.snowgate.config.writes.max_share as 0.01
	endswith(a.why, "(11 of 1000 rows; the WHERE clause bounds it to more than 1%)")
}

test_max_share_default_without_config if {
	some a in writes.approve with input as fixtures.delete_with_where
		with input.estimate as all_orders
		with data.snowgate.config.writes as {}
	contains(a.why, "more than 50%")
}

# The always-true rule speaks for unbounded writes; the estimate adds nothing.
test_unbounded_write_one_reason if {
	writes.approve == {{"rule": "bulk_write", "why": "DELETE of every row of DEMO.PUBLIC.ORDERS (the WHERE clause is always true)"}} with input as fixtures.delete_always_true
		with input.estimate as all_orders
}

test_estimate_decision_requires_approval if {
	d := snowgate.decision with input as fixtures.delete_with_where with input.estimate as all_orders
	d.action == "require_approval"
	d.approval.groups == ["approvers", "data-stewards"]
	d.approval.why == "DELETE of an estimated 100% of DEMO.PUBLIC.ORDERS (1000 of 1000 rows; the WHERE clause bounds it to more than 50%)"
}

# An estimate the statement called for and could not get is no bound.
test_failed_estimate_needs_approval if {
	writes.approve == {{"rule": "bulk_write", "why": "DELETE of DEMO.PUBLIC.ORDERS: how much of the table its WHERE clause selects could not be estimated"}} with input as fixtures.delete_with_where
		with input.estimate as {"object": "DEMO.PUBLIC.ORDERS", "rows": 0, "total": 0, "share": 0, "method": "failed"}
}

package snowgate.rules.writes_test

import data.fixtures
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

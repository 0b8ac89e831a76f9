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

package snowgate.rules.dynamic_test

import data.fixtures
import data.snowgate.rules.dynamic

test_call_needs_approval if {
	some a in dynamic.approve with input as fixtures.call_procedure
	a == {"rule": "procedure", "why": "CALL DEMO.PUBLIC.REFRESH_AGGREGATES runs statements the gateway cannot see"}
}

test_call_without_object if {
	some a in dynamic.approve with input as fixtures.call_procedure with input.statement.objects as []
	a.why == "CALL a procedure runs statements the gateway cannot see"
}

test_execute_immediate_needs_approval if {
	{"rule": "dynamic_sql", "why": "EXECUTE IMMEDIATE runs SQL built at run time"} in dynamic.approve with input as fixtures.execute_immediate
		with input.statement.kind as "execute_immediate"
}

test_execute_immediate_as_inner_kind_needs_approval if {
	# The analyser may report EXECUTE IMMEDIATE '<literal>' as the kind of
	# the literal statement, flagged dynamic.
	some a in dynamic.approve with input as fixtures.execute_immediate
	a.rule == "dynamic_sql"
}

test_scripting_needs_approval if {
	some a in dynamic.approve with input as fixtures.unterminated_block
	contains(a.why, "Scripting block")
}

test_identifier_variable_needs_approval if {
	{"rule": "dynamic_sql", "why": "the statement builds SQL or object names at run time"} in dynamic.approve with input as fixtures.identifier_variable
}

test_plain_select_untouched if {
	count(dynamic.approve) == 0 with input as fixtures.select_orders
}

package snowgate.rules.parse_test

import data.fixtures
import data.snowgate.rules.parse
import data.snowgate.test.helpers as h

test_incomplete_denied if {
	some msg in parse.deny with input as fixtures.garbage
	contains(msg, "could not be fully analysed")
}

test_incomplete_reason_names_error if {
	some msg in parse.deny with input as fixtures.select_orders
		with input.statement.parse as {"complete": false, "error": "unexpected QUALIFY"}
	contains(msg, "unexpected QUALIFY")
}

test_incomplete_without_error if {
	some msg in parse.deny with input as fixtures.select_orders
		with input.statement.parse as {"complete": false}
	contains(msg, "no detail")
}

test_complete_not_denied if {
	count(parse.deny) == 0 with input as fixtures.select_orders with input.statement.parse as h.complete
}

test_relaxed_kind if {
	count(parse.deny) == 0 with input as fixtures.show_tables
		with input.statement.parse as {"complete": false, "error": "x"}
		with data.snowgate.config.parse.relax_incomplete_kinds as ["show"]
}

test_relax_is_per_kind if {
	count(parse.deny) > 0 with input as fixtures.select_orders
		with input.statement.parse as {"complete": false, "error": "x"}
		with data.snowgate.config.parse.relax_incomplete_kinds as ["show"]
}

test_unknown_kind_denied if {
	"the statement kind is unknown" in parse.deny with input as fixtures.garbage
}

test_empty_kind_denied if {
	"the statement kind is unknown" in parse.deny with input as fixtures.select_orders with input.statement.kind as ""
}

test_missing_kind_denied if {
	"the statement kind is unknown" in parse.deny with input as {"version": "1", "statement": {"parse": {"complete": true}, "category": "read"}}
}

test_unknown_category_denied if {
	"the statement category is unknown" in parse.deny with input as fixtures.garbage
}

test_missing_category_denied if {
	"the statement category is unknown" in parse.deny with input as {"version": "1", "statement": {"parse": {"complete": true}, "kind": "select"}}
}

test_version_checked if {
	"unsupported input version 2" in parse.deny with input as fixtures.select_orders with input.version as "2"
}

test_missing_version_denied if {
	"the input has no version" in parse.deny with input as {"statement": fixtures.select_orders.statement}
}

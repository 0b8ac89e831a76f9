package snowgate.rules.masking_test

import data.fixtures
import data.snowgate.rules.masking
import data.snowgate.test.helpers as h

masked(set) := {m.column: m.strategy | some m in set}

test_agent_sees_pii_masked if {
	masked(masking.mask) == {
		"DEMO.PUBLIC.CUSTOMERS.EMAIL": "email_domain",
		"DEMO.PUBLIC.CUSTOMERS.SSN": "redact",
	} with input as fixtures.select_customers_pii
	some m in masking.mask with input as fixtures.select_customers_pii
	m.reason == "SSN masked (redact): classified pii"
	count(masking.deny) == 0 with input as fixtures.select_customers_pii
}

test_cleared_human_sees_pii if {
	count(masking.mask) == 0 with input as fixtures.select_customers_admin
	count(masking.guarded) == 0 with input as fixtures.select_customers_admin
}

test_cleared_human_through_agent_is_masked if {
	count(masking.mask) == 2 with input as fixtures.select_customers_admin with input.identity as h.admin_agent
}

test_agents_inherit_clearance_when_configured if {
	count(masking.mask) == 0 with input as fixtures.select_customers_admin
		with input.identity as h.admin_agent
		with data.snowgate.config.masking.agents_inherit_clearance as true
}

test_star_masks_every_classified_column if {
	masked(masking.mask) == {
		"DEMO.PUBLIC.CUSTOMERS.EMAIL": "email_domain",
		"DEMO.PUBLIC.CUSTOMERS.PHONE": "partial",
		"DEMO.PUBLIC.CUSTOMERS.SSN": "redact",
	} with input as fixtures.select_star_customers
}

test_unclassified_table_untouched if {
	count(masking.mask) == 0 with input as fixtures.select_orders
	count(masking.deny) == 0 with input as fixtures.select_orders
	count(masking.guarded) == 0 with input as fixtures.select_orders
}

test_expression_over_masked_column_is_masked if {
	masked(masking.mask) == {"DEMO.PUBLIC.CUSTOMERS.SSN": "redact"} with input as fixtures.select_customers_pii
		with input.statement.outputs as [{"name": "LAST4", "sources": [h.col("CUSTOMERS", "SSN")], "transform": "expression", "traced": true}]
}

test_aggregate_over_masked_column_is_masked if {
	masked(masking.mask) == {"DEMO.PUBLIC.CUSTOMERS.EMAIL": "email_domain"} with input as fixtures.select_customers_pii
		with input.statement.outputs as [{"name": "EMAILS", "sources": [h.col("CUSTOMERS", "EMAIL")], "transform": "aggregate", "traced": true}]
}

test_filter_on_masked_column_denied if {
	some msg in masking.deny with input as fixtures.filter_on_ssn
	msg == "DEMO.PUBLIC.CUSTOMERS.SSN is masked for you and cannot be used in WHERE, JOIN, HAVING or QUALIFY: that could rebuild its values"
}

test_filter_on_masked_column_cleared if {
	count(masking.deny) == 0 with input as fixtures.filter_on_ssn with input.identity as h.admin
}

test_group_by_email_denied if {
	some msg in masking.deny with input as fixtures.group_by_email
	msg == "DEMO.PUBLIC.CUSTOMERS.EMAIL is masked for you and cannot be used in GROUP BY, ORDER BY, DISTINCT or PARTITION BY: that could rebuild its values"
}

# A column's own deny_in adds to the global list: it cannot loosen it.
test_column_deny_in_adds_to_the_global_list if {
	count(masking.deny) == 0 with input as fixtures.group_by_email with data.snowgate.config.masking.deny_in as []
	some msg in masking.deny with input as fixtures.group_by_email
		with data.snowgate.config.masking.deny_in as []
		with data.snowgate.config.classifications.DEMO.PUBLIC.CUSTOMERS.EMAIL.deny_in as ["grouped"]
	contains(msg, "EMAIL is masked for you and cannot be used in GROUP BY")
	some msg2 in masking.deny with input as fixtures.filter_on_ssn
		with data.snowgate.config.classifications.DEMO.PUBLIC.CUSTOMERS.SSN.deny_in as []
	contains(msg2, "SSN is masked for you and cannot be used in WHERE")
}

test_group_by_ssn_denied_by_default_config if {
	some msg in masking.deny with input as fixtures.group_by_email
		with input.statement.columns.grouped as [h.col("CUSTOMERS", "SSN")]
	contains(msg, "GROUP BY, ORDER BY, DISTINCT or PARTITION BY")
}

test_copy_masked_column_into_table_denied if {
	some msg in masking.deny with input as fixtures.insert_select_pii
	msg == "DEMO.PUBLIC.CUSTOMERS.EMAIL is masked for you and cannot be copied into another object"
}

test_copy_masked_column_cleared if {
	count(masking.deny) == 0 with input as fixtures.insert_select_pii with input.identity as h.admin
}

test_untraced_output_denied if {
	some msg in masking.deny with input as fixtures.select_star_customers
		with input.statement.outputs as [{"name": "*", "sources": [], "transform": "copy", "traced": false}]
	msg == "the lineage of result column * cannot be traced, and DEMO.PUBLIC.CUSTOMERS has masked columns"
}

test_untraced_output_unclassified_table_allowed if {
	count(masking.deny) == 0 with input as fixtures.select_orders
		with input.statement.outputs as [{"name": "*", "sources": [], "transform": "copy", "traced": false}]
}

test_select_without_outputs_denied if {
	some msg in masking.deny with input as fixtures.select_customers_pii with input.statement.outputs as []
	startswith(msg, "the result columns cannot be traced")
}

test_clone_of_classified_table_denied if {
	"DEMO.PUBLIC.CUSTOMERS has masked columns and cannot be cloned" in masking.deny with input as fixtures.clone_customers
}

test_clone_by_cleared_human_allowed if {
	count(masking.deny) == 0 with input as fixtures.clone_customers with input.identity as h.admin
}

test_unqualified_names_use_session if {
	masked(masking.mask) == {"DEMO.PUBLIC.CUSTOMERS.SSN": "redact"} with input as fixtures.select_customers_pii
		with input.statement.objects as [{"type": "table", "name": "CUSTOMERS", "access": "read"}]
		with input.statement.outputs as [{"name": "SSN", "sources": [{"table": "CUSTOMERS", "name": "SSN"}], "transform": "copy", "traced": true}]
}

test_no_session_still_masks if {
	masked(masking.mask) == {"DEMO.PUBLIC.CUSTOMERS.SSN": "redact"} with input as object.remove(fixtures.select_customers_pii, ["session"])
		with input.statement.outputs as [h.out("CUSTOMERS", "SSN")]
}

test_unqualified_without_session_denied if {
	# Without a database the table cannot be matched to its classifications.
	"cannot tell which database CUSTOMERS is in; qualify the name or set a current database" in masking.deny with input as object.remove(fixtures.select_customers_pii, ["session"])
		with input.statement.objects as [{"type": "table", "name": "CUSTOMERS", "access": "read"}]
}

# Data without lineage is handled as the most classified data there is.
test_result_scan_denied_unless_cleared_for_everything if {
	some msg in masking.deny with input as fixtures.result_scan
	contains(msg, "the lineage of result column * cannot be traced, so it could carry classified data you are not cleared for")
	count(masking.deny) == 0 with input as fixtures.result_scan
		with input.identity as object.union(h.admin, {"groups": ["pii-readers", "hr-readers", "pci-readers"]})
}

test_result_scan_in_a_join_is_an_oracle if {
	some msg in masking.deny with input as fixtures.result_scan_join
	startswith(msg, "the statement reads data whose lineage cannot be traced")
}

test_query_history_view_is_untraced if {
	some msg in masking.deny with input as fixtures.query_history_view
	startswith(msg, "the statement reads data whose lineage cannot be traced")
	count(masking.deny) == 0 with input as fixtures.query_history_view
		with data.snowgate.config.masking.untraced_readers as ["platform-admins"]
}

test_set_variable_from_masked_column_denied if {
	some msg in masking.deny with input as fixtures.select_customers_pii
		with input.statement.kind as "set"
	msg == "DEMO.PUBLIC.CUSTOMERS.EMAIL is masked for you and cannot be copied into another object"
}

# An expression over a masked column that can fail is an oracle.
test_fallible_expression_over_masked_column_denied if {
	out := {"name": "X", "sources": [h.col("CUSTOMERS", "SSN")], "transform": "expression", "traced": true, "may_fail": true}
	some msg in masking.deny with input as fixtures.select_customers_pii with input.statement.outputs as [out]
	msg == "result column X computes over DEMO.PUBLIC.CUSTOMERS.SSN, which is masked for you, with something that can fail: whether it fails would tell the value; leave the column out or use a TRY_ form"
	count(masking.deny) == 0 with input as fixtures.select_customers_pii with input.statement.outputs as [object.union(out, {"may_fail": false})]
	count(masking.deny) == 0 with input as fixtures.select_customers_pii with input.statement.outputs as [out]
		with input.identity as h.admin
}

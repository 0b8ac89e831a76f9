package snowgate.decision_test

import data.fixtures
import data.snowgate
import data.snowgate.test.helpers as h

test_allow if {
	snowgate.decision == {"action": "allow", "reasons": []} with input as fixtures.select_orders
}

test_allow_complex_read if {
	snowgate.decision.action == "allow" with input as fixtures.revenue_by_segment
}

test_mask if {
	d := snowgate.decision with input as fixtures.select_customers_pii
	d.action == "mask"
	d.masks == {"DEMO.PUBLIC.CUSTOMERS.EMAIL": "email_domain", "DEMO.PUBLIC.CUSTOMERS.SSN": "redact"}
	d.reasons == ["EMAIL masked (email_domain): classified pii", "SSN masked (redact): classified pii"]
}

test_deny if {
	d := snowgate.decision with input as fixtures.grant_role
	d.action == "deny"
	not d.masks
	not d.approval
}

test_require_approval if {
	d := snowgate.decision with input as fixtures.delete_without_where
	d.action == "require_approval"
	d.approval == {
		"groups": ["approvers", "data-stewards"], "count": 1, "ttl_seconds": 900,
		"why": "DELETE of every row of DEMO.PUBLIC.ORDERS (no WHERE clause)",
		"mode": "ticket",
	}
}

test_approval_mode_ticket_for_agents if {
	d := snowgate.decision with input as fixtures.delete_without_where
	d.action == "require_approval"
	d.approval.mode == "ticket"
}

test_approval_mode_per_client if {
	d := snowgate.decision with input as fixtures.delete_without_where
		with input.identity as h.analyst
		with input.session.client as "PythonConnector"
		with data.snowgate.config.approval_mode.clients as {"PythonConnector": "ticket"}
	d.approval.mode == "ticket"
}

test_approval_mode_default if {
	d := snowgate.decision with input as fixtures.delete_without_where
		with input.identity as h.analyst
		with data.snowgate.config.approval_mode.default as "hold"
	d.approval.mode == "hold"
}

test_approval_mode_unset_is_the_gateways if {
	d := snowgate.decision with input as fixtures.delete_without_where
		with input.identity as h.analyst
		with data.snowgate.config.approval_mode as {}
	not d.approval.mode
}

test_deny_beats_approval if {
	# An agent's DROP TABLE in production: the agent rule denies, the
	# production rule asks for approval.
	snowgate.decision.action == "deny" with input as fixtures.drop_table_prod with input.identity as h.agent
	count(snowgate.approvals) == 1 with input as fixtures.drop_table_prod with input.identity as h.agent
}

test_approval_beats_mask if {
	snowgate.decision.action == "require_approval" with input as fixtures.select_customers_pii
		with input.statement.flags.dynamic_sql as true
}

test_deny_beats_mask if {
	snowgate.decision.action == "deny" with input as fixtures.select_customers_pii
		with input.statement.functions as ["SYSTEM$SEND_EMAIL"]
}

test_approval_groups_intersect if {
	# production_change (data-stewards) and bulk_write (approvers, data-stewards)
	d := snowgate.decision with input as fixtures.delete_without_where
		with input.statement.kind as "truncate"
		with data.snowgate.config.approvals.bulk_write as {"groups": ["approvers", "data-stewards"], "count": 2, "ttl_seconds": 60}
	d.action == "require_approval"
	d.approval.groups == ["data-stewards"]
}

test_approval_strictest_count_and_ttl if {
	d := snowgate.decision with input as fixtures.select_customers_admin
		with input.statement.kind as "call"
		with input.statement.flags.scripting as true
		with data.snowgate.config.approvals.procedure as {"groups": ["approvers"], "count": 2, "ttl_seconds": 60}
	d.approval.count == 2
	d.approval.ttl_seconds == 60
	d.approval.groups == ["approvers"]
}

test_approval_disjoint_groups_denied if {
	d := snowgate.decision with input as fixtures.select_customers_admin
		with input.statement.kind as "call"
		with input.statement.flags.scripting as true
		with data.snowgate.config.approvals.procedure as {"groups": ["platform-admins"]}
	d.action == "deny"
	d.reasons == ["the approval rules that apply name no common approver group; ask a platform admin"]
}

test_approval_default_requirement if {
	snowgate.requirement("a_rule_without_requirements") == {"groups": ["approvers", "data-stewards"], "count": 1, "ttl_seconds": 3600}
	snowgate.requirement("admin") == {"groups": ["platform-admins"], "count": 2, "ttl_seconds": 900}
}

test_call_reasons if {
	d := snowgate.decision with input as fixtures.call_procedure
	d.reasons == ["CALL DEMO.PUBLIC.REFRESH_AGGREGATES runs statements the gateway cannot see"]
}

test_strongest_mask_wins if {
	snowgate.masks == {"A.B.C.D": "redact"} with snowgate.mask_items as {
		{"column": "A.B.C.D", "strategy": "partial"},
		{"column": "A.B.C.D", "strategy": "redact"},
	}
}

test_mask_reason_default if {
	snowgate.notices == {"A.B.C.D masked (hash)"} with snowgate.mask_items as {{"column": "A.B.C.D", "strategy": "hash"}}
}

test_unknown_mask_strategy_outranks if {
	snowgate.masks == {"A.B.C.D": "scramble"} with snowgate.mask_items as {
		{"column": "A.B.C.D", "strategy": "null"},
		{"column": "A.B.C.D", "strategy": "scramble"},
	}
}

test_incomplete_denied if {
	d := snowgate.decision with input as fixtures.garbage
	d.action == "deny"
}

test_empty_input_denied if {
	snowgate.decision.action == "deny" with input as {}
}

test_rules_name_what_fired if {
	snowgate.decision.rules == ["agents", "privileges"] with input as fixtures.grant_role with input.identity as h.agent
	snowgate.decision.rules == ["bulk_write"] with input as fixtures.delete_without_where
	snowgate.decision.rules == ["masking"] with input as fixtures.select_customers_pii
	not snowgate.decision.rules with input as fixtures.select_orders
}

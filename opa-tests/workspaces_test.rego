package snowgate.workspaces_test

import data.fixtures
import data.snowgate
import data.snowgate.test.helpers as h

# dbt rebuilds its own models without approvals ...
test_replace_in_own_workspace_allowed if {
	snowgate.decision.action == "allow" with input as fixtures.dbt_replace_own
}

test_delete_all_in_own_workspace_allowed if {
	snowgate.decision.action == "allow" with input as fixtures.dbt_delete_own
}

test_reads_outside_allowed if {
	snowgate.decision.action == "allow" with input as fixtures.dbt_read
}

# ... and changes nothing outside it.
test_replace_outside_denied if {
	d := snowgate.decision with input as fixtures.dbt_replace_outside
	d.action == "deny"
	d.reasons == ["workspace dbt may change objects only in ANALYTICS.DBT, DEV.DBT; table DEMO.PUBLIC.ORDERS_BY_STATUS is outside it"]
}

test_account_objects_are_outside if {
	snowgate.decision.action == "deny" with input as fixtures.dbt_delete_own
		with input.statement.objects as [{"type": "role", "name": "ANALYST", "access": "grant"}]
}

# The same statements from someone in no workspace need approval.
test_engineer_needs_approval if {
	snowgate.decision.action == "require_approval" with input as fixtures.dbt_replace_own with input.identity as h.engineer
	snowgate.decision.action == "require_approval" with input as fixtures.dbt_delete_own with input.identity as h.engineer
}

# A workspace that is not confined waives approvals without holding its
# callers in.
test_unconfined_workspace if {
	ws := [{"name": "team", "groups": ["dbt-service"], "schemas": ["ANALYTICS.DBT"]}]
	snowgate.decision.action == "allow" with input as fixtures.dbt_replace_outside
		with input.statement.objects as [{"type": "table", "database": "DEMO", "schema": "PUBLIC", "name": "T", "access": "write"}]
		with input.statement.effects as []
		with data.snowgate.config.workspaces as ws
}

# Protections removed in the workspace still need a data steward.
test_protection_removed_in_workspace_needs_approval if {
	d := snowgate.decision with input as fixtures.dbt_delete_own
		with input.statement.effects as [{"effect": "protection_removed", "object": {"type": "table", "database": "ANALYTICS", "schema": "DBT", "name": "ORDERS_BY_STATUS"}, "bounded": false, "how": "UNSET MASKING POLICY"}]
	d.action == "require_approval"
}

package snowgate.rules.privileges_test

import data.fixtures
import data.snowgate.rules.privileges
import data.snowgate.test.helpers as h

test_grant_denied if {
	some msg in privileges.deny with input as fixtures.grant_role
	startswith(msg, "GRANT is not allowed")
}

test_revoke_denied if {
	some msg in privileges.deny with input as fixtures.revoke_select
	startswith(msg, "REVOKE is not allowed")
}

test_use_role_accountadmin_denied if {
	"switching to role ACCOUNTADMIN is not allowed; the gateway assigns your role at login" in privileges.deny with input as fixtures.use_role_accountadmin
}

test_use_role_securityadmin_denied if {
	some msg in privileges.deny with input as fixtures.use_role_accountadmin
		with input.statement.objects as [{"type": "role", "name": "securityadmin", "access": "use"}]
	contains(msg, "SECURITYADMIN")
}

test_use_ordinary_role_allowed if {
	count(privileges.deny) == 0 with input as fixtures.use_role_analyst
}

test_role_switch_without_target_denied if {
	"switching to a role the gateway cannot identify is not allowed" in privileges.deny with input as fixtures.use_role_analyst
		with input.statement.objects as []
}

test_use_warehouse_allowed if {
	count(privileges.deny) == 0 with input as fixtures.use_warehouse
}

test_create_user_by_analyst_denied if {
	some msg in privileges.deny with input as fixtures.create_user_analyst
	msg == "CREATE USER changes account administration and is reserved for platform admins"
}

test_create_user_by_admin_needs_approval if {
	privileges.approve == {{"rule": "admin", "why": "CREATE USER by a platform admin"}} with input as fixtures.create_user
	count(privileges.deny) == 0 with input as fixtures.create_user
}

test_admin_agent_denied if {
	count(privileges.deny) == 1 with input as fixtures.create_user with input.identity as h.admin_agent
	count(privileges.approve) == 0 with input as fixtures.create_user with input.identity as h.admin_agent
}

test_admin_object_fallback_name if {
	privileges.admin_object == "account" with input as fixtures.select_orders
}

test_select_untouched if {
	count(privileges.deny) == 0 with input as fixtures.select_orders
	count(privileges.approve) == 0 with input as fixtures.select_orders
}

test_admin_category_counts if {
	count(privileges.deny) == 1 with input as fixtures.create_user_analyst with input.statement.category as "admin"
}

test_admin_object_read_is_not_admin if {
	count(privileges.deny) == 0 with input as fixtures.create_user_analyst
		with input.statement.objects as [{"type": "user", "name": "MALLORY", "access": "read"}]
}

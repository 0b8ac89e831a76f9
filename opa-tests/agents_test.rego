package snowgate.rules.agents_test

import data.fixtures
import data.snowgate.rules.agents
import data.snowgate.test.helpers as h

test_agent_ddl_denied if {
	some msg in agents.deny with input as fixtures.create_table_agent
	contains(msg, "agent sql-agent for u-1001 may read and change data but not run DDL statements (CREATE)")
}

test_agent_dcl_denied if {
	some msg in agents.deny with input as fixtures.grant_role with input.identity as h.agent
	contains(msg, "DCL")
}

test_human_ddl_not_denied_here if {
	count(agents.deny) == 0 with input as fixtures.create_table_agent with input.identity as h.analyst
}

test_agent_read_allowed if {
	count(agents.deny) == 0 with input as fixtures.select_orders
}

test_agent_write_allowed if {
	count(agents.deny) == 0 with input as fixtures.update_with_where
}

test_agent_role_switch_denied if {
	"agent sql-agent for u-1001 may not switch roles" in agents.deny with input as fixtures.use_role_agent
}

test_human_role_switch_not_denied_here if {
	count(agents.deny) == 0 with input as fixtures.use_role_analyst
}

test_categories_configurable if {
	count(agents.deny) == 0 with input as fixtures.create_table_agent
		with data.snowgate.config.agents.denied_categories as ["dcl"]
}

test_agent_use_of_own_role_allowed if {
	count(agents.deny) == 0 with input as fixtures.use_role_agent
		with input.session.role as "SYSADMIN"
		with input.statement.objects as [{"type": "role", "name": "SYSADMIN", "access": "use"}]
}

test_agent_use_of_other_role_denied if {
	"agent sql-agent for u-1001 may not switch roles" in agents.deny with input as fixtures.use_role_agent
		with input.session.role as "SNOWGATE_AGENT"
}

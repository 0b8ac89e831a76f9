# METADATA
# title: Agents read and change data, not schema or grants
# description: |
#   When an agent acts for a human (input.identity.agent), statements of the
#   categories in agents.denied_categories (DDL, grants, account
#   administration) are denied, and so is any role switch (USE ROLE of the
#   session's own role is none).
package snowgate.rules.agents

import data.snowgate.lib

deny contains msg if {
	input.identity.agent
	input.statement.category in lib.config.agents.denied_categories
	msg := sprintf("%s may read and change data but not run %s statements (%s); ask a human to run it", [lib.agent_name, upper(input.statement.category), upper(input.statement.kind)])
}

deny contains msg if {
	input.statement.flags.role_change == true
	input.identity.agent
	not same_role
	msg := sprintf("%s may not switch roles", [lib.agent_name])
}

# USE ROLE of the session's own role, as clients send at start-up (the
# Snowflake CLI uses the role the login named), switches nothing.
same_role if {
	input.statement.kind == "use"
	roles := [o | some o in input.statement.objects; o.type == "role"]
	count(roles) == 1
	count(input.statement.objects) == 1
	roles[0].name == input.session.role
}

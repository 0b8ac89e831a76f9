# METADATA
# title: Agents read and change data, not schema or grants
# description: |
#   When an agent acts for a human (input.identity.agent), statements of the
#   categories in agents.denied_categories (DDL, grants, account
#   administration) are denied, and so is any role switch.
package snowgate.rules.agents

import data.snowgate.lib

deny contains msg if {
	lib.is_agent
	lib.stmt.category in lib.config.agents.denied_categories
	msg := sprintf("%s may read and change data but not run %s statements (%s); ask a human to run it", [lib.caller, upper(lib.stmt.category), upper(lib.stmt.kind)])
}

deny contains msg if {
	lib.is_agent
	lib.stmt.flags.role_change
	msg := sprintf("%s may not switch roles", [lib.caller])
}

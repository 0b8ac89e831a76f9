# METADATA
# title: Procedures and dynamic SQL
# description: |
#   CALL runs code whose statements the gateway never sees, and EXECUTE
#   IMMEDIATE, scripting blocks and IDENTIFIER() over variables build SQL at
#   run time: all need approval (approvals.procedure, approvals.dynamic_sql).
package snowgate.rules.dynamic

import data.snowgate.lib

approve contains {"rule": "procedure", "why": sprintf("CALL %s runs statements the gateway cannot see", [procedures])} if {
	input.statement.kind == "call"
}

procedures := concat(", ", sort(names)) if {
	names := {lib.object_key(o) | some o in input.statement.objects; o.access == "call"}
	count(names) > 0
} else := "a procedure"

approve contains {"rule": "dynamic_sql", "why": "EXECUTE IMMEDIATE runs SQL built at run time"} if {
	input.statement.kind == "execute_immediate"
}

approve contains {"rule": "dynamic_sql", "why": "a Snowflake Scripting block runs statements the gateway cannot see"} if {
	input.statement.flags.scripting == true
}

approve contains {"rule": "dynamic_sql", "why": "the statement builds SQL or object names at run time"} if {
	input.statement.flags.dynamic_sql == true
	not input.statement.kind in {"execute_immediate", "call"}
	not input.statement.flags.scripting
}

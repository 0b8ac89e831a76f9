# METADATA
# title: Procedures and dynamic SQL
# description: |
#   CALL runs code whose statements the gateway never sees, and EXECUTE
#   IMMEDIATE, scripting blocks and IDENTIFIER() over variables build SQL at
#   run time: all need approval (approvals.procedure, approvals.dynamic_sql).
package snowgate.rules.dynamic

import data.snowgate.lib

approve contains {"rule": "procedure", "why": sprintf("CALL %s runs statements the gateway cannot see", [concat(", ", procedures)])} if {
	lib.stmt.kind == "call"
}

procedures contains lib.object_key(o) if {
	some o in lib.stmt.objects
	o.access == "call"
}

procedures contains "a procedure" if {
	count({o | some o in lib.stmt.objects; o.access == "call"}) == 0
}

approve contains {"rule": "dynamic_sql", "why": "EXECUTE IMMEDIATE runs SQL built at run time"} if {
	lib.stmt.kind == "execute_immediate"
}

approve contains {"rule": "dynamic_sql", "why": "a Snowflake Scripting block runs statements the gateway cannot see"} if {
	lib.stmt.flags.scripting
}

approve contains {"rule": "dynamic_sql", "why": "the statement builds SQL or object names at run time"} if {
	lib.stmt.flags.dynamic_sql
	lib.stmt.kind != "execute_immediate"
	not lib.stmt.flags.scripting
}

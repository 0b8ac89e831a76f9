# METADATA
# title: Tables that may carry classified data in any column
# description: |
#   When the gateway cannot tell which column of a table a write filled
#   with classified values (a positional INSERT into a table the upstream
#   cannot list), it records the classification for column "*" of the
#   table in data.snowgate.inherited.classifications: any column may carry
#   it. Every column read from such a table is then masked by that
#   strategy, and using one where masking cannot protect it denies, as
#   for a classified column (rules.masking), unless the caller is cleared.
package snowgate.rules.inherited

import data.snowgate.lib
import data.snowgate.rules.masking

# any_column holds, by [database, schema, table], the classification any
# column of a table may carry: read once, so that a decision over tables
# without one (nearly all) skips these rules.
any_column[[db, schema, table]] := cls if {
	some db, schema, table
	cls := lib.classifications[db][schema][table]["*"]
}

# anywhere(c) is the classification any column of c's table may carry,
# when the caller may not see it.
anywhere(c) := cls if {
	cls := any_column[[lib.database(c), lib.schema(c), c.table]]
	not cls.class in masking.cleared_classes
}

mask contains {"column": masking.column_key(c), "strategy": cls.strategy, "reason": reason} if {
	count(any_column) > 0
	some o in input.statement.outputs
	some c in o.sources
	cls := anywhere(c)
	reason := sprintf("%s masked (%s): %s.%s may carry classified %s data in any column", [c.name, cls.strategy, lib.schema(c), c.table, cls.class])
}

deny contains msg if {
	count(any_column) > 0
	some usage in ["filtered", "grouped"]
	some c in input.statement.columns[usage]
	cls := anywhere(c)
	usage in object.get(cls, "deny_in", masking.cfg.deny_in)
	msg := sprintf("%s may carry classified data and cannot be used in %s: that could rebuild its values", [masking.column_key(c), masking.usage_text[usage]])
}

deny contains msg if {
	count(any_column) > 0
	input.statement.kind in {"insert", "merge", "create", "update", "copy"}
	some c in input.statement.columns.read
	anywhere(c)
	msg := sprintf("%s may carry classified data and cannot be copied into another object", [masking.column_key(c)])
}

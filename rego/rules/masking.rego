# METADATA
# title: Column masking
# description: |
#   Classified columns (data.snowgate.config.classifications, by table and
#   column) are masked in results by their strategy unless the caller is
#   cleared for their class (clearances). Agents are not cleared unless
#   masking.agents_inherit_clearance is true. A masked column must not be
#   usable to rebuild its values: used in predicates (WHERE, JOIN ON, HAVING,
#   QUALIFY) or grouping (GROUP BY, ORDER BY, DISTINCT, PARTITION BY) it
#   denies, per masking.deny_in or the column's own deny_in; read into a
#   write (INSERT ... SELECT, CTAS, MERGE, COPY) it denies; a result whose
#   lineage cannot be traced denies; a clone of its table denies.
package snowgate.rules.masking

import data.snowgate.lib

cfg := lib.config.masking

# classified[table] are the classified columns of every table the statement
# touches, whatever the access.
classified[key] := cols if {
	some o in input.statement.objects
	key := lib.object_key(o)
	cols := lib.config.classifications[key]
}

# cleared(cls) is true when the caller may see columns of the classification.
cleared(cls) if {
	not lib.is_agent
	lib.in_group(lib.config.clearances[cls.class])
}

cleared(cls) if {
	lib.is_agent
	cfg.agents_inherit_clearance == true
	lib.in_group(lib.config.clearances[cls.class])
}

# hidden(c) is the classification of column c when the caller may not see it.
hidden(c) := cls if {
	cls := classified[lib.table_key(c)][c.name]
	not cleared(cls)
}

column_key(c) := concat(".", [lib.table_key(c), c.name])

deny_in(cls) := object.get(cls, "deny_in", cfg.deny_in)

# Masks: every result column derived from a hidden column.
mask contains {"column": column_key(c), "strategy": cls.strategy} if {
	count(classified) > 0
	some o in input.statement.outputs
	some c in o.sources
	cls := hidden(c)
}

notice contains sprintf("%s masked (%s): classified %s", [c.name, cls.strategy, cls.class]) if {
	count(classified) > 0
	some o in input.statement.outputs
	some c in o.sources
	cls := hidden(c)
}

usage_text := {
	"filtered": "WHERE, JOIN, HAVING or QUALIFY",
	"grouped": "GROUP BY, ORDER BY, DISTINCT or PARTITION BY",
}

deny contains msg if {
	count(classified) > 0
	some usage in ["filtered", "grouped"]
	some c in input.statement.columns[usage]
	cls := hidden(c)
	usage in deny_in(cls)
	msg := sprintf("%s is masked for you and cannot be used in %s: that could rebuild its values", [column_key(c), usage_text[usage]])
}

write_kinds := {"insert", "merge", "create", "update", "copy"}

deny contains msg if {
	count(classified) > 0
	input.statement.kind in write_kinds
	some c in input.statement.columns.read
	hidden(c)
	msg := sprintf("%s is masked for you and cannot be copied into another object", [column_key(c)])
}

# Tables read whose classified columns the caller may not all see: their
# results need every output traced to its sources, or the masks cannot be
# placed.
guarded contains key if {
	some key, cols in classified
	some cls in cols
	not cleared(cls)
}

deny contains msg if {
	some key in guarded
	some o in input.statement.outputs
	not o.traced
	msg := sprintf("the lineage of result column %s cannot be traced, and %s has masked columns", [o.name, key])
}

deny contains msg if {
	some key in guarded
	input.statement.kind == "select"
	count(object.get(input.statement, "outputs", [])) == 0
	msg := sprintf("the result columns cannot be traced, and %s has masked columns", [key])
}

deny contains msg if {
	some key in guarded
	input.statement.flags.clone
	msg := sprintf("%s has masked columns and cannot be cloned", [key])
}

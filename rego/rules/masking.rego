# METADATA
# title: Column masking
# description: |
#   Classified columns (data.snowgate.config.classifications, by database,
#   schema, table and column) are masked in results by their strategy unless
#   the caller is cleared for their class (clearances). Agents are not
#   cleared unless masking.agents_inherit_clearance is true. A masked column
#   must not be usable to rebuild its values: used in predicates (WHERE,
#   JOIN ON, HAVING, QUALIFY) or grouping (GROUP BY, ORDER BY, DISTINCT,
#   PARTITION BY, set operations) it denies, per masking.deny_in and the
#   column's own deny_in, which adds to it; read into a write (INSERT ... SELECT, CTAS, MERGE, COPY) it
#   denies; a result whose lineage cannot be traced denies; a clone of its
#   table denies. Data from a source without lineage (RESULT_SCAN,
#   history functions, stages, unknown functions, variables) is handled as
#   the most classified data there is: it denies unless the caller is
#   cleared for every class (or in masking.untraced_readers).
package snowgate.rules.masking

import data.snowgate.lib

cfg := lib.config.masking

classifications := lib.classifications

# guarded contains "DB.SCHEMA.TABLE" of every table the statement touches
# that has a column the caller may not see. All other rules start here, so a
# statement over unclassified tables costs one lookup per object.
guarded contains lib.object_key(o) if {
	some o in input.statement.objects
	some cls in classifications[object.get(o, "database", lib.session_database)][object.get(o, "schema", lib.session_schema)][o.name]
	not cls.class in cleared_classes
}

# A table whose database cannot be told cannot be matched to its
# classifications: deny rather than guess.
deny contains sprintf("cannot tell which database %s is in; qualify the name or set a current database", [o.name]) if {
	some o in input.statement.objects
	o.type in {"table", "view"}
	object.get(o, "database", lib.session_database) == ""
}

# The classes the caller may see.
cleared_classes contains class if {
	not input.identity.agent
	some class, groups in lib.config.clearances
	lib.in_group(groups)
}

cleared_classes contains class if {
	input.identity.agent
	cfg.agents_inherit_clearance == true
	some class, groups in lib.config.clearances
	lib.in_group(groups)
}

# hidden(c) is the classification of column c when the caller may not see
# it. Callers check count(guarded) > 0 first, so statements over
# unclassified tables never get here.
hidden(c) := cls if {
	cls := classifications[object.get(c, "database", lib.session_database)][object.get(c, "schema", lib.session_schema)][c.table][c.name]
	not cls.class in cleared_classes
}

column_key(c) := concat(".", [lib.database(c), lib.schema(c), c.table, c.name])

# Masks: every result column derived from a hidden column.
mask contains {"column": column_key(c), "strategy": cls.strategy, "reason": reason} if {
	count(guarded) > 0
	some o in input.statement.outputs
	some c in o.sources
	cls := hidden(c)
	reason := sprintf("%s masked (%s): classified %s", [c.name, cls.strategy, cls.class])
}

# An expression over a masked column that can fail (a cast, arithmetic, a
# parse, a function not known to be total) tells by failing or not what
# the mask hides, however its result is masked: IFF(ssn LIKE '1%', 1/0, 0).
deny contains msg if {
	count(guarded) > 0
	some o in input.statement.outputs
	o.may_fail == true
	o.transform != "copy"
	some c in o.sources
	hidden(c)
	msg := sprintf("result column %s computes over %s, which is masked for you, with something that can fail: whether it fails would tell the value; leave the column out or use a TRY_ form", [o.name, column_key(c)])
}

usage_text := {
	"filtered": "WHERE, JOIN, HAVING or QUALIFY",
	"grouped": "GROUP BY, ORDER BY, DISTINCT or PARTITION BY",
}

deny contains msg if {
	count(guarded) > 0
	some usage in ["filtered", "grouped"]
	some c in input.statement.columns[usage]
	cls := hidden(c)
	denied_in(cls, usage)
	msg := sprintf("%s is masked for you and cannot be used in %s: that could rebuild its values", [column_key(c), usage_text[usage]])
}

# A column's own deny_in adds to masking.deny_in: it can make a usage
# stricter, never looser.
denied_in(_, usage) if usage in deny_in

# Every usage, when the configuration names none: a missing key must not
# turn the oracle rules off.
deny_in := object.get(cfg, "deny_in", ["filtered", "grouped"])

denied_in(cls, usage) if usage in object.get(cls, "deny_in", [])

deny contains msg if {
	count(guarded) > 0
	input.statement.kind in {"insert", "merge", "create", "update", "copy", "set"}
	some c in input.statement.columns.read
	hidden(c)
	msg := sprintf("%s is masked for you and cannot be copied into another object", [column_key(c)])
}

# Data whose lineage cannot be traced (RESULT_SCAN of a result snowgate did
# not record, history and metadata table functions, stages, functions that
# are not known built-ins, session variables) may carry anything the
# session could read: unless the caller is cleared for every class of
# classified data (or is in masking.untraced_readers), it is handled as the
# most classified of it, which no mask can follow, and denies.
deny contains msg if {
	untraced_source
	not untraced_reader
	some o in input.statement.outputs
	not o.traced
	msg := sprintf("the lineage of result column %s cannot be traced, so it could carry classified data you are not cleared for (%s)", [o.name, untraced_hint])
}

# Used anywhere else (a filter, a join, an aggregate, a write, a variable),
# data without lineage is an oracle on what it holds.
deny contains msg if {
	untraced_source
	not untraced_reader
	every o in outputs {
		o.traced
	}
	msg := sprintf("the statement reads data whose lineage cannot be traced, so it could carry classified data you are not cleared for (%s)", [untraced_hint])
}

# The analyser sets the flag for RESULT_SCAN, history functions and
# Snowflake's usage views (SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY, ...),
# stages, unknown functions and variables.
untraced_source if input.statement.flags.untraced_source == true

# A table with masked columns whose result columns cannot be told apart
# ('*' over a table the catalog does not know).
deny contains msg if {
	some key in guarded
	some o in input.statement.outputs
	not o.traced
	msg := sprintf("the lineage of result column %s cannot be traced, and %s has masked columns", [o.name, key])
}

deny contains msg if {
	some key in guarded
	input.statement.kind == "select"
	count(outputs) == 0
	msg := sprintf("the result columns cannot be traced, and %s has masked columns", [key])
}

# The statement's result columns; none for a statement without a result.
default outputs := []

outputs := input.statement.outputs

untraced_hint := "RESULT_SCAN of a result snowgate did not return to you, query or access history, a stage, a function the analyser does not know, or a variable"

# All classes of classified data, configured and inherited.
all_classes contains cls.class if {
	some db, sch, table, column
	cls := classifications[db][sch][table][column]
}

untraced_reader if {
	every class in all_classes {
		class in cleared_classes
	}
}

untraced_reader if lib.in_group(object.get(cfg, "untraced_readers", []))

deny contains msg if {
	some key in guarded
	input.statement.flags.clone == true
	msg := sprintf("%s has masked columns and cannot be cloned", [key])
}

# METADATA
# title: Shared helpers
# description: |
#   Reads input and data.snowgate.config for the rule packages: who is
#   calling, how objects and columns are named, and which of them are in
#   production. Names are compared as the analyser resolved them (unquoted
#   identifiers upper-case, quoted ones as written), which is how
#   data.json names them too.
package snowgate.lib

config := data.snowgate.config

stmt := input.statement

# The caller is an agent acting for a human.
is_agent if input.identity.agent

# The name to show for the caller in reasons.
caller := sprintf("agent %s for %s", [input.identity.agent.id, input.identity.subject]) if {
	is_agent
} else := input.identity.subject

# in_group is true when the caller belongs to one of groups.
in_group(groups) if {
	some g in input.identity.groups
	g in groups
}

# database(o) is the object's (or column's) database, defaulting to the
# session's. Empty when neither is known.
database(o) := o.database if o.database != ""

else := upper(input.session.database) if input.session.database != ""

else := ""

schema(o) := o.schema if o.schema != ""

else := upper(input.session.schema) if input.session.schema != ""

else := ""

# object_key(o) is "DB.SCHEMA.NAME" of an object.
object_key(o) := concat(".", [database(o), schema(o), o.name])

# table_key(c) is "DB.SCHEMA.TABLE" of a column.
table_key(c) := concat(".", [database(c), schema(c), c.table])

# production(o) is true when the object lives in a production database, or
# when its database cannot be told (fail closed).
production(o) if database(o) in config.production_databases

production(o) if database(o) == ""

# objects_with(access) are the statement's objects accessed that way.
objects_with(access) := [o | some o in input.statement.objects; o.access == access]

functions contains upper(f) if some f in input.statement.functions


# METADATA
# title: Shared helpers
# description: |
#   Reads input and data.snowgate.config for the rule packages: who is
#   calling, how objects are named, and which are in production. Names are
#   compared as the analyser resolved them (unquoted identifiers upper-case,
#   quoted ones as written), which is how data.json names them too. An
#   object or column without a database or schema is in the session's.
package snowgate.lib

config := data.snowgate.config

# The classifications that copies of classified columns inherited: the
# gateway records them when a write (CREATE TABLE AS, CREATE VIEW, INSERT
# ... SELECT, MERGE, CLONE, RENAME, ...) carries classified values into
# another table or view, and keeps them here, in the shape of
# config.classifications. Each entry also says where it came from: "from"
# (the source columns, DB.SCHEMA.TABLE.COLUMN) and "record" (the newest
# record behind it; "records" lists them all). Column "*" means any column
# of the table may carry it.
default inherited_classifications := {}

inherited_classifications := data.snowgate.inherited.classifications

# classifications is every classified column: the configured ones and the
# inherited ones. A column listed in both keeps its configured entry, whole.
# Without inherited ones (the common case) the configured ones are used as
# they are, rather than merged anew on every decision.
classifications := config.classifications if count(inherited_classifications) == 0

else := object.union(json.remove(inherited_classifications, configured_and_inherited), config.classifications)

configured_and_inherited contains [db, schema, table, column] if {
	some db, schema, table, column
	config.classifications[db][schema][table][column]
	inherited_classifications[db][schema][table][column]
}

# The session's database and schema, for names the analyser left unqualified.
# Both are "" when unknown, never undefined: an undefined default would make
# every lookup that uses it undefined, and the rules that guard with them
# would silently not apply.
default session_database := ""

session_database := upper(input.session.database)

default session_schema := ""

session_schema := upper(input.session.schema)

# The name to show for an agent in reasons: the agent and its human.
agent_name := sprintf("agent %s for %s", [input.identity.agent.id, input.identity.subject])

# in_group is true when the caller belongs to one of groups.
in_group(groups) if {
	some g in input.identity.groups
	g in groups
}

# database(o) is the database of an object or column, or "" if unknown.
database(o) := object.get(o, "database", session_database)

schema(o) := object.get(o, "schema", session_schema)

# Object types that live in the account rather than in a schema.
account_types := {
	"account", "database", "role", "user", "warehouse", "integration", "location", "share",
	"network_policy", "resource_monitor", "security_integration", "replication_group", "failover_group",
}

# object_key(o) is the object's full name: "DB.SCHEMA.NAME" for objects in
# a schema, "DB.NAME" for a schema, and the bare name for account objects.
object_key(o) := o.name if {
	o.type in account_types
} else := concat(".", [database(o), o.name]) if {
	o.type == "schema"
} else := concat(".", [database(o), schema(o), o.name])

# home_database(o) is the database an object is in (a database is in itself).
home_database(o) := o.name if o.type == "database"

else := database(o)

# production(o) is true when the object lives in a production database, or
# when its database cannot be told (fail closed).
production(o) if upper(home_database(o)) in config.production_databases

production(o) if home_database(o) == ""

# Workspaces (config.workspaces) are schemas a group builds in on its own:
# a tool such as dbt creates, replaces, truncates and rebuilds its models
# there without approvals. in_own_workspace(o) is true when the object is
# in a workspace of one of the caller's groups (a schema is in itself).
# Names compare as resolved: workspace schemas are "DB.SCHEMA", upper-case
# for unquoted names.
default workspaces := []

workspaces := config.workspaces

in_own_workspace(o) if {
	some w in workspaces
	in_group(w.groups)
	workspace_schema(o) in w.schemas
}

workspace_schema(o) := concat(".", [database(o), o.name]) if o.type == "schema"

else := concat(".", [database(o), schema(o)]) if not o.type in account_types

# sql_string(s) is s as a Snowflake string literal: backslashes and quotes
# escaped, so that no value (a claim, a group) can end the literal.
sql_string(s) := sprintf("'%s'", [replace(replace(s, `\`, `\\`), "'", "''")])

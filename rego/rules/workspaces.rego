# METADATA
# title: Confined workspaces
# description: |
#   A workspace (config.workspaces) whose "confined" is true holds its
#   callers in: an identity in one of its groups may read as the other
#   rules let it, but may create, change, drop or write no object outside
#   the workspace's schemas. This is how a build tool's service identity
#   (dbt) rebuilds its own models freely and still cannot touch anything
#   else. Objects outside any schema (warehouses, roles, users, databases)
#   are outside every workspace, except that USE is not a change.
package snowgate.rules.workspaces

import data.snowgate.lib

changes := {"write", "delete", "create", "drop", "alter", "grant"}

deny contains msg if {
	some w in lib.workspaces
	object.get(w, "confined", false) == true
	lib.in_group(w.groups)
	some o in input.statement.objects
	o.access in changes
	not inside(w, o)
	msg := sprintf("workspace %s may change objects only in %s; %s %s is outside it", [
		w.name, concat(", ", sort(w.schemas)), o.type, lib.object_key(o),
	])
}

inside(w, o) if lib.workspace_schema(o) in w.schemas

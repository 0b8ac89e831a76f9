# METADATA
# title: Destructive changes to production
# description: |
#   In the databases listed in production_databases (and wherever the
#   database cannot be told): dropping the types in
#   production.deny_drop_types (databases, schemas) is denied; DROP, TRUNCATE
#   and CREATE OR REPLACE of other objects, and ALTER of the types in
#   production.approve_alter_types, need approval (approvals.production_change),
#   except in the caller's own workspace (lib.in_own_workspace).
package snowgate.rules.production

import data.snowgate.lib

cfg := lib.config.production

deny contains msg if {
	input.statement.kind == "drop"
	some o in input.statement.objects
	o.access == "drop"
	o.type in cfg.deny_drop_types
	lib.production(o)
	msg := sprintf("dropping the production %s %s is not allowed through the gateway", [o.type, lib.object_key(o)])
}

approve contains {"rule": "production_change", "why": why} if {
	input.statement.kind == "drop"
	some o in input.statement.objects
	o.access == "drop"
	not o.type in cfg.deny_drop_types
	lib.production(o)
	not lib.in_own_workspace(o)
	why := sprintf("DROP %s %s in production", [upper(o.type), lib.object_key(o)])
}

approve contains {"rule": "production_change", "why": why} if {
	input.statement.kind == "truncate"
	some o in input.statement.objects
	o.access in {"delete", "write", "drop"}
	lib.production(o)
	not lib.in_own_workspace(o)
	why := sprintf("TRUNCATE %s in production", [lib.object_key(o)])
}

approve contains {"rule": "production_change", "why": why} if {
	input.statement.flags.create_or_replace == true
	some o in input.statement.objects
	o.access == "create"
	lib.production(o)
	not lib.in_own_workspace(o)
	why := sprintf("CREATE OR REPLACE %s %s in production replaces the existing object", [upper(o.type), lib.object_key(o)])
}

approve contains {"rule": "production_change", "why": why} if {
	input.statement.kind == "alter"
	some o in input.statement.objects
	o.access == "alter"
	o.type in cfg.approve_alter_types
	lib.production(o)
	not lib.in_own_workspace(o)
	why := sprintf("ALTER %s %s in production", [upper(o.type), lib.object_key(o)])
}

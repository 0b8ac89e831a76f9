# METADATA
# title: Grants, roles and account administration
# description: |
#   GRANT and REVOKE are denied: privileges change through the security
#   team's own process, not through a data session. Switching to a
#   privileged role (privileges.privileged_roles, e.g. ACCOUNTADMIN) is
#   denied, and so is a role switch whose target cannot be told. Creating,
#   altering or dropping users, roles, integrations, shares and account
#   settings (privileges.admin_object_types) is denied,
#   except for a human in privileges.admin_groups, who needs approval
#   (approvals.admin).
package snowgate.rules.privileges

import data.snowgate.lib

cfg := lib.config.privileges

deny contains "GRANT is not allowed through the gateway: request access changes through the security team" if {
	input.statement.kind == "grant"
}

deny contains "REVOKE is not allowed through the gateway: request access changes through the security team" if {
	input.statement.kind == "revoke"
}

role_targets contains upper(o.name) if {
	some o in input.statement.objects
	o.type == "role"
}

deny contains msg if {
	input.statement.flags.role_change == true
	some r in role_targets
	r in cfg.privileged_roles
	msg := sprintf("switching to role %s is not allowed; the gateway assigns your role at login", [r])
}

deny contains "switching to a role the gateway cannot identify is not allowed" if {
	input.statement.flags.role_change == true
	count(role_targets) == 0
}

admin_statement if {
	input.statement.category == "ddl"
	admin_object_changed
}

admin_statement if {
	input.statement.category == "admin"
	admin_object_changed
}

admin_object_changed if {
	some o in input.statement.objects
	o.type in cfg.admin_object_types
	o.access in {"create", "alter", "drop"}
}

admin_object := o.type if {
	some o in input.statement.objects
	o.type in cfg.admin_object_types
} else := "account"

deny contains msg if {
	admin_statement
	not admin_human
	msg := sprintf("%s %s changes account administration and is reserved for platform admins", [upper(input.statement.kind), upper(admin_object)])
}

approve contains {"rule": "admin", "why": sprintf("%s %s by a platform admin", [upper(input.statement.kind), upper(admin_object)])} if {
	admin_statement
	admin_human
}

admin_human if {
	not input.identity.agent
	lib.in_group(cfg.admin_groups)
}

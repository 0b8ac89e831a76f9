# For the REST API tests: SHOW and DESCRIBE, what the REST API's reads run
# as, are for platform admins only; every other statement is allowed.
package snowgate

catalog_read if input.statement.kind in {"show", "describe"}

decision := {"action": "deny", "reasons": ["catalog reads are for platform admins"]} if {
	catalog_read
	not "platform-admins" in input.identity.groups
} else := {"action": "allow", "reasons": ["everything else is allowed"]}

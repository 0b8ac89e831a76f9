# Reads of CUSTOMERS need an approval and, once approved, still run with
# EMAIL redacted: for the test that an approval does not lift masks.
package snowgate

reads_customers if {
	input.statement.kind == "select"
	some o in input.statement.objects
	o.name == "CUSTOMERS"
}

decision := {
	"action": "require_approval",
	"reasons": ["customer reads need approval"],
	"approval": {"groups": ["approvers"], "count": 1, "ttl_seconds": 600, "why": "customer reads need approval"},
	"masks": {"DEMO.PUBLIC.CUSTOMERS.EMAIL": "redact"},
} if reads_customers

else := {"action": "allow", "reasons": []}

# For `snowgate bench`: reads of DEMO.PUBLIC.WIDE are masked column by
# column with every strategy (4 of its 10 columns); everything else,
# DEMO.PUBLIC.WIDE_PLAIN with the same rows included, is allowed.
package snowgate

wide := "DEMO.PUBLIC.WIDE"

reads_wide if {
	input.statement.kind == "select"
	some o in input.statement.objects
	concat(".", [o.database, o.schema, o.name]) == wide
}

decision := {"action": "mask", "reasons": ["wide table masked"], "masks": {
	"DEMO.PUBLIC.WIDE.EMAIL": "email_domain",
	"DEMO.PUBLIC.WIDE.PHONE": "partial",
	"DEMO.PUBLIC.WIDE.SSN": "redact",
	"DEMO.PUBLIC.WIDE.ACCOUNT": "hash",
}} if reads_wide

else := {"action": "allow", "reasons": []}

# For TestBatches_sameAsRows: reads of DEMO.PUBLIC.TYPED are masked with
# every strategy over columns of every type; everything else is allowed.
package snowgate

typed := "DEMO.PUBLIC.TYPED"

reads_typed if {
	input.statement.kind == "select"
	some o in input.statement.objects
	concat(".", [o.database, o.schema, o.name]) == typed
}

decision := {"action": "mask", "reasons": ["typed table masked"], "masks": {
	"DEMO.PUBLIC.TYPED.MN": "hash",
	"DEMO.PUBLIC.TYPED.MD": "partial",
	"DEMO.PUBLIC.TYPED.MDT": "hash",
	"DEMO.PUBLIC.TYPED.MTS": "partial",
	"DEMO.PUBLIC.TYPED.MTM": "partial",
	"DEMO.PUBLIC.TYPED.MR": "partial",
	"DEMO.PUBLIC.TYPED.MS": "partial",
	"DEMO.PUBLIC.TYPED.ME": "email_domain",
	"DEMO.PUBLIC.TYPED.MF": "null",
	"DEMO.PUBLIC.TYPED.MBL": "hash",
	"DEMO.PUBLIC.TYPED.MB": "partial",
	"DEMO.PUBLIC.TYPED.MI": "redact",
}} if reads_typed

else := {"action": "allow", "reasons": []}

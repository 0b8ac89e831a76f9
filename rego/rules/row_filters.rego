# METADATA
# title: Row filters
# description: |
#   config.row_filters names tables ("DB.SCHEMA.TABLE") whose rows a caller
#   sees only in part. Each entry may hold:
#     where          a SQL predicate on the table's columns
#     column         a column compared with the caller's values:
#                    column IN ('v1', 'v2'); no values, no rows
#     values_from    where the caller's values come from: "claim:NAME" (a
#                    string or a list of strings in the token), or "groups"
#                    (the caller's groups)
#     group_prefix   with values_from "groups": only groups that start with
#                    it, with it removed ("region-EU" -> 'EU')
#     exempt_groups  callers in one of these see every row
#     agents_only    true: the filter applies to agents only
#   Both where and column: both hold. The gateway places the filter on every
#   read of the table (FROM, JOIN, subqueries, CTEs, set operations) and on
#   UPDATE, DELETE and MERGE of it, and refuses a statement where it cannot
#   (a view that may read the table, a CLONE, a procedure, ...).
package snowgate.rules.row_filters

import data.snowgate.lib

default cfg := {}

cfg := lib.config.row_filters

# enabled: some table is filtered. It reads no input, so with no filter set
# the claims, which change with every token, stay out of the key of the
# engine's memo of decisions (lib/quotas.rego's enabled says more).
enabled if count(cfg) > 0

row_filters[table] := concat(" AND ", parts) if {
	enabled
	some table, f in cfg
	applies(f)
	parts := array.concat(where_part(f), match_part(f))
	count(parts) > 0
}

applies(f) if {
	not exempt(f)
	not object.get(f, "agents_only", false)
}

applies(f) if {
	not exempt(f)
	object.get(f, "agents_only", false)
	input.identity.agent
}

exempt(f) if lib.in_group(object.get(f, "exempt_groups", []))

where_part(f) := [f.where] if f.where != ""

else := []

match_part(f) := [sprintf("%s IN (%s)", [f.column, concat(", ", [lib.sql_string(v) | some v in vs])])] if {
	vs := caller_values(f)
	count(vs) > 0
} else := ["FALSE"] if f.column

else := []

# caller_values is the sorted set of the caller's values for f.column.
caller_values(f) := sort({v | some v in claim_values(trim_prefix(f.values_from, "claim:"))}) if {
	f.column
	startswith(f.values_from, "claim:")
}

caller_values(f) := sort({trim_prefix(g, prefix) |
	some g in input.identity.groups
	startswith(g, prefix)
}) if {
	f.column
	f.values_from == "groups"
	prefix := object.get(f, "group_prefix", "")
}

claim_values(name) := [c] if {
	c := input.identity.claims[name]
	is_string(c)
} else := [v | some v in input.identity.claims[name]; is_string(v)] if {
	is_array(input.identity.claims[name])
} else := []

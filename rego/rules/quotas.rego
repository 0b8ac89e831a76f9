# METADATA
# title: Quotas
# description: |
#   Per caller, per agent and per group (config.quotas, lib/quotas.rego),
#   read from input.usage:
#     statements_per_minute reached: the statement is denied;
#     rows_per_hour or bytes_per_day spent: denied; otherwise what is left
#     of them caps the statement's result (decision limits): the gateway
#     cuts a result that passes it with an error;
#     approval_after_rows_per_hour reached: the statement needs
#     approvals.quota (e.g. an agent that has read 10,000 rows this hour);
#     counts that cannot be read while a limit applies: denied.
#   Sessions are limited at login (connect.rego).
package snowgate.rules.quotas

import data.snowgate.lib.quotas

deny contains sprintf("%s limit of %d statements a minute is reached; wait a minute", [s.name, n]) if {
	some s in quotas.scopes
	n := quotas.limit(s, "statements_per_minute")
	s.counts.statements_minute >= n
}

deny contains sprintf("%s limit of %d rows returned an hour is spent; wait for the next hour", [s.name, n]) if {
	some s in quotas.scopes
	n := quotas.limit(s, "rows_per_hour")
	s.counts.rows_hour >= n
}

deny contains sprintf("%s limit of %d bytes returned a day is spent; wait for the next day", [s.name, n]) if {
	some s in quotas.scopes
	n := quotas.limit(s, "bytes_per_day")
	s.counts.bytes_day >= n
}

deny contains "the quota counters cannot be read, and a quota applies to you; try again shortly" if quotas.unavailable

approve contains {"rule": "quota", "why": sprintf("%s %d rows this hour passed the %d after which statements need approval", [s.name, s.counts.rows_hour, n])} if {
	some s in quotas.scopes
	n := quotas.limit(s, "approval_after_rows_per_hour")
	s.counts.rows_hour >= n
}

# What is left of the row and byte budgets caps the result.
limits[k] := min(left) if {
	quotas.enabled
	some k in {"rows", "bytes"}
	left := [x | some s in quotas.scopes; x := remaining(s, k)]
	count(left) > 0
}

remaining(s, k) := quotas.limit(s, budget[k]) - s.counts[counted[k]]

budget := {"rows": "rows_per_hour", "bytes": "bytes_per_day"}

counted := {"rows": "rows_hour", "bytes": "bytes_day"}

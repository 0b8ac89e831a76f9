package snowgate.rules.row_filters_test

import data.fixtures
import data.snowgate
import data.snowgate.lib
import data.snowgate.rules.row_filters

filtered := object.union(data.snowgate.config, {"row_filters": {
	"DEMO.PUBLIC.ORDERS": {"column": "REGION", "values_from": "claim:region", "exempt_groups": ["data-stewards"]},
	"DEMO.PUBLIC.EVENTS": {"where": "KIND <> 'internal'", "agents_only": true},
	"DEMO.PUBLIC.CUSTOMERS": {"column": "SEGMENT", "values_from": "groups", "group_prefix": "segment-"},
}})

agent := fixtures.select_orders

human := json.remove(fixtures.select_orders, ["identity/agent"])

with_claim(x, v) := json.patch(x, [{"op": "add", "path": "/identity/claims/region", "value": v}])

with_groups(x, gs) := json.patch(x, [{"op": "replace", "path": "/identity/groups", "value": gs}])

test_no_config_no_filters if {
	d := snowgate.decision with input as agent
	not d.row_filters
}

test_claim_string if {
	d := snowgate.decision with input as with_claim(agent, "EU") with data.snowgate.config as filtered
	d.action == "allow"
	d.row_filters["DEMO.PUBLIC.ORDERS"] == "REGION IN ('EU')"
}

test_claim_list_sorted if {
	f := row_filters.row_filters with input as with_claim(agent, ["US", "EU", 7]) with data.snowgate.config as filtered
	f["DEMO.PUBLIC.ORDERS"] == "REGION IN ('EU', 'US')"
}

test_no_claim_no_rows if {
	f := row_filters.row_filters with input as agent with data.snowgate.config as filtered
	f["DEMO.PUBLIC.ORDERS"] == "FALSE"
}

test_claim_cannot_end_the_literal if {
	f := row_filters.row_filters with input as with_claim(agent, `EU\' OR 1=1 --`) with data.snowgate.config as filtered
	f["DEMO.PUBLIC.ORDERS"] == `REGION IN ('EU\\'' OR 1=1 --')`
}

test_sql_string if {
	lib.sql_string("it's") == "'it''s'"
	lib.sql_string(`a\b`) == `'a\\b'`
}

test_exempt_group if {
	f := row_filters.row_filters with input as with_groups(agent, ["analysts", "data-stewards"]) with data.snowgate.config as filtered
	not f["DEMO.PUBLIC.ORDERS"]
}

test_agents_only if {
	f := row_filters.row_filters with input as agent with data.snowgate.config as filtered
	f["DEMO.PUBLIC.EVENTS"] == "KIND <> 'internal'"
	g := row_filters.row_filters with input as with_claim(human, "EU") with data.snowgate.config as filtered
	not g["DEMO.PUBLIC.EVENTS"]
	g["DEMO.PUBLIC.ORDERS"] == "REGION IN ('EU')"
}

test_groups_with_prefix if {
	f := row_filters.row_filters with input as with_groups(agent, ["segment-SMB", "analysts", "segment-ENT"]) with data.snowgate.config as filtered
	f["DEMO.PUBLIC.CUSTOMERS"] == "SEGMENT IN ('ENT', 'SMB')"
}

test_where_and_column_both_hold if {
	cfg := object.union(data.snowgate.config, {"row_filters": {"DEMO.PUBLIC.ORDERS": {"where": "AMOUNT < 100", "column": "REGION", "values_from": "claim:region"}}})
	f := row_filters.row_filters with input as with_claim(agent, "EU") with data.snowgate.config as cfg
	f["DEMO.PUBLIC.ORDERS"] == "AMOUNT < 100 AND REGION IN ('EU')"
}

test_a_deny_carries_no_filters if {
	d := snowgate.decision with input as with_claim(fixtures.garbage, "EU") with data.snowgate.config as filtered
	d.action == "deny"
	not d.row_filters
}

test_filters_ride_with_limits if {
	cfg := object.union(filtered, {"quotas": {"subjects": {}, "groups": {}, "agents": {"rows_per_hour": 100}}})
	usage := {"statements_minute": 0, "rows_hour": 40, "bytes_day": 0, "sessions": 1}
	d := snowgate.decision with input as with_claim(agent, "EU") with input.usage as {"subject": usage, "agent": usage, "groups": {}} with data.snowgate.config as cfg
	d.limits == {"rows": 60}
	d.row_filters["DEMO.PUBLIC.ORDERS"] == "REGION IN ('EU')"
}

test_two_packages_on_one_table_both_hold if {
	d := snowgate.decision with input as with_claim(agent, "EU") with data.snowgate.config as filtered with data.snowgate.rules.extra.row_filters as {"DEMO.PUBLIC.ORDERS": "AMOUNT < 100"}
	d.row_filters["DEMO.PUBLIC.ORDERS"] == "(AMOUNT < 100) AND (REGION IN ('EU'))"
}

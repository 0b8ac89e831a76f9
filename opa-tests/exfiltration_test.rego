package snowgate.rules.exfiltration_test

import data.fixtures
import data.snowgate.rules.exfiltration
import data.snowgate.test.helpers as h

test_put_denied if {
	some msg in exfiltration.deny with input as fixtures.put_file
	startswith(msg, "PUT moves files")
}

test_get_denied if {
	some msg in exfiltration.deny with input as fixtures.get_file
	startswith(msg, "GET moves files")
}

test_copy_to_user_stage_denied if {
	"COPY INTO the user stage (@~) is not allowed: results leave only through the gateway" in exfiltration.deny with input as fixtures.copy_to_user_stage
}

test_copy_to_s3_denied if {
	"COPY INTO an external location is not allowed: results leave only through the gateway" in exfiltration.deny with input as fixtures.copy_to_s3
}

test_copy_to_named_stage_needs_approval if {
	exfiltration.approve == {{"rule": "stage_unload", "why": "COPY INTO a stage writes query results outside the gateway"}} with input as fixtures.copy_to_named_stage
	count(exfiltration.deny) == 0 with input as fixtures.copy_to_named_stage
}

test_copy_unload_without_objects if {
	exfiltration.unload with input as fixtures.copy_to_named_stage with input.statement.objects as []
}

test_copy_from_internal_stage_allowed if {
	count(exfiltration.deny) == 0 with input as fixtures.copy_from_stage
	count(exfiltration.approve) == 0 with input as fixtures.copy_from_stage
}

test_copy_from_s3_needs_approval if {
	exfiltration.approve == {{"rule": "external_load", "why": "loading data from an external location"}} with input as fixtures.copy_from_s3
}

test_copy_from_s3_by_engineer_allowed if {
	count(exfiltration.approve) == 0 with input as fixtures.copy_from_s3 with input.identity as h.engineer
}

test_create_external_stage_denied if {
	some msg in exfiltration.deny with input as fixtures.create_stage_external
	startswith(msg, "CREATE of an object that points to an external location")
}

test_alter_to_external_denied if {
	some msg in exfiltration.deny with input as fixtures.alter_table_prod with input.statement.flags.external_location as true
	startswith(msg, "ALTER of an object")
}

test_external_function_denied if {
	"external functions send data outside Snowflake and are not allowed" in exfiltration.deny with input as fixtures.external_function
}

test_send_email_function_denied if {
	"SYSTEM$SEND_EMAIL sends email, which takes data or files outside the gateway; it is not allowed" in exfiltration.deny with input as fixtures.select_send_email
}

test_send_email_procedure_denied if {
	"SYSTEM$SEND_EMAIL sends email, which takes data or files outside the gateway; it is not allowed" in exfiltration.deny with input as fixtures.send_email
}

test_presigned_url_denied if {
	"GET_PRESIGNED_URL hands out a URL that downloads a staged file directly, which takes data or files outside the gateway; it is not allowed" in exfiltration.deny with input as fixtures.presigned_url
}

test_known_system_function_allowed if {
	count(exfiltration.deny) == 0 with input as fixtures.system_typeof
	count(exfiltration.approve) == 0 with input as fixtures.system_typeof
}

test_unknown_system_function_needs_approval if {
	some a in exfiltration.approve with input as fixtures.system_unknown
	a.rule == "system_function"
	contains(a.why, "SYSTEM$ESTIMATE_SEARCH_OPTIMIZATION_COSTS")
}

test_plain_select_untouched if {
	count(exfiltration.deny) == 0 with input as fixtures.revenue_by_segment
	count(exfiltration.approve) == 0 with input as fixtures.revenue_by_segment
}

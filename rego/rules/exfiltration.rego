# METADATA
# title: Exfiltration
# description: |
#   Data leaves only as a result set, through the gateway's masking. Denied:
#   PUT and GET; COPY INTO an external location or the user stage; creating
#   or altering objects that point outside (external stages, integrations);
#   external functions; functions that send data or hand out file URLs
#   (exfiltration.denied_functions, with why). COPY INTO any other stage, and loads
#   from an external location by anyone outside exfiltration.ingest_groups,
#   need approval; SYSTEM$ functions that are neither allowed
#   (exfiltration.allowed_system_functions) nor denied need approval.
package snowgate.rules.exfiltration

import data.snowgate.lib

cfg := lib.config.exfiltration

deny contains "PUT moves files between the client and a stage outside the gateway and is not allowed" if {
	input.statement.kind == "put"
}

deny contains "GET moves files between the client and a stage outside the gateway and is not allowed" if {
	input.statement.kind == "get"
}

# unload is true for COPY INTO <location>: a stage is written, or no table is.
unload if {
	input.statement.kind == "copy"
	some o in input.statement.objects
	o.type in {"stage", "location"}
	o.access == "write"
}

unload if {
	input.statement.kind == "copy"
	not table_written
}

table_written if {
	some o in input.statement.objects
	o.type in {"table", "view"}
	o.access == "write"
}

deny contains "COPY INTO an external location is not allowed: results leave only through the gateway" if {
	input.statement.flags.external_location == true
	unload
}

deny contains "COPY INTO the user stage (@~) is not allowed: results leave only through the gateway" if {
	input.statement.flags.user_stage == true
	unload
}

approve contains {"rule": "stage_unload", "why": "COPY INTO a stage writes query results outside the gateway"} if {
	unload
	not input.statement.flags.external_location
	not input.statement.flags.user_stage
}

approve contains {"rule": "external_load", "why": "loading data from an external location"} if {
	input.statement.kind == "copy"
	input.statement.flags.external_location == true
	not unload
	not ingest_human
}

ingest_human if {
	not input.identity.agent
	lib.in_group(cfg.ingest_groups)
}

deny contains "CREATE of an object that points to an external location is not allowed through the gateway" if {
	input.statement.kind == "create"
	input.statement.flags.external_location == true
}

deny contains "ALTER of an object to point to an external location is not allowed through the gateway" if {
	input.statement.kind == "alter"
	input.statement.flags.external_location == true
}

deny contains "external functions send data outside Snowflake and are not allowed" if {
	input.statement.flags.external_function == true
}

# Functions called (upper-case, as the analyser reports them), and
# procedures called (CALL SYSTEM$SEND_EMAIL(...)).
called contains f if some f in input.statement.functions

called contains o.name if {
	input.statement.kind == "call"
	some o in input.statement.objects
	o.access == "call"
}

deny contains sprintf("%s %s, which takes data or files outside the gateway; it is not allowed", [f, why]) if {
	some f in called
	why := cfg.denied_functions[f]
}

approve contains {"rule": "system_function", "why": sprintf("%s is a system function the policy does not know", [f])} if {
	input.statement.flags.system_function == true
	some f in called
	startswith(f, "SYSTEM$")
	not cfg.denied_functions[f]
	not cfg.allowed_system_functions[f]
}

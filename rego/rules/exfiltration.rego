# METADATA
# title: Exfiltration
# description: |
#   Data leaves only as a result set, through the gateway's masking. Denied:
#   PUT and GET; COPY INTO an external location or the user stage; creating
#   objects that point outside (external stages, integrations); external
#   functions; functions that send data or hand out file URLs
#   (exfiltration.denied_functions). COPY INTO any other stage and loads from
#   an external location need approval; SYSTEM$ functions that are neither
#   allowed nor denied need approval.
package snowgate.rules.exfiltration

import data.snowgate.lib

cfg := lib.config.exfiltration

flags := lib.stmt.flags

deny contains msg if {
	lib.stmt.kind in {"put", "get"}
	msg := sprintf("%s moves files between the client and a stage outside the gateway and is not allowed", [upper(lib.stmt.kind)])
}

# unload is true for COPY INTO <location>: a stage is written, or no table is.
unload if {
	lib.stmt.kind == "copy"
	some o in lib.stmt.objects
	o.type in {"stage", "location"}
	o.access == "write"
}

unload if {
	lib.stmt.kind == "copy"
	not table_written
}

table_written if {
	some o in lib.stmt.objects
	o.type in {"table", "view"}
	o.access == "write"
}

deny contains "COPY INTO an external location is not allowed: results leave only through the gateway" if {
	unload
	flags.external_location
}

deny contains "COPY INTO the user stage (@~) is not allowed: results leave only through the gateway" if {
	unload
	flags.user_stage
}

approve contains {"rule": "stage_unload", "why": "COPY INTO a stage writes query results outside the gateway"} if {
	unload
	not flags.external_location
	not flags.user_stage
}

approve contains {"rule": "external_load", "why": "loading data from an external location"} if {
	lib.stmt.kind == "copy"
	not unload
	flags.external_location
	not ingest_human
}

ingest_human if {
	not lib.is_agent
	lib.in_group(cfg.ingest_groups)
}

deny contains msg if {
	lib.stmt.kind in {"create", "alter"}
	flags.external_location
	msg := sprintf("%s of an object that points to an external location is not allowed through the gateway", [upper(lib.stmt.kind)])
}

deny contains "external functions send data outside Snowflake and are not allowed" if flags.external_function

denied_functions := {upper(f) | some f in cfg.denied_functions}

allowed_system := {upper(f) | some f in cfg.allowed_system_functions}

deny contains sprintf("%s sends data or file access outside the gateway and is not allowed", [f]) if {
	some f in lib.functions
	f in denied_functions
}

approve contains {"rule": "system_function", "why": sprintf("%s is a system function the policy does not know", [f])} if {
	some f in lib.functions
	startswith(f, "SYSTEM$")
	not f in denied_functions
	not f in allowed_system
}

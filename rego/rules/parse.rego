# METADATA
# title: Deny what is not understood
# description: |
#   A statement the analyser could not read completely, or whose kind or
#   category it could not tell, is denied: the rest of the policy would be
#   judging a guess. parse.relax_incomplete_kinds lists the kinds for which an
#   incomplete analysis is accepted (empty by default).
package snowgate.rules.parse

import data.snowgate.lib

deny contains msg if {
	not input.statement.parse.complete == true
	not input.statement.kind in lib.config.parse.relax_incomplete_kinds
	msg := sprintf("the statement could not be fully analysed (%s); rewrite it in plainer SQL or split it", [detail])
}

detail := input.statement.parse.error if input.statement.parse.error != ""

else := "no detail"

deny contains "the statement kind is unknown" if input.statement.kind == "unknown"

deny contains "the statement kind is unknown" if input.statement.kind == ""

deny contains "the statement kind is unknown" if not input.statement.kind

deny contains "the statement category is unknown" if input.statement.category == "unknown"

deny contains "the statement category is unknown" if not input.statement.category

deny contains sprintf("unsupported input version %v", [input.version]) if input.version != "1"

deny contains "the input has no version" if not input.version

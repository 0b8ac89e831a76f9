package snowgate.rules.inherited_test

import data.fixtures
import data.snowgate.lib
import data.snowgate.rules.inherited
import data.snowgate.rules.masking
import data.snowgate.test.helpers as h

# What the gateway recorded after an admin ran
#   CREATE TABLE emails_copy AS SELECT id, email FROM customers
# (and after two writes it could not match to columns, and one that
# claims a configured column).
recorded := {"DEMO": {"PUBLIC": {
	"EMAILS_COPY": {"EMAIL": {
		"class": "pii", "strategy": "email_domain", "deny_in": ["filtered"],
		"from": ["DEMO.PUBLIC.CUSTOMERS.EMAIL"], "record": "cls-1", "records": ["cls-1"],
	}},
	"CUSTOMERS": {
		"EMAIL": {"class": "pii", "strategy": "redact", "from": ["DEMO.PUBLIC.OTHER.X"], "record": "cls-2", "records": ["cls-2"]},
		"CONTACT": {"class": "pii", "strategy": "email_domain", "from": ["DEMO.PUBLIC.CUSTOMERS.EMAIL"], "record": "cls-3", "records": ["cls-3"]},
	},
	"DUMP": {"*": {"class": "pii", "strategy": "redact", "from": ["DEMO.PUBLIC.CUSTOMERS.SSN"], "record": "cls-4", "records": ["cls-4"]}},
}}}

# A SELECT of the given columns of a DEMO.PUBLIC table.
select(table, cols) := object.union(fixtures.select_customers_pii, {"statement": {
	"sql": sprintf("SELECT %s FROM %s", [concat(", ", cols), lower(table)]),
	"objects": [{"type": "table", "database": "DEMO", "schema": "PUBLIC", "name": table, "access": "read"}],
	"columns": {"read": [h.col(table, c) | some c in cols], "written": [], "filtered": [], "grouped": []},
	"outputs": [h.out(table, c) | some c in cols],
}})

masked(set) := {m.column: m.strategy | some m in set}

test_no_inherited_data_is_the_configuration if {
	lib.classifications == lib.config.classifications
}

test_inherited_columns_join_the_configured_ones if {
	c := lib.classifications with data.snowgate.inherited.classifications as recorded
	c.DEMO.PUBLIC.EMAILS_COPY.EMAIL.from == ["DEMO.PUBLIC.CUSTOMERS.EMAIL"]
	c.DEMO.PUBLIC.EMAILS_COPY.EMAIL.record == "cls-1"
	c.DEMO.PUBLIC.CUSTOMERS.CONTACT.strategy == "email_domain"
	c.PROD.HR.EMPLOYEES == lib.config.classifications.PROD.HR.EMPLOYEES
}

test_a_configured_column_keeps_its_configured_entry_whole if {
	c := lib.classifications with data.snowgate.inherited.classifications as recorded
	c.DEMO.PUBLIC.CUSTOMERS.EMAIL == lib.config.classifications.DEMO.PUBLIC.CUSTOMERS.EMAIL
	not c.DEMO.PUBLIC.CUSTOMERS.EMAIL.from
	c.DEMO.PUBLIC.CUSTOMERS.SSN == lib.config.classifications.DEMO.PUBLIC.CUSTOMERS.SSN
}

test_a_copy_is_masked_like_the_original if {
	doc := select("EMAILS_COPY", ["ID", "EMAIL"])
	masked(masking.mask) == {"DEMO.PUBLIC.EMAILS_COPY.EMAIL": "email_domain"} with input as doc
		with data.snowgate.inherited.classifications as recorded
	d := data.snowgate.decision with input as doc with data.snowgate.inherited.classifications as recorded
	d.action == "mask"
	d.masks == {"DEMO.PUBLIC.EMAILS_COPY.EMAIL": "email_domain"}
}

test_a_copy_is_not_masked_without_the_record if {
	count(masking.mask) == 0 with input as select("EMAILS_COPY", ["ID", "EMAIL"])
}

test_a_cleared_reader_sees_the_copy if {
	count(masking.mask) == 0 with input as select("EMAILS_COPY", ["ID", "EMAIL"])
		with input.identity as h.admin
		with data.snowgate.inherited.classifications as recorded
}

test_a_copy_keeps_the_deny_in_of_its_source if {
	doc := object.union(select("EMAILS_COPY", ["ID"]), {"statement": {"columns": {"filtered": [h.col("EMAILS_COPY", "EMAIL")]}}})
	some msg in masking.deny with input as doc with data.snowgate.inherited.classifications as recorded
	msg == "DEMO.PUBLIC.EMAILS_COPY.EMAIL is masked for you and cannot be used in WHERE, JOIN, HAVING or QUALIFY: that could rebuild its values"
	grouped := object.union(select("EMAILS_COPY", ["ID"]), {"statement": {"columns": {"grouped": [h.col("EMAILS_COPY", "EMAIL")]}}})
	some msg2 in masking.deny with input as grouped with data.snowgate.inherited.classifications as recorded
	contains(msg2, "EMAILS_COPY.EMAIL is masked for you and cannot be used in GROUP BY")
	count(masking.deny) == 0 with input as grouped with data.snowgate.inherited.classifications as recorded
		with data.snowgate.config.masking.deny_in as []
}

test_an_uncleared_copy_of_the_copy_is_denied if {
	doc := object.union(select("EMAILS_COPY", ["EMAIL"]), {"statement": {"kind": "create", "category": "ddl", "outputs": []}})
	some msg in masking.deny with input as doc with data.snowgate.inherited.classifications as recorded
	msg == "DEMO.PUBLIC.EMAILS_COPY.EMAIL is masked for you and cannot be copied into another object"
}

test_any_column_of_a_table_is_masked if {
	doc := select("DUMP", ["A", "B"])
	masked(inherited.mask) == {"DEMO.PUBLIC.DUMP.A": "redact", "DEMO.PUBLIC.DUMP.B": "redact"} with input as doc
		with data.snowgate.inherited.classifications as recorded
	d := data.snowgate.decision with input as doc with data.snowgate.inherited.classifications as recorded
	d.action == "mask"
	count(inherited.mask) == 0 with input as doc with input.identity as h.admin
		with data.snowgate.inherited.classifications as recorded
}

test_any_column_of_a_table_in_a_filter_or_a_copy_is_denied if {
	filtered := object.union(select("DUMP", ["A"]), {"statement": {"columns": {"filtered": [h.col("DUMP", "B")]}}})
	some msg in inherited.deny with input as filtered with data.snowgate.inherited.classifications as recorded
	msg == "DEMO.PUBLIC.DUMP.B may carry classified data and cannot be used in WHERE, JOIN, HAVING or QUALIFY: that could rebuild its values"
	copied := object.union(select("DUMP", ["A"]), {"statement": {"kind": "insert", "category": "write"}})
	some msg2 in inherited.deny with input as copied with data.snowgate.inherited.classifications as recorded
	msg2 == "DEMO.PUBLIC.DUMP.A may carry classified data and cannot be copied into another object"
}

package snowgate.rules.production_test

import data.fixtures
import data.snowgate.rules.production

rules(a) := {x.rule | some x in a}

test_drop_table_prod_needs_approval if {
	some a in production.approve with input as fixtures.drop_table_prod
	a == {"rule": "production_change", "why": "DROP TABLE DEMO.PUBLIC.ORDERS in production"}
	count(production.deny) == 0 with input as fixtures.drop_table_prod
}

test_drop_table_dev_allowed if {
	count(production.approve) == 0 with input as fixtures.drop_table_dev
	count(production.deny) == 0 with input as fixtures.drop_table_dev
}

test_drop_database_prod_denied if {
	"dropping the production database DEMO is not allowed through the gateway" in production.deny with input as fixtures.drop_database_prod
}

test_drop_schema_prod_denied if {
	"dropping the production schema DEMO.PUBLIC is not allowed through the gateway" in production.deny with input as fixtures.drop_database_prod
		with input.statement.objects as [{"type": "schema", "database": "DEMO", "name": "PUBLIC", "access": "drop"}]
}

test_drop_database_dev_allowed if {
	count(production.deny) == 0 with input as fixtures.drop_database_prod
		with input.statement.objects as [{"type": "database", "database": "DEV", "name": "DEV", "access": "drop"}]
}

test_unknown_database_is_production if {
	count(production.approve) == 1 with input as fixtures.drop_table_prod
		with input.statement.objects as [{"type": "table", "name": "ORDERS", "access": "drop"}]
		with input.session.database as ""
}

test_session_database_used if {
	count(production.approve) == 0 with input as fixtures.drop_table_prod
		with input.statement.objects as [{"type": "table", "name": "ORDERS", "access": "drop"}]
		with input.session.database as "dev"
}

test_truncate_prod_needs_approval if {
	some a in production.approve with input as fixtures.truncate_prod
	a.why == "TRUNCATE DEMO.PUBLIC.ORDERS in production"
}

test_truncate_dev_allowed if {
	count(production.approve) == 0 with input as fixtures.truncate_prod
		with input.statement.objects as [{"type": "table", "database": "DEV", "schema": "X", "name": "T", "access": "delete"}]
}

test_create_or_replace_prod_needs_approval if {
	some a in production.approve with input as fixtures.create_or_replace_prod
	contains(a.why, "CREATE OR REPLACE TABLE DEMO.PUBLIC.ORDERS_SUMMARY")
}

test_create_in_dev_allowed if {
	count(production.approve) == 0 with input as fixtures.create_table_dev
}

test_create_without_replace_in_prod_allowed if {
	count(production.approve) == 0 with input as fixtures.create_or_replace_prod
		with input.statement.flags.create_or_replace as false
}

test_alter_prod_needs_approval if {
	rules(production.approve) == {"production_change"} with input as fixtures.alter_table_prod
}

test_alter_warehouse_not_covered if {
	count(production.approve) == 0 with input as fixtures.alter_table_prod
		with input.statement.objects as [{"type": "warehouse", "name": "ANALYTICS_WH", "access": "alter"}]
}

test_select_untouched if {
	count(production.approve) == 0 with input as fixtures.select_orders
	count(production.deny) == 0 with input as fixtures.select_orders
}

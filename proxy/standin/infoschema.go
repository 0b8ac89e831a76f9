package standin

import (
	"strings"

	"github.com/snowgate/snowgate/proxy/statement"
)

// Snowflake has an INFORMATION_SCHEMA in every database; DuckDB has one
// for all of them, with its own columns and type names. The stand-in
// answers [db.]INFORMATION_SCHEMA.COLUMNS, TABLES, SCHEMATA and VIEWS of a
// database with a query over DuckDB's, in Snowflake's columns and with
// Snowflake's type names, as clients read them (snowflake-sqlalchemy's
// reflection reads INFORMATION_SCHEMA.COLUMNS). Names are upper-case, as
// Snowflake folds unquoted names; DuckDB matches them whatever their case.
// The stand-in's own user registry is in none of them.

// sfDataType is Snowflake's DATA_TYPE for a DuckDB data_type.
const sfDataType = `CASE
	WHEN data_type IN ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT') OR data_type LIKE 'DECIMAL%' THEN 'NUMBER'
	WHEN data_type IN ('FLOAT', 'DOUBLE') THEN 'FLOAT'
	WHEN data_type = 'BOOLEAN' THEN 'BOOLEAN'
	WHEN data_type = 'DATE' THEN 'DATE'
	WHEN data_type = 'TIME' THEN 'TIME'
	WHEN data_type LIKE 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP_LTZ'
	WHEN data_type LIKE 'TIMESTAMP%' THEN 'TIMESTAMP_NTZ'
	WHEN data_type = 'JSON' THEN 'VARIANT'
	WHEN data_type = 'BLOB' THEN 'BINARY'
	WHEN data_type LIKE 'STRUCT%' OR data_type LIKE 'MAP%' THEN 'OBJECT'
	WHEN data_type LIKE '%[]' THEN 'ARRAY'
	ELSE 'TEXT' END`

var infoSchemaViews = map[string]string{
	"COLUMNS": `SELECT upper(table_catalog) AS TABLE_CATALOG, upper(table_schema) AS TABLE_SCHEMA, upper(table_name) AS TABLE_NAME,
		upper(column_name) AS COLUMN_NAME, ordinal_position AS ORDINAL_POSITION, column_default AS COLUMN_DEFAULT, is_nullable AS IS_NULLABLE,
		` + sfDataType + ` AS DATA_TYPE,
		CASE WHEN ` + sfDataType + ` = 'TEXT' THEN 16777216 END AS CHARACTER_MAXIMUM_LENGTH,
		CASE WHEN ` + sfDataType + ` = 'TEXT' THEN 16777216 END AS CHARACTER_OCTET_LENGTH,
		CASE WHEN ` + sfDataType + ` = 'NUMBER' THEN coalesce(numeric_precision, 38) END AS NUMERIC_PRECISION,
		CASE WHEN ` + sfDataType + ` = 'NUMBER' THEN 10 END AS NUMERIC_PRECISION_RADIX,
		CASE WHEN ` + sfDataType + ` = 'NUMBER' THEN CASE WHEN data_type LIKE 'DECIMAL%' THEN numeric_scale ELSE 0 END END AS NUMERIC_SCALE,
		CASE WHEN ` + sfDataType + ` IN ('TIMESTAMP_NTZ', 'TIMESTAMP_LTZ', 'TIME') THEN 9 END AS DATETIME_PRECISION,
		NULL::VARCHAR AS INTERVAL_TYPE, NULL::INTEGER AS INTERVAL_PRECISION,
		NULL::VARCHAR AS CHARACTER_SET_CATALOG, NULL::VARCHAR AS CHARACTER_SET_SCHEMA, NULL::VARCHAR AS CHARACTER_SET_NAME,
		NULL::VARCHAR AS COLLATION_CATALOG, NULL::VARCHAR AS COLLATION_SCHEMA, NULL::VARCHAR AS COLLATION_NAME,
		NULL::VARCHAR AS DOMAIN_CATALOG, NULL::VARCHAR AS DOMAIN_SCHEMA, NULL::VARCHAR AS DOMAIN_NAME,
		NULL::VARCHAR AS UDT_CATALOG, NULL::VARCHAR AS UDT_SCHEMA, NULL::VARCHAR AS UDT_NAME,
		NULL::VARCHAR AS SCOPE_CATALOG, NULL::VARCHAR AS SCOPE_SCHEMA, NULL::VARCHAR AS SCOPE_NAME,
		NULL::INTEGER AS MAXIMUM_CARDINALITY, NULL::VARCHAR AS DTD_IDENTIFIER, 'NO' AS IS_SELF_REFERENCING,
		'NO' AS IS_IDENTITY, NULL::VARCHAR AS IDENTITY_GENERATION, NULL::VARCHAR AS IDENTITY_START, NULL::VARCHAR AS IDENTITY_INCREMENT,
		NULL::VARCHAR AS IDENTITY_MAXIMUM, NULL::VARCHAR AS IDENTITY_MINIMUM, NULL::VARCHAR AS IDENTITY_CYCLE, NULL::VARCHAR AS IDENTITY_ORDERED,
		NULL::VARCHAR AS SCHEMA_EVOLUTION_RECORD, NULL::VARCHAR AS COMMENT,
		CASE ` + sfDataType + `
			WHEN 'TEXT' THEN 'VARCHAR(16777216)'
			WHEN 'NUMBER' THEN 'NUMBER(' || coalesce(numeric_precision, 38) || ',' || CASE WHEN data_type LIKE 'DECIMAL%' THEN numeric_scale ELSE 0 END || ')'
			WHEN 'TIMESTAMP_NTZ' THEN 'TIMESTAMP_NTZ(9)' WHEN 'TIMESTAMP_LTZ' THEN 'TIMESTAMP_LTZ(9)' WHEN 'TIME' THEN 'TIME(9)'
			ELSE ` + sfDataType + ` END AS DATA_TYPE_ALIAS
		FROM information_schema.columns WHERE upper(table_catalog) = upper(%s)`,
	"TABLES": `SELECT upper(t.table_catalog) AS TABLE_CATALOG, upper(t.table_schema) AS TABLE_SCHEMA, upper(t.table_name) AS TABLE_NAME,
		'SYSADMIN' AS TABLE_OWNER, CASE WHEN t.table_type = 'LOCAL TEMPORARY' THEN 'TEMPORARY TABLE' ELSE t.table_type END AS TABLE_TYPE,
		'NO' AS IS_TRANSIENT, NULL::VARCHAR AS CLUSTERING_KEY, d.estimated_size AS ROW_COUNT, NULL::BIGINT AS BYTES, 1 AS RETENTION_TIME,
		NULL::VARCHAR AS SELF_REFERENCING_COLUMN_NAME, NULL::VARCHAR AS REFERENCE_GENERATION, NULL::VARCHAR AS USER_DEFINED_TYPE_CATALOG,
		NULL::VARCHAR AS USER_DEFINED_TYPE_SCHEMA, NULL::VARCHAR AS USER_DEFINED_TYPE_NAME, 'YES' AS IS_INSERTABLE_INTO, 'YES' AS IS_TYPED,
		NULL::VARCHAR AS COMMIT_ACTION, NULL::TIMESTAMPTZ AS CREATED, NULL::TIMESTAMPTZ AS LAST_ALTERED, NULL::TIMESTAMPTZ AS LAST_DDL,
		NULL::VARCHAR AS LAST_DDL_BY, 'NO' AS AUTO_CLUSTERING_ON, t.TABLE_COMMENT AS COMMENT,
		CASE WHEN t.table_type = 'LOCAL TEMPORARY' THEN 'YES' ELSE 'NO' END AS IS_TEMPORARY,
		'NO' AS IS_ICEBERG, 'NO' AS IS_DYNAMIC, 'NO' AS IS_IMMUTABLE, 'NO' AS IS_HYBRID
		FROM information_schema.tables t LEFT JOIN duckdb_tables() d
		ON d.database_name = t.table_catalog AND d.schema_name = t.table_schema AND d.table_name = t.table_name
		WHERE upper(t.table_catalog) = upper(%s)`,
	"SCHEMATA": `SELECT upper(catalog_name) AS CATALOG_NAME, upper(schema_name) AS SCHEMA_NAME, 'SYSADMIN' AS SCHEMA_OWNER,
		'NO' AS IS_TRANSIENT, 'NO' AS IS_MANAGED_ACCESS, 1 AS RETENTION_TIME, NULL::VARCHAR AS DEFAULT_CHARACTER_SET_CATALOG,
		NULL::VARCHAR AS DEFAULT_CHARACTER_SET_SCHEMA, NULL::VARCHAR AS DEFAULT_CHARACTER_SET_NAME, NULL::VARCHAR AS SQL_PATH,
		NULL::TIMESTAMPTZ AS CREATED, NULL::TIMESTAMPTZ AS LAST_ALTERED, NULL::VARCHAR AS COMMENT,
		NULL::VARCHAR AS REPLICABLE_WITH_FAILOVER_GROUPS, NULL::VARCHAR AS OWNER_ROLE_TYPE
		FROM information_schema.schemata WHERE upper(catalog_name) = upper(%s)`,
	"VIEWS": `SELECT upper(table_catalog) AS TABLE_CATALOG, upper(table_schema) AS TABLE_SCHEMA, upper(table_name) AS TABLE_NAME,
		'SYSADMIN' AS TABLE_OWNER, view_definition AS VIEW_DEFINITION, check_option AS CHECK_OPTION, is_updatable AS IS_UPDATABLE,
		is_insertable_into AS INSERTABLE_INTO, 'NO' AS IS_SECURE, NULL::TIMESTAMPTZ AS CREATED, NULL::TIMESTAMPTZ AS LAST_ALTERED,
		NULL::TIMESTAMPTZ AS LAST_DDL, NULL::VARCHAR AS LAST_DDL_BY, NULL::VARCHAR AS COMMENT
		FROM information_schema.views WHERE upper(table_catalog) = upper(%s)`,
}

// clauseWords may follow a table with no alias.
var clauseWords = map[string]bool{
	"WHERE": true, "ORDER": true, "GROUP": true, "LIMIT": true, "JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true,
	"FULL": true, "CROSS": true, "NATURAL": true, "ON": true, "USING": true, "UNION": true, "EXCEPT": true, "MINUS": true,
	"INTERSECT": true, "QUALIFY": true, "HAVING": true, "WINDOW": true, "OFFSET": true, "FETCH": true,
}

// infoSchema is infoSchemaAt for the session: its database, and the
// registry no client reads. A view with no alias is given its own name, so
// that columns qualified with it still resolve.
func (c *conn) infoSchema(toks []statement.Token, i int) (string, int, bool) {
	q, end, ok := infoSchemaAt(toks, i, c.state.Database, c.s.sys)
	if !ok {
		return "", 0, false
	}
	if n := end + 1; n >= len(toks) || toks[n].Kind == statement.TokOp || (toks[n].Kind == statement.TokIdent && clauseWords[toks[n].Value]) {
		q += " AS " + toks[end].Value
	}
	return q, end, true
}

// infoSchemaAt reads [db.]INFORMATION_SCHEMA.view at toks[i] and returns
// the query that answers it and the index of its last token. current is
// the session's database, for the unqualified form; sys is the catalog of
// the stand-in's own registry, which answers nothing.
func infoSchemaAt(toks []statement.Token, i int, current, sys string) (query string, end int, ok bool) {
	name := func(k int) (string, bool) {
		if k >= len(toks) {
			return "", false
		}
		switch toks[k].Kind {
		case statement.TokIdent, statement.TokQuotedIdent:
			return toks[k].Value, true
		}
		return "", false
	}
	dot := func(k int) bool { return k < len(toks) && toks[k].Kind == statement.TokOp && toks[k].Value == "." }
	db := current
	k := i
	if d, ok := name(i); ok && dot(i+1) && toks[i+2].Kind == statement.TokIdent && toks[i+2].Value == "INFORMATION_SCHEMA" {
		db, k = d, i+2
	}
	if toks[k].Kind != statement.TokIdent || toks[k].Value != "INFORMATION_SCHEMA" || !dot(k+1) {
		return "", 0, false
	}
	view, ok := name(k + 2)
	if !ok {
		return "", 0, false
	}
	q, known := infoSchemaViews[strings.ToUpper(view)]
	if !known {
		return "", 0, false
	}
	if strings.EqualFold(db, sys) {
		db = "" // matches no catalog
	}
	return "(" + strings.Replace(q, "%s", quoteString(db), 1) + ")", k + 2, true
}

#!/usr/bin/env python3
"""Generates families_*.yaml: DDL, DCL, DML, stage and session statements
built from templates, with the expected kind, objects and flags computed here
from Snowflake's name rules (an oracle independent of the Go code).

Run from this directory: python3 gen_families.py
"""
import json

DB, SCHEMA = "ANALYTICS", "PUBLIC"

# (SQL spelling, parts as Snowflake folds them)
NAMES = [
    ("orders", ["ORDERS"]),
    ("sales.orders", ["SALES", "ORDERS"]),
    ("raw.sales.orders", ["RAW", "SALES", "ORDERS"]),
    ('"Sales"."Order Items"', ["Sales", "Order Items"]),
    ('Analytics."my.schema".t1', ["ANALYTICS", "my.schema", "T1"]),
    ('"lower_case_table"', ["lower_case_table"]),
]
SRC = [
    ("customers", ["CUSTOMERS"]),
    ("hr.employees", ["HR", "EMPLOYEES"]),
    ("analytics.sales.orders", ["ANALYTICS", "SALES", "ORDERS"]),
]
ACCOUNT_LEVEL = {"database", "warehouse", "role", "user", "integration", "share", "resource_monitor", "network_policy"}


def resolve(typ, parts):
    """Object string "DB.SCHEMA.NAME" as the runner prints it."""
    if typ in ACCOUNT_LEVEL:
        return parts[-1]
    if typ == "schema":
        if len(parts) == 1:
            return f"{DB}.{parts[0]}"
        return f"{parts[-2]}.{parts[-1]}"
    if len(parts) == 1:
        return f"{DB}.{SCHEMA}.{parts[0]}"
    if len(parts) == 2:
        return f"{DB}.{parts[0]}.{parts[1]}"
    return ".".join(parts)


def obj(typ, access, parts):
    return f"{typ} {access} {resolve(typ, parts)}"


cases = {"ddl": [], "dcl": [], "dml": [], "stage": [], "session": []}


def add(fam, name, sql, kind, objects, flags=(), complete=True, category=None, where=None, kinds=None, count=None):
    c = {"name": name, "sql": sql, "kind": kind, "objects": sorted(set(objects)), "flags": sorted(set(flags))}
    if category:
        c["category"] = category
    if not complete:
        c["complete"] = False
    if where:
        c["where"] = where
    if kinds:
        c["kinds"] = kinds
    if count:
        c["count"] = count
    cases[fam].append(c)


# ---- DDL
for sql_name, parts in NAMES:
    add("ddl", "create table", f"CREATE TABLE {sql_name} (id NUMBER(38,0), note VARCHAR)", "create",
        [obj("table", "create", parts)], category="ddl")
    add("ddl", "create or replace temporary table", f"CREATE OR REPLACE TEMPORARY TABLE {sql_name} (id INT)", "create",
        [obj("table", "create", parts)], ["create_or_replace"])
    add("ddl", "drop table if exists", f"DROP TABLE IF EXISTS {sql_name} CASCADE", "drop",
        [obj("table", "drop", parts)], category="ddl")
    add("ddl", "undrop table", f"UNDROP TABLE {sql_name}", "undrop", [obj("table", "create", parts)])
    add("ddl", "truncate", f"TRUNCATE TABLE IF EXISTS {sql_name}", "truncate", [obj("table", "delete", parts)],
        ["no_where"], category="write")
    add("ddl", "alter add column", f"ALTER TABLE {sql_name} ADD COLUMN loaded_at TIMESTAMP_NTZ", "alter",
        [obj("table", "alter", parts)])
    add("ddl", "comment on table", f"COMMENT ON TABLE {sql_name} IS 'owned by data eng'", "comment",
        [obj("table", "alter", parts)])
    add("ddl", "drop view", f"DROP VIEW {sql_name}", "drop", [obj("view", "drop", parts)])
    for src_sql, src_parts in SRC:
        add("ddl", "ctas", f"CREATE OR REPLACE TABLE {sql_name} AS SELECT * FROM {src_sql}", "create",
            [obj("table", "create", parts), obj("table", "read", src_parts)], ["create_or_replace"])
        add("ddl", "create view", f"CREATE SECURE VIEW IF NOT EXISTS {sql_name} AS SELECT id, COUNT(*) AS n FROM {src_sql} GROUP BY id", "create",
            [obj("view", "create", parts), obj("table", "read", src_parts)])
    src_sql, src_parts = SRC[1]
    add("ddl", "clone", f"CREATE TRANSIENT TABLE {sql_name} CLONE {src_sql}", "create",
        [obj("table", "create", parts), obj("table", "read", src_parts)], ["clone"])
    add("ddl", "clone at time travel", f"CREATE TABLE {sql_name} CLONE {src_sql} AT(OFFSET => -3600)", "create",
        [obj("table", "create", parts), obj("table", "read", src_parts)], ["clone", "time_travel"])
    add("ddl", "create table like", f"CREATE TABLE {sql_name} LIKE {src_sql}", "create",
        [obj("table", "create", parts), obj("table", "read", src_parts)])
    add("ddl", "rename", f"ALTER TABLE IF EXISTS {src_sql} RENAME TO {sql_name}", "alter",
        [obj("table", "alter", src_parts), obj("table", "create", parts)])

SCHEMA_TYPES = [("VIEW", "view"), ("STAGE", "stage"), ("SEQUENCE", "sequence"), ("FILE FORMAT", "file_format"),
                ("TAG", "tag"), ("STREAM", "stream"), ("TASK", "task"), ("PIPE", "pipe"),
                ("MASKING POLICY", "masking_policy"), ("ROW ACCESS POLICY", "row_access_policy"),
                ("MATERIALIZED VIEW", "view"), ("DYNAMIC TABLE", "table"), ("EXTERNAL TABLE", "table"),
                ("ALERT", "alert"), ("SECRET", "secret")]
for word, typ in SCHEMA_TYPES:
    for sql_name, parts in NAMES[:3]:
        add("ddl", f"drop {typ}", f"DROP {word} IF EXISTS {sql_name}", "drop", [obj(typ, "drop", parts)])
    add("ddl", f"describe {typ}", f"DESCRIBE {word} {NAMES[1][0]}", "describe", [obj(typ, "read", NAMES[1][1])], category="read")

for word, typ in [("DATABASE", "database"), ("WAREHOUSE", "warehouse"), ("ROLE", "role"), ("USER", "user"),
                  ("SCHEMA", "schema"), ("RESOURCE MONITOR", "resource_monitor"), ("NETWORK POLICY", "network_policy"),
                  ("INTEGRATION", "integration"), ("SHARE", "share")]:
    for sql_name, parts in [("finance", ["FINANCE"]), ('"Finance Dev"', ["Finance Dev"])]:
        add("ddl", f"create {typ}", f"CREATE {word} IF NOT EXISTS {sql_name}", "create", [obj(typ, "create", parts)])
        add("ddl", f"drop {typ}", f"DROP {word} {sql_name}", "drop", [obj(typ, "drop", parts)])
    add("ddl", f"alter {typ}", f"ALTER {word} finance SET COMMENT = 'x'", "alter", [obj(typ, "alter", ["FINANCE"])])
for word, typ in [("DATABASE", "database"), ("SCHEMA", "schema")]:
    add("ddl", f"undrop {typ}", f"UNDROP {word} finance", "undrop", [obj(typ, "create", ["FINANCE"])])
    add("ddl", f"clone {typ}", f"CREATE OR REPLACE {word} finance_dev CLONE finance", "create",
        [obj(typ, "create", ["FINANCE_DEV"]), obj(typ, "read", ["FINANCE"])], ["clone", "create_or_replace"])
add("ddl", "schema in another database", "DROP SCHEMA raw.staging", "drop", ["schema drop RAW.STAGING"])
add("ddl", "external stage", "CREATE STAGE landing URL = 's3://acme-landing/events/' STORAGE_INTEGRATION = s3_int FILE_FORMAT = (TYPE = JSON)",
    "create", [obj("stage", "create", ["LANDING"])], ["external_location"])
add("ddl", "internal stage", "CREATE OR REPLACE STAGE analytics.public.scratch", "create",
    [obj("stage", "create", ["ANALYTICS", "PUBLIC", "SCRATCH"])], ["create_or_replace"])
add("ddl", "storage integration", "CREATE STORAGE INTEGRATION s3_int TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' ENABLED = TRUE STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::001234567890:role/sf' STORAGE_ALLOWED_LOCATIONS = ('s3://acme-landing/')",
    "create", [obj("integration", "create", ["S3_INT"])], ["external_location"])
add("ddl", "external function", "CREATE OR REPLACE EXTERNAL FUNCTION enrich(x VARCHAR) RETURNS VARIANT API_INTEGRATION = api_int AS 'https://api.example.com/enrich'",
    "create", [obj("function", "create", ["ENRICH"])], ["external_function", "external_location", "create_or_replace"])
add("ddl", "sql function", "CREATE FUNCTION add_one(x INT) RETURNS INT AS 'x + 1'", "create", [obj("function", "create", ["ADD_ONE"])])
add("ddl", "procedure with dollar body", "CREATE OR REPLACE PROCEDURE cleanup() RETURNS STRING LANGUAGE SQL AS $$ BEGIN DELETE FROM logs; RETURN 'ok'; END; $$",
    "create", [obj("procedure", "create", ["CLEANUP"])], ["create_or_replace"])
add("ddl", "drop function with signature", "DROP FUNCTION IF EXISTS util.add_one(INT)", "drop", [obj("function", "drop", ["UTIL", "ADD_ONE"])])
add("ddl", "task runs a delete", "CREATE TASK purge WAREHOUSE = etl_wh SCHEDULE = '60 MINUTE' AS DELETE FROM logs WHERE ts < DATEADD(day, -30, CURRENT_DATE)",
    "create", [obj("task", "create", ["PURGE"]), obj("table", "delete", ["LOGS"])])
add("ddl", "pipe copies from a stage", "CREATE PIPE ingest AS COPY INTO raw_events FROM @landing/events/",
    "create", [obj("pipe", "create", ["INGEST"]), obj("table", "write", ["RAW_EVENTS"]), obj("stage", "read", ["LANDING"])], ["stage"])
add("ddl", "stream on table", "CREATE STREAM orders_stream ON TABLE sales.orders", "create",
    [obj("stream", "create", ["ORDERS_STREAM"]), obj("table", "read", ["SALES", "ORDERS"])])
add("ddl", "masking policy", "CREATE MASKING POLICY ssn_mask AS (val STRING) RETURNS STRING -> CASE WHEN CURRENT_ROLE() = 'HR' THEN val ELSE '***' END",
    "create", [obj("masking_policy", "create", ["SSN_MASK"])])
add("ddl", "unset masking policy", "ALTER TABLE customers MODIFY COLUMN ssn UNSET MASKING POLICY", "alter", [obj("table", "alter", ["CUSTOMERS"])])
add("ddl", "swap", "ALTER TABLE orders SWAP WITH orders_staging", "alter",
    [obj("table", "alter", ["ORDERS"]), obj("table", "alter", ["ORDERS_STAGING"])])
add("ddl", "alter user password", "ALTER USER svc_loader SET PASSWORD = 'hunter2'", "alter", [obj("user", "alter", ["SVC_LOADER"])])
add("ddl", "alter account", "ALTER ACCOUNT SET NETWORK_POLICY = open_policy", "alter", ["account alter "])
add("ddl", "comment on column", "COMMENT ON COLUMN customers.ssn IS 'PII'", "comment", [obj("table", "alter", ["CUSTOMERS"])])
add("ddl", "create file format", "CREATE OR REPLACE FILE FORMAT csv_fmt TYPE = CSV FIELD_DELIMITER = ','", "create",
    [obj("file_format", "create", ["CSV_FMT"])], ["create_or_replace"])
add("ddl", "create dynamic table", "CREATE DYNAMIC TABLE daily_sales TARGET_LAG = '1 hour' WAREHOUSE = etl_wh AS SELECT DATE_TRUNC('day', created_at) AS d, SUM(amount) AS total FROM sales.orders GROUP BY 1",
    "create", [obj("table", "create", ["DAILY_SALES"]), obj("table", "read", ["SALES", "ORDERS"])])

# ---- DCL
PRIVS = [("SELECT", "TABLE"), ("INSERT, UPDATE", "TABLE"), ("ALL PRIVILEGES", "TABLE"), ("OWNERSHIP", "TABLE"),
         ("SELECT", "VIEW"), ("USAGE", "SCHEMA"), ("USAGE", "DATABASE"), ("USAGE, OPERATE", "WAREHOUSE"),
         ("READ", "STAGE"), ("USAGE", "FUNCTION"), ("MONITOR", "TASK"), ("APPLY", "MASKING POLICY")]
TYPEMAP = {"TABLE": "table", "VIEW": "view", "SCHEMA": "schema", "DATABASE": "database", "WAREHOUSE": "warehouse",
           "STAGE": "stage", "FUNCTION": "function", "TASK": "task", "MASKING POLICY": "masking_policy"}
for priv, word in PRIVS:
    typ = TYPEMAP[word]
    for sql_name, parts in [("sales.orders", ["SALES", "ORDERS"]), ('"Finance"', ["Finance"])]:
        if typ in ACCOUNT_LEVEL or typ == "schema":
            pass
        add("dcl", f"grant {priv} on {typ}", f"GRANT {priv} ON {word} {sql_name} TO ROLE analyst", "grant",
            [obj(typ, "grant", parts), obj("role", "grant", ["ANALYST"])], category="dcl")
        add("dcl", f"revoke {priv} on {typ}", f"REVOKE {priv} ON {word} {sql_name} FROM ROLE analyst", "revoke",
            [obj(typ, "grant", parts), obj("role", "grant", ["ANALYST"])], category="dcl")
add("dcl", "grant role to user", 'GRANT ROLE sysadmin TO USER "jane.doe@example.com"', "grant",
    [obj("role", "grant", ["SYSADMIN"]), obj("user", "grant", ["jane.doe@example.com"])])
add("dcl", "grant role to role", "GRANT ROLE analyst TO ROLE accountadmin", "grant",
    [obj("role", "grant", ["ANALYST"]), obj("role", "grant", ["ACCOUNTADMIN"])])
add("dcl", "revoke role", "REVOKE ROLE securityadmin FROM USER svc_agent", "revoke",
    [obj("role", "grant", ["SECURITYADMIN"]), obj("user", "grant", ["SVC_AGENT"])])
add("dcl", "grant on all tables", "GRANT SELECT ON ALL TABLES IN SCHEMA analytics.hr TO ROLE analyst", "grant",
    ["schema grant ANALYTICS.HR", obj("role", "grant", ["ANALYST"])])
add("dcl", "grant on future tables", "GRANT SELECT ON FUTURE TABLES IN DATABASE analytics TO ROLE reporter", "grant",
    ["database grant ANALYTICS", obj("role", "grant", ["REPORTER"])])
add("dcl", "grant on account", "GRANT MONITOR USAGE ON ACCOUNT TO ROLE ops", "grant", ["account grant ", obj("role", "grant", ["OPS"])])
add("dcl", "grant create schema", "GRANT CREATE SCHEMA ON DATABASE analytics TO ROLE engineer WITH GRANT OPTION", "grant",
    ["database grant ANALYTICS", obj("role", "grant", ["ENGINEER"])])
add("dcl", "grant ownership copy grants", "GRANT OWNERSHIP ON TABLE hr.employees TO ROLE hr_admin COPY CURRENT GRANTS", "grant",
    [obj("table", "grant", ["HR", "EMPLOYEES"]), obj("role", "grant", ["HR_ADMIN"])])
add("dcl", "grant database role", "GRANT DATABASE ROLE analytics.reader TO ROLE analyst", "grant",
    ["database_role grant ANALYTICS.READER", obj("role", "grant", ["ANALYST"])])
add("dcl", "grant imported privileges", "GRANT IMPORTED PRIVILEGES ON DATABASE snowflake TO ROLE auditor", "grant",
    ["database grant SNOWFLAKE", obj("role", "grant", ["AUDITOR"])])
add("dcl", "grant to share", "GRANT SELECT ON VIEW analytics.public.v_orders TO SHARE partner_share", "grant",
    ["view grant ANALYTICS.PUBLIC.V_ORDERS", "share grant PARTNER_SHARE"])

# ---- DML
for sql_name, parts in NAMES:
    t = obj("table", "write", parts)
    add("dml", "insert values", f"INSERT INTO {sql_name} (id, note) VALUES (1, 'a'), (2, 'b')", "insert", [t], category="write")
    add("dml", "update with where", f"UPDATE {sql_name} SET note = 'x' WHERE id = 42", "update", [t], where=["present"])
    add("dml", "update without where", f"UPDATE {sql_name} SET note = NULL", "update", [t], ["no_where"])
    add("dml", "delete with where", f"DELETE FROM {sql_name} WHERE id < 100", "delete", [obj("table", "delete", parts)], where=["present"])
    add("dml", "delete without where", f"DELETE FROM {sql_name}", "delete", [obj("table", "delete", parts)], ["no_where"])
    add("dml", "delete where always true", f"DELETE FROM {sql_name} WHERE 1 = 1", "delete", [obj("table", "delete", parts)], where=["present", "always_true"])
    for src_sql, src_parts in SRC:
        add("dml", "insert select", f"INSERT INTO {sql_name} SELECT * FROM {src_sql} WHERE 1 = 0", "insert",
            [t, obj("table", "read", src_parts)])
    add("dml", "insert overwrite", f"INSERT OVERWRITE INTO {sql_name} SELECT id, note FROM staging.notes", "insert",
        [t, obj("table", "delete", parts), obj("table", "read", ["STAGING", "NOTES"])])
    add("dml", "update from", f"UPDATE {sql_name} tgt SET note = s.note FROM staging.notes s WHERE tgt.id = s.id", "update",
        [t, obj("table", "read", ["STAGING", "NOTES"])], where=["present"])
    add("dml", "delete using", f"DELETE FROM {sql_name} USING staging.removed r WHERE {sql_name}.id = r.id", "delete",
        [obj("table", "delete", parts), obj("table", "read", ["STAGING", "REMOVED"])], where=["present"])
    add("dml", "merge", f"MERGE INTO {sql_name} t USING staging.notes s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.note = s.note WHEN NOT MATCHED THEN INSERT (id, note) VALUES (s.id, s.note)",
        "merge", [t, obj("table", "read", ["STAGING", "NOTES"])])
    add("dml", "merge with delete", f"MERGE INTO {sql_name} t USING (SELECT id FROM staging.removed) s ON t.id = s.id WHEN MATCHED THEN DELETE",
        "merge", [t, obj("table", "delete", parts), obj("table", "read", ["STAGING", "REMOVED"])])
add("dml", "multi-table insert all", "INSERT ALL INTO audit.big_orders INTO audit.all_orders SELECT * FROM sales.orders", "insert",
    ["table write ANALYTICS.AUDIT.BIG_ORDERS", "table write ANALYTICS.AUDIT.ALL_ORDERS", "table read ANALYTICS.SALES.ORDERS"])
add("dml", "multi-table insert first", "INSERT FIRST WHEN amount > 1000 THEN INTO audit.big_orders ELSE INTO audit.small_orders SELECT order_id, amount FROM sales.orders",
    "insert", ["table write ANALYTICS.AUDIT.BIG_ORDERS", "table write ANALYTICS.AUDIT.SMALL_ORDERS", "table read ANALYTICS.SALES.ORDERS"])
add("dml", "insert with cte", "INSERT INTO audit.totals WITH t AS (SELECT customer_id, SUM(amount) AS s FROM sales.orders GROUP BY 1) SELECT * FROM t",
    "insert", ["table write ANALYTICS.AUDIT.TOTALS", "table read ANALYTICS.SALES.ORDERS"])

# ---- stages, COPY, PUT/GET
STAGES = [("@landing", ["LANDING"], []), ("@analytics.raw.landing/2024/", ["ANALYTICS", "RAW", "LANDING"], []),
          ('@"Ext Stage"/x.csv', ["Ext Stage"], []), ("@~/uploads/", None, ["user_stage"])]
for stage, parts, extra in STAGES:
    so_r = obj("stage", "read", parts) if parts else "stage read ~"
    so_w = obj("stage", "write", parts) if parts else "stage write ~"
    add("stage", "copy into table from stage", f"COPY INTO raw_events FROM {stage} FILE_FORMAT = (TYPE = 'JSON') ON_ERROR = 'CONTINUE'",
        "copy", [obj("table", "write", ["RAW_EVENTS"]), so_r], ["stage"] + extra, category="write")
    add("stage", "unload query to stage", f"COPY INTO {stage} FROM (SELECT id, email FROM customers) HEADER = TRUE",
        "copy", [so_w, obj("table", "read", ["CUSTOMERS"])], ["stage"] + extra)
    add("stage", "unload table to stage", f"COPY INTO {stage} FROM hr.employees", "copy",
        [so_w, obj("table", "read", ["HR", "EMPLOYEES"])], ["stage"] + extra)
    add("stage", "put", f"PUT file:///tmp/data/events.json {stage} AUTO_COMPRESS = TRUE", "put", [so_w], ["stage"] + extra, category="write")
    add("stage", "get", f"GET {stage} file:///tmp/out/", "get", [so_r], ["stage"] + extra, category="admin")
    add("stage", "list", f"LIST {stage} PATTERN = '.*[.]csv'", "list", [so_r], ["stage"] + extra, category="read")
    add("stage", "remove", f"REMOVE {stage}", "remove", [obj("stage", "delete", parts) if parts else "stage delete ~"], ["stage"] + extra)
for url in ["s3://acme-exports/pii/", "gcs://acme-exports/pii/", "azure://acct.blob.core.windows.net/c/pii/"]:
    add("stage", "unload to external location", f"COPY INTO '{url}' FROM customers STORAGE_INTEGRATION = s3_int",
        "copy", [f"location write {url}", obj("table", "read", ["CUSTOMERS"])], ["external_location"])
    add("stage", "load from external location", f"COPY INTO raw_events FROM '{url}' CREDENTIALS = (AWS_KEY_ID = 'x' AWS_SECRET_KEY = 'y')",
        "copy", [obj("table", "write", ["RAW_EVENTS"]), f"location read {url}"], ["external_location"])
add("stage", "copy from table stage", "COPY INTO orders FROM @%orders", "copy",
    [obj("table", "write", ["ORDERS"]), "table_stage read ANALYTICS.PUBLIC.ORDERS"], ["stage"])
add("stage", "copy into table without from", "COPY INTO orders FILE_FORMAT = (TYPE = CSV)", "copy",
    [obj("table", "write", ["ORDERS"]), "table_stage read ANALYTICS.PUBLIC.ORDERS"])
add("stage", "ls alias", "LS @%orders", "list", ["table_stage read ANALYTICS.PUBLIC.ORDERS"], ["stage"])
add("stage", "rm alias", "RM @scratch/tmp/", "remove", [obj("stage", "delete", ["SCRATCH"])], ["stage"])

# ---- session, transactions, calls
for word, typ, flags in [("WAREHOUSE", "warehouse", []), ("DATABASE", "database", []), ("ROLE", "role", ["role_change"])]:
    for sql_name, parts in [("analytics_wh", ["ANALYTICS_WH"]), ('"Reporting"', ["Reporting"])]:
        add("session", f"use {typ}", f"USE {word} {sql_name}", "use", [obj(typ, "use", parts)], ["session_change"] + flags, category="session")
add("session", "use schema", "USE SCHEMA raw.staging", "use", ["schema use RAW.STAGING"], ["session_change"])
add("session", "use schema one part", "USE SCHEMA staging", "use", ["schema use ANALYTICS.STAGING"], ["session_change"])
add("session", "use bare database", "USE finance", "use", ["database use FINANCE"], ["session_change"])
add("session", "use secondary roles all", "USE SECONDARY ROLES ALL", "use", [], ["session_change", "role_change"])
add("session", "set variable", "SET min_amount = 100", "set", [], ["session_change"], category="session")
add("session", "set several", "SET (a, b) = (1, 'x')", "set", [], ["session_change"])
add("session", "set from a query", "SET max_id = (SELECT MAX(id) FROM customers)", "set", [obj("table", "read", ["CUSTOMERS"])], ["session_change"])
add("session", "unset", "UNSET min_amount", "unset", [], ["session_change"])
add("session", "alter session", "ALTER SESSION SET QUERY_TAG = 'agent:report'", "alter", [], ["session_change"], category="session")
add("session", "alter session unset", "ALTER SESSION UNSET TIMEZONE", "alter", [], ["session_change"], category="session")
for sql, kind in [("BEGIN", "begin"), ("BEGIN TRANSACTION", "begin"), ("START TRANSACTION", "begin"), ("BEGIN WORK", "begin"),
                  ("COMMIT", "commit"), ("COMMIT WORK", "commit"), ("ROLLBACK", "rollback")]:
    add("session", sql.lower(), sql, kind, [], category="transaction")
add("session", "call procedure", "CALL analytics.util.refresh_marts('daily', 3)", "call",
    [obj("procedure", "call", ["ANALYTICS", "UTIL", "REFRESH_MARTS"])], ["dynamic_sql"], category="admin")
add("session", "call system procedure", "CALL SYSTEM$WAIT(5)", "call", [obj("procedure", "call", ["SYSTEM$WAIT"])], ["dynamic_sql", "system_function"])
add("session", "execute task", "EXECUTE TASK purge", "call", [obj("task", "call", ["PURGE"])], ["dynamic_sql"])
add("session", "show warehouses", "SHOW WAREHOUSES LIKE '%prod%'", "show", [], category="read")
add("session", "show grants on table", "SHOW GRANTS ON TABLE hr.employees", "show", [obj("table", "read", ["HR", "EMPLOYEES"])])
add("session", "show terse schemas in database", "SHOW TERSE SCHEMAS IN DATABASE raw", "show", ["database read RAW"])
add("session", "describe user", "DESC USER svc_agent", "describe", [obj("user", "read", ["SVC_AGENT"])])
add("session", "describe stage", "DESCRIBE STAGE landing", "describe", [obj("stage", "read", ["LANDING"])])

for fam, cs in cases.items():
    with open(f"families_{fam}.yaml", "w") as f:
        f.write(f"# Generated by gen_families.py; do not edit by hand.\n")
        for c in cs:
            f.write("- " + json.dumps(c, ensure_ascii=False) + "\n")
    print(fam, len(cs))
print("total", sum(len(c) for c in cases.values()))

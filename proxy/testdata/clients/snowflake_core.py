"""Drives snowgate's REST API with the real snowflake.core (Root), over a
session of the real snowflake-connector-python, as Snowflake's MCP server
does.

    python snowflake_core.py '[{"name": ..., "op": ..., "args": [...], "kw": {...}}, ...]'

Run by proxy/restapi_test.go with SNOWGATE_HOST, SNOWGATE_PORT and
SNOWGATE_TOKEN. Prints one JSON line per step: {"name", "ok", "value"} or
{"name", "ok": false, "error", "status", "error_code", "message"}.
"""
import json
import os
import sys

import snowflake.connector
from snowflake.core import Root
from snowflake.core.exceptions import APIError
from snowflake.core.table import Table, TableColumn

host, port, token = os.environ["SNOWGATE_HOST"], int(os.environ["SNOWGATE_PORT"]), os.environ["SNOWGATE_TOKEN"]


def emit(obj):
    sys.stdout.write(json.dumps(obj, default=str) + "\n")
    sys.stdout.flush()


conn = snowflake.connector.connect(
    account="snowgate", host=host, port=port, protocol="http",
    authenticator="oauth", token=token, database="DEMO", schema="PUBLIC")
root = Root(conn)
emit({"name": "connect", "ok": True})


def schema(db, sc):
    return root.databases[db].schemas[sc]


def names(items):
    return [i.name for i in items]


ops = {
    "fetch_database": lambda db: root.databases[db].fetch().to_dict(),
    "fetch_schema": lambda db, sc: schema(db, sc).fetch().to_dict(),
    "fetch_table": lambda db, sc, name: schema(db, sc).tables[name].fetch().to_dict(),
    "fetch_view": lambda db, sc, name: schema(db, sc).views[name].fetch().to_dict(),
    "list_databases": lambda **kw: names(root.databases.iter(**kw)),
    "list_schemas": lambda db, **kw: names(root.databases[db].schemas.iter(**kw)),
    "list_tables": lambda db, sc, **kw: [t.to_dict() for t in schema(db, sc).tables.iter(**kw)],
    "list_views": lambda db, sc, **kw: [v.to_dict() for v in schema(db, sc).views.iter(**kw)],
    "create_table": lambda db, sc, name: schema(db, sc).tables.create(
        Table(name=name, columns=[TableColumn(name="ID", datatype="NUMBER(38,0)")])) and "created",
    "drop_table": lambda db, sc, name: schema(db, sc).tables[name].drop() or "dropped",
    "sql": lambda text: [list(r) for r in conn.cursor().execute(text).fetchall()],
}

for step in json.loads(sys.argv[1]):
    try:
        value = ops[step["op"]](*step.get("args", []), **step.get("kw", {}))
        emit({"name": step["name"], "ok": True, "value": value})
    except APIError as e:
        info = e.get_request_info()
        emit({"name": step["name"], "ok": False, "error": type(e).__name__, "status": e.status,
              "error_code": info["error_code"], "message": info["message"], "request_id": info["request_id"]})
    except Exception as e:  # anything else the client raised
        emit({"name": step["name"], "ok": False, "error": type(e).__name__, "message": str(e)})
conn.close()

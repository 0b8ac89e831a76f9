"""pandas through snowflake-connector-python, pointed at snowgate.

    python pandas_client.py OPS_JSON

OPS_JSON is a list of operations on one connection: ["fetch", SQL]
(cursor.fetch_pandas_all), ["execute", SQL] (cursor.execute, then its
rowcount and rows), ["write", TABLE, AUTO_CREATE] (write_pandas of a small
frame). Connection settings come from SNOWGATE_HOST, SNOWGATE_PORT and
SNOWGATE_TOKEN. Prints one JSON line per step, {"step": ..., "ok": bool,
"value": ... | "error": "..."}, connecting first.
"""

import json
import os
import sys
import warnings

warnings.simplefilter("ignore")

import pandas as pd  # noqa: E402
import snowflake.connector  # noqa: E402
from snowflake.connector.pandas_tools import write_pandas  # noqa: E402


def emit(step, fn):
    try:
        value = fn()
        print(json.dumps({"step": step, "ok": True, "value": value}, default=str), flush=True)
        return value
    except Exception as e:
        print(json.dumps({"step": step, "ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
        return None


env = os.environ
conn = None


def connect():
    global conn
    conn = snowflake.connector.connect(
        account="snowgate", host=env["SNOWGATE_HOST"], port=int(env["SNOWGATE_PORT"]), protocol="http",
        authenticator="oauth", token=env["SNOWGATE_TOKEN"], database="DEMO", schema="PUBLIC",
    )
    return True


def fetch(sql):
    df = conn.cursor().execute(sql).fetch_pandas_all()
    return {"columns": list(df.columns), "dtypes": [str(t) for t in df.dtypes], "records": df.to_dict("records")}


def execute(sql):
    cur = conn.cursor().execute(sql)
    return {"rowcount": cur.rowcount, "rows": [list(r) for r in cur.fetchall()]}


def write(table, auto_create):
    df = pd.DataFrame({"ID": [1, 2, 3], "SCORE": [0.5, 1.5, 2.5], "LABEL": ["a", "b", "c"]})
    success, nchunks, nrows, _ = write_pandas(conn, df, table, auto_create_table=auto_create)
    return {"success": success, "chunks": nchunks, "rows": nrows}


if emit("connect", connect):
    for op in json.loads(sys.argv[1]):
        if op[0] == "fetch":
            emit("fetch " + op[1], lambda: fetch(op[1]))
        elif op[0] == "execute":
            emit("execute " + op[1], lambda: execute(op[1]))
        elif op[0] == "write":
            emit("write " + op[1], lambda: write(op[1], op[2]))

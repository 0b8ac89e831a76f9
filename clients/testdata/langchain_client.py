"""LangChain's SQLDatabase over snowflake-sqlalchemy, pointed at snowgate.

    python langchain_client.py OPS_JSON

OPS_JSON is a list of operations: ["tables"], ["table_info", [TABLE, ...]]
or ["run", SQL]. Connection settings come from SNOWGATE_HOST, SNOWGATE_PORT,
SNOWGATE_TOKEN and SNOWGATE_USER. Prints one JSON line per step,
{"step": ..., "ok": bool, "value": ... | "error": "..."}, connecting first.

snowflake-sqlalchemy refuses host and protocol in the URL's query string,
so the host and port go in the URL's authority and the protocol in the
engine's connect_args, as its error message tells a user to do.
"""

import json
import os
import sys
import warnings

warnings.simplefilter("ignore")

from langchain_community.utilities import SQLDatabase  # noqa: E402


def emit(step, fn):
    try:
        value = fn()
        print(json.dumps({"step": step, "ok": True, "value": value}, default=str), flush=True)
        return value
    except Exception as e:
        print(json.dumps({"step": step, "ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
        return None


env = os.environ
uri = (
    f"snowflake://{env['SNOWGATE_USER']}@{env['SNOWGATE_HOST']}:{env['SNOWGATE_PORT']}/DEMO/PUBLIC"
    f"?account=snowgate&authenticator=oauth&token={env['SNOWGATE_TOKEN']}"
)
db = emit("connect", lambda: SQLDatabase.from_uri(uri, engine_args={"connect_args": {"protocol": "http"}}))
if db is None:
    sys.exit(0)
for op in json.loads(sys.argv[1]):
    if op[0] == "tables":
        emit("tables", lambda: list(db.get_usable_table_names()))
    elif op[0] == "table_info":
        emit("table_info", lambda: db.get_table_info(op[1]))
    elif op[0] == "run":
        emit("run " + op[1], lambda: db.run(op[1]))

"""Runs statements through snowgate with snowflake-connector-python.

Reads a JSON list of {"sql", "token"} on stdin and prints, for each, the
rows with every value as [python type name, str(value) or null], or an error
with the Snowflake error number when the connector gives one.
"""
import json
import os
import sys

import snowflake.connector

host, port = os.environ["SNOWGATE_HOST"], int(os.environ["SNOWGATE_PORT"])
conns = {}
out = []
for job in json.load(sys.stdin):
    tok = job["token"]
    if tok not in conns:
        conns[tok] = snowflake.connector.connect(
            account="snowgate", host=host, port=port, protocol="http",
            authenticator="oauth", token=tok, database="DEMO", schema="PUBLIC")
    cur = conns[tok].cursor()
    try:
        cur.execute(job["sql"])
        out.append({"rows": [[[type(v).__name__, None if v is None else str(v)] for v in row] for row in cur.fetchall()]})
    except Exception as e:  # reported to the Go test, which fails on it
        out.append({"error": str(e), "code": getattr(e, "errno", None)})
for c in conns.values():
    c.close()
json.dump(out, sys.stdout)

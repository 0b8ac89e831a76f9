"""Runs statements through snowgate with snowflake-connector-python.

Reads a JSON list of {"sql", "token", "fresh"} on stdin (fresh: run on a
session of its own) and prints, for each, the
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
def connect(tok):
    return snowflake.connector.connect(
        account="snowgate", host=host, port=port, protocol="http",
        authenticator="oauth", token=tok, database="DEMO", schema="PUBLIC")


for n, job in enumerate(json.load(sys.stdin)):
    tok = job["token"]
    key = (tok, n) if job.get("fresh") else tok  # "fresh": a session of its own
    if key not in conns:
        conns[key] = connect(tok)
    cur = conns[key].cursor()
    try:
        cur.execute(job["sql"])
        out.append({"rows": [[[type(v).__name__, None if v is None else str(v)] for v in row] for row in cur.fetchall()]})
    except Exception as e:  # reported to the Go test, which fails on it
        out.append({"error": str(e), "code": getattr(e, "errno", None)})
for c in conns.values():
    c.close()
json.dump(out, sys.stdout)

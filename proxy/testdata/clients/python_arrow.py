"""Reads results through snowgate with snowflake-connector-python's Arrow APIs.

Reads {"token", "rows", "masked_token", "masked_port", "chain_port"} on stdin and prints one
JSON object of what each API returned, and how long each took, for proxy/arrow_test.go.
chain_port is a gateway with the default policy whose upstream is reached with gosnowflake.
"""
import json
import os
import sys
import time

import snowflake.connector

host, port = os.environ["SNOWGATE_HOST"], int(os.environ["SNOWGATE_PORT"])
job = json.load(sys.stdin)
n = job["rows"]
big = f"SELECT range AS id, 'customer-' || range::VARCHAR AS name, range * 1.5 AS score, DATE '2024-01-01' + (range % 365)::INT AS day FROM range({n})"


def connect(tok, at=port, **kw):
    return snowflake.connector.connect(
        account="snowgate", host=host, port=at, protocol="http",
        authenticator="oauth", token=tok, database="DEMO", schema="PUBLIC", **kw)


out = {}
with connect(job["token"]) as conn:
    cur = conn.cursor()
    t = time.monotonic()
    cur.execute(big)
    table = cur.fetch_arrow_all()
    out["arrow_all"] = {"rows": table.num_rows, "seconds": time.monotonic() - t,
                        "types": {f.name: str(f.type) for f in table.schema}}
    t = time.monotonic()
    cur.execute(big)
    df = cur.fetch_pandas_all()
    out["pandas_all"] = {"rows": len(df), "seconds": time.monotonic() - t, "id_sum": int(df["ID"].sum()),
                         "name_last": df["NAME"].iloc[-1], "score_max": float(df["SCORE"].max())}
    cur.execute(big)
    batches = rows = 0
    for b in cur.fetch_arrow_batches():
        batches += 1
        rows += b.num_rows
    out["arrow_batches"] = {"batches": batches, "rows": rows}
    cur.execute(big + " ORDER BY id LIMIT 5")
    out["rows_arrow"] = [[str(v) for v in r] for r in cur.fetchall()]

with connect(job["token"], session_parameters={"PYTHON_CONNECTOR_QUERY_RESULT_FORMAT": "JSON"}) as conn:
    cur = conn.cursor()
    cur.execute(big + " ORDER BY id LIMIT 5")
    out["rows_json"] = [[str(v) for v in r] for r in cur.fetchall()]

with connect(job["masked_token"], job["masked_port"]) as conn:
    cur = conn.cursor()
    cur.execute("SELECT id, email, ssn FROM customers ORDER BY id")
    df = cur.fetch_pandas_all()
    out["masked"] = {"rows": len(df), "emails": sorted(set(e.split("@")[0] for e in df["EMAIL"])), "ssn": sorted(set(df["SSN"]))}
typed = ("SELECT 42::NUMBER(38,0) AS i, 1.25::NUMBER(10,2) AS d, -1.5::FLOAT AS f, 'héllo' AS s, TRUE AS b, "
         "DATE '2024-02-29' AS day, '2024-02-29 13:14:15.123456'::TIMESTAMP_NTZ AS ntz, NULL::VARCHAR AS n")
chained = {}
with connect(job["token"], job["chain_port"]) as conn:
    cur = conn.cursor()
    cur.execute("SELECT id, email, ssn FROM customers ORDER BY id")
    table = cur.fetch_arrow_all()
    df = table.to_pandas()
    chained["masked"] = {"rows": len(df), "emails": sorted(set(e.split("@")[0] for e in df["EMAIL"])), "ssn": sorted(set(df["SSN"]))}
    chained["types"] = {f.name: str(f.type) for f in table.schema}
    cur.execute(typed)
    chained["typed_arrow"] = [str(v) for v in cur.fetchone()]
with connect(job["token"], job["chain_port"], session_parameters={"PYTHON_CONNECTOR_QUERY_RESULT_FORMAT": "JSON"}) as conn:
    cur = conn.cursor()
    cur.execute(typed)
    chained["typed_json"] = [str(v) for v in cur.fetchone()]
out["chained"] = chained
json.dump(out, sys.stdout)

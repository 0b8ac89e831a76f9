"""Drives snowgate with the real snowflake-connector-python.

Run by proxy/clients_test.go with SNOWGATE_HOST, SNOWGATE_PORT, SNOWGATE_TOKEN.
Prints one line per check; exits non-zero on the first failure.
"""
import datetime
import decimal
import json
import os
import sys
import time

import snowflake.connector
from snowflake.connector import errors

host, port, token = os.environ["SNOWGATE_HOST"], int(os.environ["SNOWGATE_PORT"]), os.environ["SNOWGATE_TOKEN"]


# SNOWGATE_RESULT_FORMAT: the result format the session asks for (ARROW,
# the connector's default, or JSON).
fmt = os.environ.get("SNOWGATE_RESULT_FORMAT")
params = {"PYTHON_CONNECTOR_QUERY_RESULT_FORMAT": fmt} if fmt else {}


def connect(**kw):
    kw.setdefault("session_parameters", params)
    return snowflake.connector.connect(
        account="snowgate", host=host, port=port, protocol="http",
        authenticator="oauth", token=token, database="DEMO", schema="PUBLIC",
        paramstyle="qmark", **kw)


def check(name, got, want):
    if got != want:
        print(f"FAIL {name}: got {got!r}, want {want!r}")
        sys.exit(1)
    print(f"ok {name}")


with connect() as conn:
    cur = conn.cursor()
    cur.execute("""SELECT 42::NUMBER(38,0) AS i, 12345678901234567890.123456789::NUMBER(38,9) AS big, -1.5::FLOAT AS r,
        'héllo' AS t, true AS b, '2024-02-29'::DATE AS d, '13:14:15.123456'::TIME AS tm,
        '2024-02-29 13:14:15.123456'::TIMESTAMP_NTZ AS ntz, '2024-02-29 13:14:15.5+00'::TIMESTAMP_LTZ AS ltz,
        '2024-02-29 13:14:15+02:00'::TIMESTAMP_TZ AS tz, from_hex('DEADBEEF') AS bin,
        PARSE_JSON('{"a": [1, 2]}') AS v, NULL::VARCHAR AS n""")
    row = cur.fetchone()
    check("fixed", row[0], 42)
    check("fixed(38,9)", row[1], decimal.Decimal("12345678901234567890.123456789"))
    check("real", row[2], -1.5)
    check("text", row[3], "héllo")
    check("boolean", row[4], True)
    check("date", row[5], datetime.date(2024, 2, 29))
    check("time", row[6], datetime.time(13, 14, 15, 123456))
    check("timestamp_ntz", row[7], datetime.datetime(2024, 2, 29, 13, 14, 15, 123456))
    check("timestamp_ltz", row[8].astimezone(datetime.timezone.utc), datetime.datetime(2024, 2, 29, 13, 14, 15, 500000, tzinfo=datetime.timezone.utc))
    check("timestamp_tz", (row[9].astimezone(datetime.timezone.utc), row[9].utcoffset()),
          (datetime.datetime(2024, 2, 29, 11, 14, 15, tzinfo=datetime.timezone.utc), datetime.timedelta(hours=2)))
    check("binary", bytes(row[10]), bytes.fromhex("DEADBEEF"))
    check("variant", json.loads(row[11]), {"a": [1, 2]})
    check("null", row[12], None)

    cur.execute("CREATE TABLE py_scratch (id INT, note VARCHAR)")
    cur.execute("INSERT INTO py_scratch VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    check("insert rowcount", cur.rowcount, 3)
    cur.execute("INSERT INTO py_scratch VALUES (?, ?)", (4, "bound"))
    check("bound insert rowcount", cur.rowcount, 1)
    cur.execute("UPDATE py_scratch SET note = 'x' WHERE id > 1")
    check("update rowcount", cur.rowcount, 3)
    cur.execute("DELETE FROM py_scratch WHERE id = 1")
    check("delete rowcount", cur.rowcount, 1)

    cur.execute("SELECT 1 AS a; SELECT 'two' AS b", num_statements=2)
    first = cur.fetchall()
    check("multi-statement has a next result", cur.nextset() is not None, True)
    check("multi-statement results", (first, cur.fetchall()), ([(1,)], [("two",)]))

    cur.execute_async("SELECT count(*) FROM range(2000000)")
    qid = cur.sfqid
    while conn.is_still_running(conn.get_query_status(qid)):
        time.sleep(0.05)
    cur.get_results_from_sfqid(qid)
    check("async result by query id", cur.fetchall(), [(2000000,)])

    cur.execute("SELECT range AS i FROM range(30000) ORDER BY 1")
    rows = cur.fetchall()
    check("large result row count", len(rows), 30000)
    check("large result order", rows[-1][0], 29999)

    try:
        cur.execute("SELECT * FROM no_such_table")
        check("missing table raises", False, True)
    except errors.ProgrammingError as e:
        check("missing table errno and sqlstate", (e.errno, e.sqlstate), (2003, "42S02"))

    cur.execute_async("SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b")
    long_qid = cur.sfqid
    time.sleep(0.3)
    check("abort a running query", cur.abort_query(long_qid), True)
    check("aborted query status", conn.get_query_status(long_qid).name, "ABORTED")
    cur.execute("SELECT 7")
    check("session usable after cancel", cur.fetchone(), (7,))

print("python client: all checks passed")

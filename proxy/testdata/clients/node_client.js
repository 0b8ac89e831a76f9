// Drives snowgate with the real Node snowflake-sdk.
// Run by proxy/clients_test.go with SNOWGATE_HOST, SNOWGATE_PORT, SNOWGATE_TOKEN.
'use strict';
const snowflake = require('snowflake-sdk');
const assert = require('node:assert/strict');

snowflake.configure({ logLevel: 'ERROR', disableOCSPChecks: true });

const conn = snowflake.createConnection({
  account: 'snowgate',
  accessUrl: `http://${process.env.SNOWGATE_HOST}:${process.env.SNOWGATE_PORT}`,
  authenticator: 'OAUTH',
  token: process.env.SNOWGATE_TOKEN,
  database: 'DEMO',
  schema: 'PUBLIC',
});

function exec(sqlText, opts = {}) {
  return new Promise((resolve, reject) => {
    conn.execute({
      sqlText, ...opts,
      complete: (err, stmt, rows) => (err ? reject(err) : resolve({ stmt, rows })),
    });
  });
}

function ok(name, got, want) {
  assert.deepStrictEqual(got, want, name);
  console.log('ok ' + name);
}

async function main() {
  await conn.connectAsync();

  const { rows } = await exec(`SELECT 42::NUMBER(38,0) AS i, 1.25::NUMBER(10,2) AS dec, -1.5::FLOAT AS r, 'héllo' AS t,
    true AS b, '2024-02-29'::DATE AS d, '2024-02-29 13:14:15.123'::TIMESTAMP_NTZ AS ntz,
    '2024-02-29 13:14:15.5+00'::TIMESTAMP_LTZ AS ltz, '2024-02-29 13:14:15+02:00'::TIMESTAMP_TZ AS tz,
    from_hex('DEADBEEF') AS bin, PARSE_JSON('{"a": [1, 2]}') AS v, NULL::VARCHAR AS n`);
  const r = rows[0];
  ok('fixed', r.I, 42);
  ok('fixed(10,2)', r.DEC, 1.25);
  ok('real', r.R, -1.5);
  ok('text', r.T, 'héllo');
  ok('boolean', r.B, true);
  ok('date', r.D.toJSON().slice(0, 10), '2024-02-29');
  const epoch = (y, mo, d, h, mi, s) => Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
  ok('timestamp_ntz', [r.NTZ.getEpochSeconds(), r.NTZ.getNanoSeconds()], [epoch(2024, 2, 29, 13, 14, 15), 123000000]);
  ok('timestamp_ltz', [r.LTZ.getEpochSeconds(), r.LTZ.getNanoSeconds()], [epoch(2024, 2, 29, 13, 14, 15), 500000000]);
  ok('timestamp_tz instant', r.TZ.getEpochSeconds(), epoch(2024, 2, 29, 11, 14, 15));
  ok('timestamp_tz offset', r.TZ.getTimezone(), 120);
  ok('binary', Buffer.from(r.BIN).toString('hex').toUpperCase(), 'DEADBEEF');
  ok('variant', r.V, { a: [1, 2] });
  ok('null', r.N, null);

  await exec('CREATE TABLE node_scratch (id INT, note VARCHAR)');
  let res = await exec(`INSERT INTO node_scratch VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
  ok('insert count', res.stmt.getNumUpdatedRows(), 3);
  res = await exec('INSERT INTO node_scratch VALUES (?, ?)', { binds: [4, 'bound'] });
  ok('bound insert count', res.stmt.getNumUpdatedRows(), 1);
  res = await exec(`UPDATE node_scratch SET note = 'x' WHERE id > 1`);
  ok('update count', res.stmt.getNumUpdatedRows(), 3);
  res = await exec('DELETE FROM node_scratch WHERE id = 1');
  ok('delete count', res.stmt.getNumUpdatedRows(), 1);

  res = await exec('SELECT 1 AS a; SELECT 2 AS b', { parameters: { MULTI_STATEMENT_COUNT: 2 } });
  ok('multi-statement first result', res.rows, [{ A: 1 }]);
  ok('multi-statement has more', res.stmt.hasNext(), true);

  res = await exec('SELECT count(*) AS n FROM range(2000000)', { asyncExec: true });
  const qid = res.stmt.getQueryId();
  let status = await conn.getQueryStatus(qid);
  while (conn.isStillRunning(status)) {
    await new Promise((r) => setTimeout(r, 50));
    status = await conn.getQueryStatus(qid);
  }
  const again = await new Promise((resolve, reject) => {
    conn.getResultsFromQueryId({ queryId: qid, complete: (err, stmt, rows) => (err ? reject(err) : resolve(rows)) });
  });
  ok('async result by query id', again, [{ N: 2000000 }]);

  res = await exec('SELECT range AS i FROM range(30000) ORDER BY 1');
  ok('large result row count', res.rows.length, 30000);
  ok('large result last row', res.rows[29999].I, 29999);

  try {
    await exec('SELECT * FROM no_such_table');
    assert.fail('missing table did not fail');
  } catch (e) {
    ok('missing table code and sqlstate', [e.code, e.sqlState], ['002003', '42S02']);
  }

  const stmt2 = conn.execute({ sqlText: 'SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b', complete: () => {} });
  await new Promise((r) => setTimeout(r, 300));
  await new Promise((resolve, reject) => stmt2.cancel((err) => (err ? reject(err) : resolve())));
  console.log('ok cancel');

  await new Promise((resolve, reject) => conn.destroy((err) => (err ? reject(err) : resolve())));
  console.log('node client: all checks passed');
}

main().catch((e) => {
  console.error('FAIL', e && (e.stack || e));
  process.exit(1);
});

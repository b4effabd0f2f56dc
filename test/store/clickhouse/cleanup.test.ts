/**
 * @module The ClickHouse store drops old heartbeats and `appends` rows (hourly partitions older
 * than two hours): without it both tables would grow by a row a second per server for ever.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStore } from '../../../src/store/open.js';
import { sharedClickHouse } from './factory.js';

let url = '';
const db = `kj_cleanup_${process.pid}`;
const q = async (sql: string): Promise<string> => {
  const res = await fetch(`${url}/`, { method: 'POST', body: sql });
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  return text.trim();
};

before(async () => {
  url = (await sharedClickHouse()).url;
});
after(async () => {
  await q(`DROP DATABASE IF EXISTS ${db}`);
});

test('heartbeats and appends rows older than two hours are dropped, recent ones kept', async () => {
  const config = {
    dataDir: '/nonexistent',
    backend: { kind: 'clickhouse' as const, url, database: db, pollMs: 50 },
  };
  let store = await openStore(config);
  await store.close();
  const old = Date.now() - 5 * 3_600_000;
  await q(`INSERT INTO ${db}.writers (at, writer, slot, safe) VALUES (${old}, 'gone', 3, 1)`);
  await q(
    `INSERT INTO ${db}.appends (at, writer, tenant, first, count, streams, min_ts, max_ts) VALUES (${old}, 'gone', 't', 1, 1, [1], 1, 1)`,
  );
  assert.equal(await q(`SELECT count() FROM ${db}.writers WHERE at = ${old}`), '1');
  store = await openStore(config);
  try {
    const deadline = Date.now() + 10_000;
    while (
      Date.now() < deadline &&
      (await q(`SELECT count() FROM ${db}.writers WHERE at = ${old}`)) +
        (await q(`SELECT count() FROM ${db}.appends WHERE at = ${old}`)) !==
        '00'
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await q(`SELECT count() FROM ${db}.writers WHERE at = ${old}`), '0');
    assert.equal(await q(`SELECT count() FROM ${db}.appends WHERE at = ${old}`), '0');
    // This server's own recent heartbeats stay.
    assert.notEqual(await q(`SELECT count() FROM ${db}.writers`), '0');
  } finally {
    await store.close();
  }
});

/**
 * The ClickHouse HTTP client's cancellation (src/store/clickhouse/http.ts): 18.16 goes on running a
 * query whose client went away, so an aborted or abandoned stream KILLs its query by id. A query
 * that would run 30 s (one row per block, a second's sleep per block) must leave system.processes
 * within a couple of seconds of the abort. (A reader that stops early is not tested here: 18.16
 * buffers this answer until the end, and a query that streams fails on the closed socket anyway.)
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ClickHouseHttp } from '../../../src/store/clickhouse/http.js';
import { type ClickHouseProcess, startClickHouse } from '../../helpers/clickhouse.js';
import { chSql } from '../../helpers/clickhouse-e2e.js';

let ch: ClickHouseProcess;
before(async () => {
  ch = await startClickHouse();
});
after(async () => {
  await ch?.stop();
});

const running = async (id: string): Promise<boolean> =>
  (await chSql(ch.url, `SELECT count() FROM system.processes WHERE query_id = '${id}'`)).trim() !== '0';

async function untilGone(id: string, ms: number): Promise<number> {
  const start = Date.now();
  while (await running(id)) {
    if (Date.now() - start > ms) throw new Error(`query ${id} still runs ${ms} ms after it was given up`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

/** 30 blocks of one row, each sleeping a second: 30 s unless KILLed. */
const SLOW = { query: 'SELECT sleep(1) FROM system.numbers LIMIT 30', settings: { max_block_size: 1 } };

test('an aborted signal KILLs the query in ClickHouse', async () => {
  const http = new ClickHouseHttp({ url: ch.url });
  try {
    const controller = new AbortController();
    const queryId = 'kj-abort-test';
    const reading = (async () => {
      for await (const _ of http.stream({ ...SLOW, queryId, signal: controller.signal })) {
        // keep reading
      }
    })();
    const asked = Date.now();
    while (!(await running(queryId))) {
      if (Date.now() - asked > 5000) throw new Error('the query never ran');
      await new Promise((r) => setTimeout(r, 20));
    }
    controller.abort(new Error('client went away'));
    await assert.rejects(reading, /client went away/);
    const took = await untilGone(queryId, 3000);
    assert.ok(took < 3000, `gone ${took} ms after the abort`);
  } finally {
    http.close();
  }
});

test('an answer that ends after the signal was aborted is the abort, not a complete answer', async () => {
  // 18.16 ends the answer of a query KILLed for an abort cleanly, without the rows it had not sent:
  // reading to that end must not pass for the whole answer. Here the answer is complete before the
  // abort, which reaches the reader between two chunks, as the KILLed query's end does.
  const server = createServer((_req, res) => {
    res.write('first chunk');
    setTimeout(() => res.end('second chunk'), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const http = new ClickHouseHttp({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  try {
    const controller = new AbortController();
    const reason = new Error('deadline passed');
    const reading = (async () => {
      const chunks: string[] = [];
      for await (const c of http.stream({ query: 'SELECT 1', signal: controller.signal })) {
        chunks.push(c.toString());
        // The rest of the answer arrives (and ends) while this reader is busy; then the abort.
        await new Promise((r) => setTimeout(r, 100));
        controller.abort(reason);
      }
      return chunks;
    })();
    await assert.rejects(reading, /deadline passed/);
  } finally {
    http.close();
    server.closeAllConnections();
    server.close();
  }
});

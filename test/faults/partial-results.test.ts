/**
 * An answer is right or it is an error (issue 12, item 3). Reads that fail part-way, through an
 * injected fault (faulty-store.ts) on every query path of an in-process server, or in DuckDB itself
 * (a streamed result that fails mid-way, an interrupted scan, a damaged Parquet part, out of memory
 * under concurrent queries), must fail the whole request: a 5xx, a Kubernetes Status, an ERROR
 * watch event or a closed tail, never a 200 with what was read before the failure.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { normalizeLabels } from '../../src/model/normalize.js';
import { DEFAULT_SERVER_CONFIG, type RunningServer, startServer } from '../../src/server/app.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { DuckDbEngine, IncompleteResultError } from '../../src/store/duckdb/engine.js';
import { pushJson } from '../helpers/server-process.js';
import { type Faults, FaultyStore } from './faulty-store.js';

const SEC = 1_000_000_000n;
const ENTRIES = 300;
const KUBE = '/apis/core.kjournal/v1alpha1';
/** Every read fails: entries after 3 batches of 10 (mid-stream), every count and stream read at once. */
const ALL_FAIL: Faults = {
  entriesAfterBatches: 3,
  reject: ['count', 'countByStream', 'countByBucket', 'streams'],
};

interface Answer {
  status: number;
  body: string;
}

async function get(base: string, path: string, params: Record<string, string> = {}): Promise<Answer> {
  const q = new URLSearchParams(params).toString();
  const r = await fetch(`${base}${path}${q ? `?${q}` : ''}`);
  return { status: r.status, body: await r.text() };
}

/** The total of a Loki matrix or vector answer. */
function metricTotal(body: string): number {
  const data = (
    JSON.parse(body) as { data: { result: { values?: [number, string][]; value?: [number, string] }[] } }
  ).data;
  let total = 0;
  for (const s of data.result) for (const [, v] of s.values ?? (s.value ? [s.value] : [])) total += Number(v);
  return total;
}

function streamEntries(body: string): number {
  const data = (JSON.parse(body) as { data: { result: { values: unknown[] }[] } }).data;
  return data.result.reduce((n, s) => n + s.values.length, 0);
}

describe('no query path answers success with a partial read', () => {
  let dataDir: string;
  let store: FaultyStore;
  let srv: RunningServer;
  const now = BigInt(Date.now()) * 1_000_000n;
  const first = now - 600n * SEC;
  const range = { start: String(first - SEC), end: String(now + SEC) };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kj-partial-'));
    store = new FaultyStore(new DuckDbStore({ dir: dataDir, maintenanceIntervalMs: 3_600_000 }));
    srv = await startServer({ ...DEFAULT_SERVER_CONFIG, port: 0, dataDir, store, log: () => {} });
    // 300 JSON lines, one a second over the last five minutes, in three pods' streams.
    const streams = [0, 1, 2].map((p) => ({
      stream: { kind: 'containerlog', namespace: 'shop', pod: `web-${p}`, container: 'app' },
      values: [] as [string, string][],
    }));
    for (let i = 0; i < ENTRIES; i++) {
      const ts = first + BigInt(i) * SEC;
      streams[i % 3]!.values.push([String(ts), JSON.stringify({ level: 'info', msg: `request ${i}`, n: i })]);
    }
    const r = await pushJson(srv.url, { streams });
    assert.equal(r.status, 204, r.text);
  });

  after(async () => {
    await srv?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /**
   * The request's full answer when the store reads well, then its answer when every read fails
   * part-way: an internal error (its id; the details only in the log), and proof that a fault fired.
   */
  async function check(
    path: string,
    params: Record<string, string>,
    whole: (a: Answer) => void,
    failed: (a: Answer) => void = (a) => {
      assert.ok(a.status >= 500, `${path}: ${a.status} ${a.body.slice(0, 300)}`);
      assert.match(a.body, /internal error [0-9a-f]{12}/);
    },
  ): Promise<void> {
    store.arm({});
    const ok = await get(srv.url, path, params);
    assert.equal(ok.status, 200, `${path}: ${ok.body.slice(0, 300)}`);
    whole(ok);
    store.arm(ALL_FAIL);
    try {
      const bad = await get(srv.url, path, params);
      assert.ok(store.firedTotal() > 0, `${path} read the store through a faulted operation`);
      failed(bad);
    } finally {
      store.arm({});
    }
  }

  test('Loki log queries: range and instant', async () => {
    const q = { query: '{namespace="shop"}', limit: '1000', ...range };
    await check('/loki/api/v1/query_range', q, (a) => assert.equal(streamEntries(a.body), ENTRIES));
    await check('/loki/api/v1/query', { query: '{namespace="shop"}', limit: '1000', time: range.end }, (a) =>
      assert.equal(streamEntries(a.body), ENTRIES),
    );
    // A pipeline left after the store: the limit applies after it.
    await check('/loki/api/v1/query_range', { ...q, query: '{namespace="shop"} | json | n >= 0' }, (a) =>
      assert.equal(streamEntries(a.body), ENTRIES),
    );
  });

  test('metric queries: SQL bucket counting and the streamed path, range and instant', async () => {
    const step = { ...range, step: '60' };
    for (const query of [
      'count_over_time({namespace="shop"}[1m])',
      'sum by (pod) (count_over_time({namespace="shop"}[1m]))',
      'count_over_time({namespace="shop"} | json [1m])',
      'sum(rate({namespace="shop"} | json | n > 10 [1m]))',
      'sum(count_over_time({namespace="shop"}[1m])) + sum(count_over_time({namespace="shop"} | json [1m]))',
    ]) {
      await check('/loki/api/v1/query_range', { query, ...step }, (a) => assert.ok(metricTotal(a.body) > 0));
    }
    for (const query of [
      'sum(count_over_time({namespace="shop"}[20m]))',
      'sum(count_over_time({namespace="shop"} | json [20m]))',
    ]) {
      await check('/loki/api/v1/query', { query, time: range.end }, (a) =>
        assert.equal(metricTotal(a.body), ENTRIES),
      );
    }
  });

  test('labels, label values, series, index stats and volume, detected fields', async () => {
    const sel = { query: '{namespace="shop"}', ...range };
    await check('/loki/api/v1/labels', range, (a) => assert.match(a.body, /"pod"/));
    await check('/loki/api/v1/label/pod/values', range, (a) => assert.match(a.body, /web-2/));
    await check('/loki/api/v1/series', { 'match[]': '{namespace="shop"}', ...range }, (a) =>
      assert.match(a.body, /web-2/),
    );
    await check('/loki/api/v1/index/stats', sel, (a) =>
      assert.equal((JSON.parse(a.body) as { entries: number }).entries, ENTRIES),
    );
    // Volumes are bytes.
    await check('/loki/api/v1/index/volume', sel, (a) => assert.ok(metricTotal(a.body) > 0));
    await check('/loki/api/v1/index/volume_range', { ...sel, step: '60' }, (a) =>
      assert.ok(metricTotal(a.body) > 0),
    );
    await check('/loki/api/v1/detected_fields', sel, (a) => assert.match(a.body, /"msg"/));
    // LokiStack's class-restricted paths share the handlers.
    await check('/api/logs/v1/application/loki/api/v1/query_range', { ...sel, limit: '1000' }, (a) =>
      assert.equal(streamEntries(a.body), ENTRIES),
    );
  });

  test('korrel8r logs', async () => {
    const query = 'log:application:{"namespace":"shop"}';
    await check(
      '/api/v1/korrel8r/logs',
      { query, limit: '1000', ...range },
      (a) => assert.equal((JSON.parse(a.body) as unknown[]).length, ENTRIES),
      (a) => {
        assert.ok(a.status >= 500, a.body);
        assert.match((JSON.parse(a.body) as { error: string }).error, /internal error [0-9a-f]{12}/);
      },
    );
  });

  test('kube list, with and without pages, and get: a Status 500', async () => {
    const kubeFailed = (a: Answer): void => {
      assert.equal(a.status, 500, a.body);
      const status = JSON.parse(a.body) as { kind: string; code: number; message: string };
      assert.equal(status.kind, 'Status');
      assert.equal(status.code, 500);
      assert.match(status.message, /internal error [0-9a-f]{12}/);
    };
    type List = { items: { metadata: { name: string } }[]; metadata: { continue?: string } };
    const items = (a: Answer) => (JSON.parse(a.body) as List).items;
    const path = `${KUBE}/namespaces/shop/containerlogs`;
    await check(path, {}, (a) => assert.equal(items(a).length, ENTRIES), kubeFailed);
    await check(path, { limit: '100' }, (a) => assert.equal(items(a).length, 100), kubeFailed);
    const page1 = JSON.parse((await get(srv.url, path, { limit: '100' })).body) as List;
    assert.ok(page1.metadata.continue);
    await check(
      path,
      { limit: '250', continue: page1.metadata.continue },
      (a) => assert.equal(items(a).length, ENTRIES - 100),
      kubeFailed,
    );
    const name = page1.items[5]!.metadata.name;
    // One object: its read fails before its first batch.
    store.arm({ entriesAfterBatches: 0 });
    try {
      kubeFailed(await get(srv.url, `${path}/${name}`));
    } finally {
      store.arm({});
    }
  });

  test('kube watch replay: an ERROR event, and none of the replay before it', async () => {
    store.arm(ALL_FAIL);
    try {
      const r = await fetch(`${srv.url}${KUBE}/namespaces/shop/containerlogs?watch=true&resourceVersion=1`);
      assert.equal(r.status, 200);
      const events = (await r.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; object: { code?: number; message?: string } });
      assert.deepEqual(
        events.map((e) => e.type),
        ['ERROR'],
      );
      assert.equal(events[0]!.object.code, 500);
      assert.match(events[0]!.object.message ?? '', /internal error [0-9a-f]{12}/);
      assert.ok(store.firedTotal() > 0);
    } finally {
      store.arm({});
    }
  });

  test('Loki tail: history that fails closes the socket with 1011 and sends none of it', async () => {
    const url = `${srv.url.replace('http', 'ws')}/loki/api/v1/tail?${new URLSearchParams({
      query: '{namespace="shop"}',
      limit: '1000',
      start: range.start,
    })}`;
    const tail = (): Promise<{ frames: number; code: number; entries: number }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        let frames = 0;
        let entries = 0;
        ws.on('message', (data) => {
          frames++;
          const f = JSON.parse(String(data)) as { streams?: { values: unknown[] }[] };
          for (const s of f.streams ?? []) entries += s.values.length;
          if (entries >= ENTRIES) ws.close(1000);
        });
        ws.on('close', (code) => resolve({ frames, code, entries }));
        ws.on('error', reject);
      });
    const whole = await tail();
    assert.equal(whole.entries, ENTRIES);
    store.arm(ALL_FAIL);
    try {
      const failed = await tail();
      assert.deepEqual(failed, { frames: 0, code: 1011, entries: 0 });
      assert.ok(store.firedTotal() > 0);
    } finally {
      store.arm({});
    }
  });
});

describe('DuckDB: a streamed result that fails part-way is an error', () => {
  let dir: string;
  let engine: DuckDbEngine;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-partial-engine-'));
    engine = await DuckDbEngine.create({ threads: 2, memoryLimit: '256MB', tempDirectory: dir });
  });
  after(async () => {
    engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  const failingAt = (n: number, total: number) =>
    `SELECT CASE WHEN i < ${n} THEN i ELSE error('failed at row ' || i) END AS v FROM range(${total}) t(i)`;

  async function drain(sql: string, signal?: AbortSignal, onChunk?: () => void): Promise<number> {
    let rows = 0;
    for await (const chunk of engine.rows(sql, [], signal)) {
      rows += chunk.length;
      onChunk?.();
    }
    return rows;
  }

  test('an error after the first chunks rejects, rather than ending the rows early', async () => {
    // Measured with @duckdb/node-api 1.5.6: without the check, 4,872,192 of the rows and no error.
    let read = 0;
    await assert.rejects(
      drain(failingAt(5_000_000, 10_000_000), undefined, () => read++),
      IncompleteResultError,
    );
    assert.ok(read > 0, 'the failure came after rows were streamed');
  });

  test('complete results still end normally: empty, one chunk, chunk-aligned, ordered and limited', async () => {
    assert.equal(await drain('SELECT 1 WHERE false'), 0);
    assert.equal(await drain('SELECT 42'), 1);
    assert.equal(await drain('SELECT i FROM range(4096) t(i)'), 4096);
    assert.equal(await drain('SELECT i FROM range(3000000) t(i) ORDER BY i DESC LIMIT 100000'), 100_000);
    assert.equal(await drain(failingAt(3_000_000, 2_000_000)), 2_000_000);
  });

  test('an interrupt (a deadline) mid-stream rejects with the signal reason', async () => {
    const ac = new AbortController();
    let chunks = 0;
    await assert.rejects(
      drain('SELECT i, md5(i::VARCHAR) FROM range(50000000) t(i)', ac.signal, () => {
        if (++chunks === 3) ac.abort(new Error('deadline'));
      }),
      /deadline/,
    );
  });

  test('a deadline that passes while the query connects still stops it', async () => {
    const sql = 'SELECT i FROM range(100000) t(i)';
    const ac = new AbortController();
    const streamed = drain(sql, ac.signal);
    const all = engine.all(sql, [], ac.signal);
    ac.abort(new Error('deadline'));
    await assert.rejects(streamed, /deadline/);
    await assert.rejects(all, /deadline/);
  });

  test('concurrent streams fail independently: one interrupted, the others complete', async () => {
    const ac = new AbortController();
    const sql = 'SELECT i FROM range(2000000) t(i)';
    const others = Array.from({ length: 6 }, () => drain(sql));
    const cancelled = drain(sql, ac.signal, () => ac.abort(new Error('cancelled')));
    await assert.rejects(cancelled, /cancelled/);
    for (const n of await Promise.all(others)) assert.equal(n, 2_000_000);
  });
});

describe('DuckDB store: concurrent queries out of memory, a damaged Parquet part', () => {
  let dir: string;
  let srv: RunningServer;
  const now = BigInt(Date.now()) * 1_000_000n;
  const N = 400_000;
  const first = now - 3_000n * SEC;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-partial-damaged-'));
    const store = new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000 });
    await store.open();
    const labels = normalizeLabels({ namespace: 'bank', pod: 'api-0', container: 'app' });
    for (let i = 0; i < N; ) {
      const records = [];
      for (let k = 0; k < 20_000 && i < N; k++, i++) {
        const ts = first + (BigInt(i) * 3_000n * SEC) / BigInt(N);
        records.push({
          timestamp: ts,
          observedTimestamp: ts,
          labels,
          attributes: {},
          body: `{"msg":"payment ${i} of ${(i * 7919) % 100_003} settled","n":${i}}`,
        });
      }
      await store.append('default', records);
    }
    await store.settle();
    await store.close();
  });

  after(async () => {
    await srv?.close();
    await rm(dir, { recursive: true, force: true });
  });

  // Steps of a minute from a minute before the first entry to a minute after the last: every
  // entry is in exactly one window.
  const params = { start: String(first - 60n * SEC), end: String(first + 3_060n * SEC), step: '60' };
  const queries = [
    'sum(count_over_time({namespace="bank"}[1m]))',
    'sum by (pod) (count_over_time({namespace="bank"} | json [1m]))',
    'sum(count_over_time({namespace="bank"} |= "settled" | json [1m]))',
  ];

  test('200 concurrent metric queries with 32 MiB for DuckDB: every 200 is the whole count', async () => {
    // Measured before the fix: in each of three runs some queries answered 200 with 178,176,
    // 188,416 or 362,272 of the 400,000 (and with 3M lines, 200 with 0); the rest ran out of memory.
    // Admission (query/admission.ts) would run them one at a time: 8 at once here, so that they
    // still contend for DuckDB's memory, and the rest are refused (429) rather than queued.
    srv = await startServer({
      ...DEFAULT_SERVER_CONFIG,
      port: 0,
      dataDir: dir,
      queryMemoryLimit: '32MiB',
      maxConcurrentQueries: 8,
      maxQueuedQueries: 24,
      log: () => {},
    });
    try {
      for (const query of queries) {
        const a = await get(srv.url, '/loki/api/v1/query_range', { query, ...params });
        assert.equal(a.status, 200, a.body);
        assert.equal(metricTotal(a.body), N, query);
      }
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          get(srv.url, '/loki/api/v1/query_range', { query: queries[i % queries.length]!, ...params }),
        ),
      );
      const statuses = new Map<number, number>();
      for (const a of answers) {
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        if (a.status === 200) assert.equal(metricTotal(a.body), N, 'a 200 answer has the whole count');
        else assert.ok([429, 500, 503, 504].includes(a.status), `${a.status} ${a.body.slice(0, 200)}`);
      }
      assert.ok((statuses.get(200) ?? 0) > 0, `some queries complete: ${JSON.stringify([...statuses])}`);
    } finally {
      await srv.close();
    }
  });

  test('a query past its deadline is a 504, never the count read until then', async () => {
    srv = await startServer({
      ...DEFAULT_SERVER_CONFIG,
      port: 0,
      dataDir: dir,
      queryTimeoutMs: 150,
      log: () => {},
    });
    try {
      const seen = new Set<number>();
      for (const query of [...queries, '{namespace="bank"} | json | n >= 0']) {
        for (let i = 0; i < 3; i++) {
          const a = await get(srv.url, '/loki/api/v1/query_range', { query, limit: '5000', ...params });
          seen.add(a.status);
          if (a.status === 200 && !query.startsWith('{')) assert.equal(metricTotal(a.body), N, query);
          else if (a.status === 200) assert.equal(streamEntries(a.body), 5000, query);
          else assert.equal(a.status, 504, a.body);
        }
      }
      assert.ok(seen.has(504), 'the deadline was reached');
    } finally {
      await srv.close();
    }
  });

  test('a store read aborted part-way (a query deadline) rejects with the reason', async () => {
    const store = new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000 });
    await store.open();
    try {
      const sel = { tenant: 'default', start: 0n, end: now + SEC, matchers: [], lineFilters: [] };
      for (const unordered of [true, false]) {
        const ac = new AbortController();
        let read = 0;
        await assert.rejects(
          (async () => {
            for await (const batch of store.entries({
              ...sel,
              direction: 'forward',
              unordered,
              signal: ac.signal,
            })) {
              read += batch.length;
              ac.abort(new Error('deadline'));
            }
          })(),
          /deadline/,
        );
        assert.ok(read > 0 && read < N, `aborted after ${read} entries`);
      }
    } finally {
      await store.close();
    }
  });

  test('every query that reads a damaged part fails; none answers a smaller count', async () => {
    // Zeros over 64 KiB in the middle of the largest part: a column chunk that no longer decompresses.
    const parts: { path: string; size: number }[] = [];
    const root = join(dir, 'parts');
    for (const t of await readdir(root))
      for (const d of await readdir(join(root, t)))
        for (const f of await readdir(join(root, t, d)))
          if (f.endsWith('.parquet')) {
            const path = join(root, t, d, f);
            parts.push({ path, size: (await stat(path)).size });
          }
    parts.sort((a, b) => b.size - a.size);
    const part = parts[0]!;
    const fh = await open(part.path, 'r+');
    await fh.write(Buffer.alloc(64 << 10), 0, 64 << 10, Math.floor(part.size / 2));
    await fh.close();
    srv = await startServer({ ...DEFAULT_SERVER_CONFIG, port: 0, dataDir: dir, log: () => {} });
    for (const query of queries) {
      const a = await get(srv.url, '/loki/api/v1/query_range', { query, ...params });
      // Counting without a pipeline reads only some columns: when the damage is in another one
      // (bodies), it is right to answer, and then with the whole count. The streamed queries read
      // every column.
      if (a.status === 200 && !query.includes('| json')) assert.equal(metricTotal(a.body), N, query);
      else assert.equal(a.status, 500, `${query}: ${a.status} ${a.body.slice(0, 200)}`);
    }
    const log = await get(srv.url, '/loki/api/v1/query_range', {
      query: '{namespace="bank"} |= "payment 1 "',
      limit: '10',
      ...params,
    });
    assert.equal(log.status, 500, log.body.slice(0, 200));
  });
});

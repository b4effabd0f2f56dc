/**
 * The query limits of `kjournal serve`, end to end against the real server process: a per-query
 * timeout (504, as Loki's query frontend), series, length and range limits (400 naming the limit),
 * and that the server keeps answering afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  http,
  pushJson,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

let slow: ServerProcess;
let strict: ServerProcess;
const now = BigInt(Date.now()) * 1_000_000n;
const SEC = 1_000_000_000n;

/** 40 pods × 100 JSON lines over the last 10 minutes. */
function streams() {
  const out = [];
  for (let p = 0; p < 40; p++) {
    const values: [string, string][] = [];
    for (let i = 0; i < 100; i++) {
      const ts = now - 600n * SEC + BigInt(i * 6) * SEC + BigInt(p);
      values.push([`${ts}`, JSON.stringify({ level: i % 10 === 0 ? 'error' : 'info', msg: `line ${i}`, p })]);
    }
    out.push({ stream: { namespace: 'shop', pod: `pod-${p}` }, values });
  }
  return { streams: out };
}

before(async () => {
  [slow, strict] = await Promise.all([
    startServerProcess({ args: ['--query-timeout', '1ms'] }),
    startServerProcess({
      args: ['--max-query-series', '5', '--max-query-length', '2h', '--max-query-range', '30m'],
    }),
  ]);
  for (const s of [slow, strict]) {
    const r = await pushJson(s.url, streams());
    assert.equal(r.status, 204, r.text);
  }
});
after(async () => {
  await Promise.all([slow.stop(), strict.stop()]);
  await Promise.all([removeDir(slow.dataDir), removeDir(strict.dataDir)]);
});

const range = (url: string, q: Record<string, string>) =>
  http(
    `${url}/loki/api/v1/query_range?${new URLSearchParams({
      start: `${now - 900n * SEC}`,
      end: `${now}`,
      step: '1s',
      ...q,
    })}`,
  );

test('--query-timeout: a query past its deadline is a 504, and the server goes on', async () => {
  for (const query of [
    'sum by (pod) (count_over_time({namespace="shop"} | json | level="error" [1m]))',
    '{namespace="shop"} | json | level="error"',
  ]) {
    const r = await range(slow.url, { query });
    assert.equal(r.status, 504, `${query}: ${r.text}`);
    assert.match(r.text, /query timed out/);
  }
  const k = await http(
    `${slow.url}/api/v1/korrel8r/logs?query=${encodeURIComponent('log:application:{"namespace":"shop"}')}`,
  );
  assert.equal(k.status, 504, k.text);
  assert.match(JSON.parse(k.text).error, /timed out/);
  assert.equal((await http(`${slow.url}/ready`)).status, 200);
  const labels = await http(`${slow.url}/loki/api/v1/labels`);
  assert.equal(labels.status, 200, labels.text);
});

test('--max-query-series: too many series is a 400 naming the limit', async () => {
  const r = await range(strict.url, { query: 'count_over_time({namespace="shop"}[1m])', step: '60s' });
  assert.equal(r.status, 400, r.text);
  assert.match(r.text, /maximum number of series \(5\) reached for a single query/);
  const ok = await range(strict.url, { query: 'sum(count_over_time({namespace="shop"}[1m]))', step: '60s' });
  assert.equal(ok.status, 200, ok.text);
  const total = JSON.parse(ok.text).data.result[0].values.reduce(
    (n: number, [, v]: [number, string]) => n + Number(v),
    0,
  );
  assert.ok(total > 0);
});

test('--max-query-length and --max-query-range: 400 naming the limit', async () => {
  const long = await http(
    `${strict.url}/loki/api/v1/query_range?${new URLSearchParams({
      query: 'sum(count_over_time({namespace="shop"}[1m]))',
      start: `${now - 3n * 3600n * SEC}`,
      end: `${now}`,
      step: '60s',
    })}`,
  );
  assert.equal(long.status, 400, long.text);
  assert.match(long.text, /the query time range exceeds the limit \(query length: .*, limit: 2h\)/);
  const wide = await range(strict.url, {
    query: 'sum(count_over_time({namespace="shop"}[1h]))',
    step: '60s',
  });
  assert.equal(wide.status, 400, wide.text);
  assert.match(wide.text, /30m/);
});

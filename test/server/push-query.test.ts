/**
 * End-to-end: the real server process, pushed to and queried over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  allValues,
  http,
  pushJson,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const NOW = BigInt(Date.now()) * 1_000_000n;
const ts = (offsetMs: number, extraNs = 0n) => (NOW + BigInt(offsetMs) * 1_000_000n + extraNs).toString();

describe('kjournal serve: push and query_range', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess();
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  test('/ready answers 200', async () => {
    const r = await http(`${server.url}/ready`);
    assert.equal(r.status, 200);
  });

  test('JSON push is stored and read back with exact nanoseconds, both directions', async () => {
    const r = await pushJson(server.url, {
      streams: [
        {
          stream: { namespace: 'shop', pod: 'checkout-1', container: 'app' },
          values: [
            [ts(-3000, 123n), 'order 1 placed'],
            [ts(-2000, 456n), 'order 2 timeout', { trace_id: 't-2' }],
            [ts(-1000, 789n), 'order 3 placed'],
          ],
        },
      ],
    });
    assert.equal(r.status, 204, r.text);
    const back = await queryRange(server.url, { query: '{namespace="shop"}', limit: '10' });
    assert.equal(back.status, 'success');
    assert.equal(back.data.resultType, 'streams');
    assert.deepEqual(allValues(back), [
      [ts(-3000, 123n), 'order 1 placed'],
      [ts(-2000, 456n), 'order 2 timeout'],
      [ts(-1000, 789n), 'order 3 placed'],
    ]);
    // Structured metadata joins the labels of the entries that carry it, as in Loki 3.
    const withMeta = back.data.result.find((s) => s.stream.trace_id === 't-2');
    assert.ok(withMeta);
    assert.equal(withMeta.stream.kind, 'containerlog');
    assert.equal(withMeta.stream.class, 'application');

    const newest = await queryRange(server.url, {
      query: '{namespace="shop"}',
      limit: '1',
      direction: 'backward',
    });
    assert.deepEqual(allValues(newest), [[ts(-1000, 789n), 'order 3 placed']]);
    const oldest = await queryRange(server.url, {
      query: '{namespace="shop"}',
      limit: '1',
      direction: 'forward',
    });
    assert.deepEqual(allValues(oldest), [[ts(-3000, 123n), 'order 1 placed']]);
  });

  test('stream selectors, line filters and every start/end form', async () => {
    const q = (query: string, extra: Record<string, string> = {}) =>
      queryRange(server.url, { query, limit: '100', ...extra }).then((r) => allValues(r).map((v) => v[1]));
    assert.deepEqual(await q('{namespace="shop"} |= "timeout"'), ['order 2 timeout']);
    assert.deepEqual(await q('{namespace="shop"} != "timeout"'), ['order 1 placed', 'order 3 placed']);
    assert.deepEqual(await q('{namespace=~"sh.p"} |~ "order [13]"'), ['order 1 placed', 'order 3 placed']);
    assert.deepEqual(await q('{namespace="shop"} !~ "placed$"'), ['order 2 timeout']);
    assert.deepEqual(await q('{kubernetes_namespace_name="shop", k8s_pod_name!="x"} |= "order 1"'), [
      'order 1 placed',
    ]);
    assert.deepEqual(await q('{kind="containerlog", namespace!~"kube-.*"} |= "order 3"'), ['order 3 placed']);
    const startNs = (NOW - 2_500_000_000n).toString();
    assert.equal((await q('{namespace="shop"}', { start: startNs })).length, 2, 'start in nanoseconds');
    const startSec = ((NOW - 2_500_000_000n) / 1_000_000_000n).toString();
    assert.ok((await q('{namespace="shop"}', { start: startSec })).length >= 2, 'start in seconds');
    const startRfc = new Date(Number((NOW - 2_500_000_000n) / 1_000_000n)).toISOString();
    assert.equal((await q('{namespace="shop"}', { start: startRfc })).length, 2, 'start in RFC 3339');
    const endFloat = (Number(NOW - 1_500_000_000n) / 1e9).toFixed(3);
    assert.equal((await q('{namespace="shop"}', { end: endFloat })).length, 2, 'end in float seconds');
    assert.equal((await q('{namespace="shop"}', { since: '1ms' })).length, 0, 'since');
  });

  test('gzip-compressed JSON push', async () => {
    const body = gzipSync(
      JSON.stringify({ streams: [{ stream: { app: 'gz' }, values: [[ts(-500), 'compressed line']] }] }),
    );
    const r = await http(`${server.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    assert.equal(r.status, 204, r.text);
    assert.deepEqual(
      allValues(await queryRange(server.url, { query: '{app="gz"}' })).map((v) => v[1]),
      ['compressed line'],
    );
  });

  test('tenants are isolated on push and read', async () => {
    const a = await pushJson(
      server.url,
      { streams: [{ stream: { app: 'multi' }, values: [[ts(-400), 'tenant a']] }] },
      { 'X-Scope-OrgID': 'team-a' },
    );
    assert.equal(a.status, 204, a.text);
    const b = await pushJson(
      server.url,
      { streams: [{ stream: { app: 'multi' }, values: [[ts(-400), 'tenant b']] }] },
      { 'X-Scope-OrgID': 'team-b' },
    );
    assert.equal(b.status, 204, b.text);
    const read = async (tenant?: string) =>
      allValues(
        await queryRange(server.url, { query: '{app="multi"}' }, tenant ? { 'X-Scope-OrgID': tenant } : {}),
      ).map((v) => v[1]);
    assert.deepEqual(await read('team-a'), ['tenant a']);
    assert.deepEqual(await read('team-b'), ['tenant b']);
    assert.deepEqual(await read(), []);
    const metric = await http(
      `${server.url}/loki/api/v1/query?${new URLSearchParams({ query: 'sum(count_over_time({app="multi"}[1h]))' })}`,
      { headers: { 'X-Scope-OrgID': 'team-a' } },
    );
    assert.equal(
      (JSON.parse(metric.text) as { data: { result: { value: [number, string] }[] } }).data.result[0]!
        .value[1],
      '1',
    );
  });

  test('instant metric queries count with the store', async () => {
    const r = await http(
      `${server.url}/loki/api/v1/query?${new URLSearchParams({ query: 'sum by (namespace) (count_over_time({namespace="shop"} |= "order" [1h]))' })}`,
    );
    assert.equal(r.status, 200, r.text);
    const body = JSON.parse(r.text) as {
      data: { resultType: string; result: { metric: object; value: [number, string] }[] };
    };
    assert.equal(body.data.resultType, 'vector');
    assert.deepEqual(
      body.data.result.map((s) => [s.metric, s.value[1]]),
      [[{ namespace: 'shop' }, '3']],
    );
    // Streams pushed with Viaq names group under the name the query asks for.
    const viaq = await pushJson(server.url, {
      streams: [
        {
          stream: { kubernetes_namespace_name: 'viaq-ns', kubernetes_pod_name: 'v' },
          values: [[ts(-100), 'viaq order']],
        },
      ],
    });
    assert.equal(viaq.status, 204, viaq.text);
    const grouped = await http(
      `${server.url}/loki/api/v1/query?${new URLSearchParams({ query: 'sum by (namespace) (count_over_time({kubernetes_namespace_name="viaq-ns"}[1h]))' })}`,
    );
    const g = JSON.parse(grouped.text) as { data: { result: { metric: object; value: [number, string] }[] } };
    assert.deepEqual(
      g.data.result.map((s) => [s.metric, s.value[1]]),
      [[{ namespace: 'viaq-ns' }, '1']],
    );
  });

  test('/metrics reports ingestion, rejections, store size and query latency', async () => {
    const r = await http(`${server.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.text, /kjournal_ingested_lines_total\{tenant="default"\} \d+/);
    assert.match(r.text, /kjournal_ingested_bytes_total\{tenant="default"\} \d+/);
    assert.match(r.text, /kjournal_store_disk_bytes [1-9]\d*/);
    assert.match(r.text, /kjournal_query_duration_seconds_count\{endpoint="query_range"\} [1-9]/);
    assert.match(r.text, /kjournal_rejected_requests_total/);
    assert.match(r.text, /kjournal_process_resident_memory_bytes/);
  });
});

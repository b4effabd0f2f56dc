/**
 * End-to-end: the Loki API under the group's path, as API aggregation forwards it
 * (`/apis/core.kjournal/v1alpha1/loki/api/v1/...`), and restricted to one namespace on its
 * namespaced path (`.../namespaces/<ns>/loki/api/v1/...`): queries, metadata, tail, push, korrel8r.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  http,
  pushJson,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const NOW = BigInt(Date.now()) * 1_000_000n;
const ts = (offsetMs: number) => (NOW + BigInt(offsetMs) * 1_000_000n).toString();
const GROUP = '/apis/core.kjournal/v1alpha1';

interface Streams {
  data: { result: { stream: Record<string, string>; values: [string, string][] }[] };
}
const lines = (body: string) =>
  (JSON.parse(body) as Streams).data.result
    .flatMap((s) => s.values)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map((v) => v[1]);

describe('the Loki API under the group path', () => {
  let server: ServerProcess;
  const get = async (path: string, params: Record<string, string>) => {
    const r = await http(`${server.url}${path}?${new URLSearchParams(params)}`);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return r.text;
  };
  before(async () => {
    server = await startServerProcess();
    const r = await pushJson(server.url, {
      streams: [
        { stream: { namespace: 'shop', pod: 'web-1', container: 'app' }, values: [[ts(-3000), 'shop line']] },
        {
          stream: { kubernetes_namespace_name: 'shop', kubernetes_pod_name: 'api-1' },
          values: [[ts(-2500), 'shop viaq line']],
        },
        {
          stream: { namespace: 'bank', pod: 'core-1', container: 'app' },
          values: [[ts(-2000), 'bank line']],
        },
        { stream: { node: 'n1', kind: 'log' }, values: [[ts(-1000), 'node line']] },
      ],
    });
    assert.equal(r.status, 204, r.text);
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  const range = () => ({ start: ts(-60_000), end: ts(60_000), limit: '100' });

  test('the cluster path answers as /loki/api/v1 does, and takes pushes', async () => {
    const push = await http(`${server.url}${GROUP}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        streams: [
          { stream: { namespace: 'lab', pod: 'p' }, values: [[ts(-500), 'pushed through the group']] },
        ],
      }),
    });
    assert.equal(push.status, 204, push.text);
    const q = { query: '{pod=~".+"} or {node=~".+"}', ...range() };
    const all = await get(`${GROUP}/loki/api/v1/query_range`, { ...q, query: '{namespace=~".+"}' });
    assert.deepEqual(lines(all), ['shop line', 'shop viaq line', 'bank line', 'pushed through the group']);
    const plain = await get('/loki/api/v1/query_range', { ...q, query: '{namespace=~".+"}' });
    const result = (body: string) => (JSON.parse(body) as Streams).data.result;
    assert.deepEqual(result(all), result(plain));
  });

  test('the namespaced path sees its namespace only, whatever the query names', async () => {
    const ns = `${GROUP}/namespaces/shop/loki/api/v1`;
    for (const query of [
      '{namespace=~".+"}',
      '{pod=~".+"}',
      '{namespace="bank"}',
      '{kubernetes_namespace_name=~".*"}',
    ]) {
      const body = await get(`${ns}/query_range`, { query, ...range() });
      const want = query.includes('bank') ? [] : ['shop line', 'shop viaq line'];
      assert.deepEqual(lines(body), want, query);
    }
    const metric = JSON.parse(
      await get(`${ns}/query`, { query: 'sum(count_over_time({namespace=~".+"}[1h]))', time: ts(0) }),
    ) as { data: { result: { value: [number, string] }[] } };
    assert.equal(metric.data.result[0]?.value[1], '2');
    const pods = JSON.parse(await get(`${ns}/label/pod/values`, { start: ts(-60_000), end: ts(60_000) })) as {
      data: string[];
    };
    assert.deepEqual(pods.data, ['api-1', 'web-1'], 'the pod under any of its names (Viaq too)');
    const namespaces = JSON.parse(
      await get(`${ns}/label/namespace/values`, { start: ts(-60_000), end: ts(60_000) }),
    ) as { data: string[] };
    assert.deepEqual(namespaces.data, ['shop']);
    const series = JSON.parse(
      await get(`${ns}/series`, { 'match[]': '{pod=~".+"}', start: ts(-60_000), end: ts(60_000) }),
    ) as { data: Record<string, string>[] };
    assert.deepEqual(series.data.map((s) => s.pod ?? s.kubernetes_pod_name).sort(), ['api-1', 'web-1']);
    const stats = JSON.parse(
      await get(`${ns}/index/stats`, { query: '{pod=~".+"}', start: ts(-60_000), end: ts(60_000) }),
    ) as { entries: number };
    assert.equal(stats.entries, 2);
  });

  test('a tail on the namespaced path gets only its namespace', async () => {
    const url = `${server.url.replace('http', 'ws')}${GROUP}/namespaces/bank/loki/api/v1/tail?${new URLSearchParams({ query: '{pod=~".+"}', start: ts(-60_000) })}`;
    const ws = new WebSocket(url);
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        for (const s of (JSON.parse(String(data)) as { streams: { values: [string, string][] }[] }).streams) {
          for (const v of s.values) got.push(v[1]);
        }
        if (got.includes('bank line')) resolve();
      });
      ws.on('error', reject);
      setTimeout(() => reject(new Error(`no bank line: ${got.join(', ')}`)), 5000);
    });
    ws.close();
    assert.deepEqual(got, ['bank line']);
  });

  test('korrel8r under the group path', async () => {
    const body = await get(`${GROUP}/korrel8r/logs`, {
      query: 'log:application:{"namespace":"shop"}',
      start: ts(-60_000),
      end: ts(60_000),
    });
    const objects = JSON.parse(body) as { body?: string; message?: string }[];
    assert.equal(objects.length, 2);
  });
});

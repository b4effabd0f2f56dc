/**
 * End-to-end: Loki's metadata endpoints (labels, label values, series, index stats and volume,
 * build info) on the real server process, with tenant isolation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  http,
  pushJson,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const NOW = BigInt(Date.now()) * 1_000_000n;
const ts = (offsetMs: number) => (NOW + BigInt(offsetMs) * 1_000_000n).toString();

async function get(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const r = await http(url, { headers });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  return JSON.parse(r.text);
}

describe('Loki metadata endpoints', () => {
  let server: ServerProcess;
  let api: string;
  before(async () => {
    server = await startServerProcess();
    api = `${server.url}/loki/api/v1`;
    const r1 = await pushJson(server.url, {
      streams: [
        {
          stream: { namespace: 'shop', pod: 'checkout-1', container: 'app' },
          values: [
            [ts(-3000), 'order 1 placed'],
            [ts(-2000), 'order 2 timeout', { trace_id: 't-2' }],
          ],
        },
        {
          stream: {
            kubernetes_namespace_name: 'kube-system',
            kubernetes_pod_name: 'dns-1',
            kubernetes_container_name: 'dns',
          },
          values: [[ts(-1000), 'query ok']],
        },
      ],
    });
    assert.equal(r1.status, 204, r1.text);
    const r2 = await pushJson(
      server.url,
      {
        streams: [
          {
            stream: { namespace: 'secret', pod: 'p', container: 'c', team: 'red' },
            values: [[ts(-500), 'hidden']],
          },
        ],
      },
      { 'X-Scope-OrgID': 'other' },
    );
    assert.equal(r2.status, 204, r2.text);
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  test('labels: the stored stream label names, sorted, per tenant', async () => {
    assert.deepEqual(await get(`${api}/labels`), {
      status: 'success',
      data: [
        'class',
        'container',
        'kind',
        'kubernetes_container_name',
        'kubernetes_namespace_name',
        'kubernetes_pod_name',
        'namespace',
        'pod',
      ],
    });
    assert.deepEqual(await get(`${api}/labels`, { 'X-Scope-OrgID': 'other' }), {
      status: 'success',
      data: ['class', 'container', 'kind', 'namespace', 'pod', 'team'],
    });
  });

  test('labels: `query` narrows the streams; POST form works; no labels leaves data out', async () => {
    const q = new URLSearchParams({ query: '{namespace="kube-system"}' });
    assert.deepEqual(await get(`${api}/labels?${q}`), {
      status: 'success',
      data: [
        'class',
        'kind',
        'kubernetes_container_name',
        'kubernetes_namespace_name',
        'kubernetes_pod_name',
      ],
    });
    const r = await http(`${api}/labels`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: '{namespace="shop"}' }).toString(),
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), {
      status: 'success',
      data: ['class', 'container', 'kind', 'namespace', 'pod'],
    });
    // Loki also answers label names at /label.
    assert.deepEqual(await get(`${api}/label?${q}`), await get(`${api}/labels?${q}`));
    const old = new URLSearchParams({ start: '1', end: '2' });
    assert.deepEqual(await get(`${api}/labels?${old}`), { status: 'success' });
  });

  test('label values: any spelling of Kubernetes metadata, per tenant', async () => {
    const expected = { status: 'success', data: ['kube-system', 'shop'] };
    assert.deepEqual(await get(`${api}/label/namespace/values`), expected);
    assert.deepEqual(await get(`${api}/label/kubernetes_namespace_name/values`), expected);
    assert.deepEqual(await get(`${api}/label/k8s_namespace_name/values`), expected);
    assert.deepEqual(await get(`${api}/label/class/values`), {
      status: 'success',
      data: ['application', 'infrastructure'],
    });
    const q = new URLSearchParams({ query: '{class="application"}' });
    assert.deepEqual(await get(`${api}/label/pod/values?${q}`), { status: 'success', data: ['checkout-1'] });
    assert.deepEqual(await get(`${api}/label/team/values`), { status: 'success' });
    assert.deepEqual(await get(`${api}/label/team/values`, { 'X-Scope-OrgID': 'other' }), {
      status: 'success',
      data: ['red'],
    });
  });

  test('series: repeated match[], stream labels as stored', async () => {
    const q = new URLSearchParams();
    q.append('match[]', '{namespace="shop"}');
    q.append('match[]', '{k8s_namespace_name="kube-system"}');
    assert.deepEqual(await get(`${api}/series?${q}`), {
      status: 'success',
      data: [
        {
          class: 'application',
          container: 'app',
          kind: 'containerlog',
          namespace: 'shop',
          pod: 'checkout-1',
        },
        {
          class: 'infrastructure',
          kind: 'containerlog',
          kubernetes_container_name: 'dns',
          kubernetes_namespace_name: 'kube-system',
          kubernetes_pod_name: 'dns-1',
        },
      ],
    });
    const none = new URLSearchParams({ 'match[]': '{namespace="nowhere"}' });
    assert.deepEqual(await get(`${api}/series?${none}`), { status: 'success', data: [] });
    const bad = await http(`${api}/series?${new URLSearchParams({ 'match[]': '{namespace=}' })}`);
    assert.equal(bad.status, 400);
  });

  test('index/stats: streams, chunks, bytes, entries of a selector', async () => {
    const q = new URLSearchParams({ query: '{kind="containerlog"}' });
    assert.deepEqual(await get(`${api}/index/stats?${q}`), {
      streams: 2,
      chunks: 2,
      bytes: 'order 1 placed'.length + 'order 2 timeout'.length + 'query ok'.length,
      entries: 3,
    });
    const missing = await http(`${api}/index/stats`);
    assert.equal(missing.status, 400);
    assert.equal(missing.text, 'query must not be empty\n');
  });

  test('index/volume: bytes by the selector labels or targetLabels, largest first', async () => {
    const end = ts(0);
    const endSeconds = Number(BigInt(end) / 1_000_000n) / 1000;
    const q = new URLSearchParams({ query: '{kind="containerlog"}', targetLabels: 'namespace', end });
    assert.deepEqual(await get(`${api}/index/volume?${q}`), {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          {
            metric: { namespace: 'shop' },
            value: [endSeconds, String('order 1 placed'.length + 'order 2 timeout'.length)],
          },
          { metric: { namespace: 'kube-system' }, value: [endSeconds, String('query ok'.length)] },
        ],
      },
    });
    const byKind = new URLSearchParams({ query: '{kind="containerlog"}', end, limit: '1' });
    assert.deepEqual(await get(`${api}/index/volume?${byKind}`), {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [{ metric: { kind: 'containerlog' }, value: [endSeconds, '37'] }],
      },
    });
  });

  test('index/volume_range: bytes per step as a matrix', async () => {
    const sec = (offsetMs: number) => Number(BigInt(ts(offsetMs)) / 1_000_000n) / 1000;
    const q = new URLSearchParams({
      query: '{kind="containerlog"}',
      targetLabels: 'namespace',
      start: ts(-4000),
      end: ts(0),
      step: '1s',
    });
    assert.deepEqual(await get(`${api}/index/volume_range?${q}`), {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { namespace: 'shop' },
            values: [
              [sec(-3000), String('order 1 placed'.length)],
              [sec(-2000), String('order 2 timeout'.length)],
            ],
          },
          { metric: { namespace: 'kube-system' }, values: [[sec(-1000), String('query ok'.length)]] },
        ],
      },
    });
  });

  test('status/buildinfo answers as Loki', async () => {
    const info = (await get(`${api}/status/buildinfo`)) as Record<string, string>;
    assert.deepEqual(Object.keys(info), [
      'version',
      'revision',
      'branch',
      'buildUser',
      'buildDate',
      'goVersion',
    ]);
    assert.match(info.version ?? '', /^3\.\d+\.\d+$/);
  });

  test('a plain GET of /tail is refused: it is a WebSocket', async () => {
    const r = await http(`${api}/tail?query=${encodeURIComponent('{namespace="shop"}')}`);
    assert.equal(r.status, 400);
  });
});

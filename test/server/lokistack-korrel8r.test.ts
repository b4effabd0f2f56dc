/**
 * End-to-end: LokiStack's class paths (/api/logs/v1/<class>/loki/api/v1/...) see only their class,
 * and korrel8r's log endpoint answers log objects.
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

async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const r = await http(url, { headers });
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text);
}

interface Streams {
  data: { resultType: string; result: { stream: Record<string, string>; values: [string, string][] }[] };
}
const lines = (r: unknown) =>
  (r as Streams).data.result
    .flatMap((s) => s.values)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map((v) => v[1]);

describe('LokiStack class paths and korrel8r', () => {
  let server: ServerProcess;
  const stack = (cls: string) => `${server.url}/api/logs/v1/${cls}/loki/api/v1`;
  before(async () => {
    server = await startServerProcess();
    const r = await pushJson(server.url, {
      streams: [
        {
          stream: { namespace: 'shop', pod: 'web-1', container: 'app', kubernetes_labels_app: 'web' },
          values: [
            [ts(-4000), 'app line 1'],
            [ts(-3000), '{"level":"error","message":"app line 2"}', { trace_id: 't2' }],
          ],
        },
        {
          stream: {
            kubernetes_namespace_name: 'shop',
            kubernetes_pod_name: 'api-1',
            kubernetes_container_name: 'api',
          },
          values: [[ts(-2500), '{"kubernetes":{"labels":{"app":"api"}},"message":"viaq body"}']],
        },
        {
          stream: { namespace: 'kube-system', pod: 'dns-1', container: 'dns' },
          values: [[ts(-2000), 'infra line']],
        },
        { stream: { kind: 'auditevent', verb: 'get' }, values: [[ts(-1000), 'audit line']] },
      ],
    });
    assert.equal(r.status, 204, r.text);
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  test('push on a class path: streams take its class; another class is a 400 that stores nothing', async () => {
    const tenant = { 'X-Scope-OrgID': 'stack-push' };
    const push = (cls: string, streams: unknown) =>
      http(`${stack(cls)}/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...tenant },
        body: JSON.stringify({ streams }),
      });
    const shop = { namespace: 'shop', pod: 'web-9', container: 'app' };
    let r = await push('infrastructure', [
      { stream: shop, values: [[ts(-900), 'pushed on the infra path']] },
    ]);
    assert.equal(r.status, 204, r.text);
    r = await push('application', [
      { stream: shop, values: [[ts(-800), 'would be fine']] },
      { stream: { kind: 'auditevent' }, values: [[ts(-800), 'an audit event']] },
    ]);
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /is of class "audit", not "application" as the path says; nothing was stored/);
    const q = new URLSearchParams({ query: '{namespace="shop"}', limit: '100' });
    const infra = (await getJson(`${stack('infrastructure')}/query_range?${q}`, tenant)) as Streams;
    assert.deepEqual(lines(infra), ['pushed on the infra path']);
    assert.equal(infra.data.result[0]!.stream.class, 'infrastructure');
    assert.deepEqual(lines(await getJson(`${stack('application')}/query_range?${q}`, tenant)), []);
    assert.deepEqual(lines(await getJson(`${server.url}/loki/api/v1/query_range?${q}`, tenant)), [
      'pushed on the infra path',
    ]);
  });

  test('query_range sees only the path class, whatever the selector names', async () => {
    const q = (query: string) => new URLSearchParams({ query, limit: '100' });
    assert.deepEqual(lines(await getJson(`${stack('application')}/query_range?${q('{kind=~".+"}')}`)), [
      'app line 1',
      '{"level":"error","message":"app line 2"}',
      '{"kubernetes":{"labels":{"app":"api"}},"message":"viaq body"}',
    ]);
    assert.deepEqual(lines(await getJson(`${stack('infrastructure')}/query_range?${q('{kind=~".+"}')}`)), [
      'infra line',
    ]);
    assert.deepEqual(lines(await getJson(`${stack('audit')}/query_range?${q('{kind=~".+"} |= "line"')}`)), [
      'audit line',
    ]);
    // Naming another class selects nothing rather than escaping the restriction.
    assert.deepEqual(
      lines(await getJson(`${stack('application')}/query_range?${q('{class="infrastructure"}')}`)),
      [],
    );
    assert.deepEqual(
      lines(await getJson(`${stack('application')}/query_range?${q('{log_type="audit"}')}`)),
      [],
    );
  });

  test('instant metric queries are restricted too', async () => {
    const q = new URLSearchParams({ query: 'sum(count_over_time({kind=~".+"}[1h]))' });
    const r = (await getJson(`${stack('application')}/query?${q}`)) as {
      data: { resultType: string; result: { metric: object; value: [number, string] }[] };
    };
    assert.equal(r.data.resultType, 'vector');
    assert.equal(r.data.result[0]?.value[1], '3');
  });

  test('labels, label values and series are restricted', async () => {
    assert.deepEqual(await getJson(`${stack('audit')}/labels`), {
      status: 'success',
      data: ['class', 'kind', 'verb'],
    });
    assert.deepEqual(await getJson(`${stack('infrastructure')}/label/namespace/values`), {
      status: 'success',
      data: ['kube-system'],
    });
    assert.deepEqual(await getJson(`${stack('application')}/label/k8s_pod_name/values`), {
      status: 'success',
      data: ['api-1', 'web-1'],
    });
    const m = new URLSearchParams({ 'match[]': '{pod=~".+"}' });
    assert.deepEqual(await getJson(`${stack('infrastructure')}/series?${m}`), {
      status: 'success',
      data: [
        {
          namespace: 'kube-system',
          pod: 'dns-1',
          container: 'dns',
          kind: 'containerlog',
          class: 'infrastructure',
        },
      ],
    });
    const s = new URLSearchParams({ query: '{kind=~".+"}' });
    assert.deepEqual(await getJson(`${stack('audit')}/index/stats?${s}`), {
      streams: 1,
      chunks: 1,
      bytes: 'audit line'.length,
      entries: 1,
    });
  });

  test('unknown classes are not paths', async () => {
    const r = await http(`${server.url}/api/logs/v1/secret/loki/api/v1/labels`);
    assert.equal(r.status, 404);
  });

  const korrel8r = (query: string, extra: Record<string, string> = {}) =>
    `${server.url}/api/v1/korrel8r/logs?${new URLSearchParams({ query, ...extra })}`;

  test('korrel8r: a container selector answers log objects, oldest first', async () => {
    const objects = (await getJson(
      korrel8r('log:application:{"namespace":"shop","containers":["app"]}'),
    )) as Record<string, string>[];
    assert.deepEqual(
      objects.map((o) => o.body),
      ['app line 1', '{"level":"error","message":"app line 2"}'],
    );
    const second = objects[1]!;
    assert.deepEqual(second, {
      level: 'error',
      message: 'app line 2',
      trace_id: 't2',
      namespace: 'shop',
      pod: 'web-1',
      container: 'app',
      kubernetes_labels_app: 'web',
      kind: 'containerlog',
      class: 'application',
      kubernetes_namespace_name: 'shop',
      k8s_namespace_name: 'shop',
      kubernetes_pod_name: 'web-1',
      k8s_pod_name: 'web-1',
      kubernetes_container_name: 'app',
      k8s_container_name: 'app',
      k8s_pod_labels_app: 'web',
      body: '{"level":"error","message":"app line 2"}',
      timestamp: second.timestamp,
      observed_timestamp: second.observed_timestamp,
    });
    assert.match(second.timestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    assert.match(second.observed_timestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  });

  test('korrel8r: pod labels match stream labels or the Viaq JSON body', async () => {
    const web = (await getJson(korrel8r('log:application:{"labels":{"app":"web"}}'))) as Record<
      string,
      string
    >[];
    assert.deepEqual(
      web.map((o) => o.body),
      ['app line 1', '{"level":"error","message":"app line 2"}'],
    );
    const api = (await getJson(
      korrel8r('log:application:{"namespace":"shop","labels":{"app":"api"}}'),
    )) as Record<string, string>[];
    assert.deepEqual(
      api.map((o) => o.body),
      ['{"kubernetes":{"labels":{"app":"api"}},"message":"viaq body"}'],
    );
  });

  test('korrel8r: LogQL selectors, the class restriction and limit', async () => {
    const q = 'log:application:{kubernetes_namespace_name="shop"} |= "line"';
    assert.deepEqual(
      ((await getJson(korrel8r(q))) as Record<string, string>[]).map((o) => o.body),
      ['app line 1', '{"level":"error","message":"app line 2"}'],
    );
    assert.deepEqual(
      ((await getJson(korrel8r(q, { limit: '1' }))) as Record<string, string>[]).map((o) => o.body),
      ['{"level":"error","message":"app line 2"}'],
    );
    assert.deepEqual(await getJson(korrel8r('log:infrastructure:{"namespace":"shop"}')), []);
    assert.deepEqual(
      (
        (await getJson(korrel8r('log:infrastructure:{"namespace":"kube-system"}'))) as Record<
          string,
          string
        >[]
      ).map((o) => o.body),
      ['infra line'],
    );
  });

  test('korrel8r: errors are JSON', async () => {
    const r = await http(korrel8r('log:nope:{}'));
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.text), {
      error: 'unknown log class "nope": expecting one of application, infrastructure, audit',
    });
    const bad = await http(korrel8r('log:audit:{a=}'));
    assert.equal(bad.status, 400);
    assert.ok((JSON.parse(bad.text) as { error: string }).error.startsWith('parse error'));
  });
});

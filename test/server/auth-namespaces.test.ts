/**
 * Namespace-scoped LogQL over TLS with tokens and ABAC, as LokiStack's OpenShift mode scopes a
 * namespace user: a query whose selectors pin their namespaces is allowed when its user may list the
 * kinds it returns there; a query that does not needs cluster-wide rights. Metadata, series, stats,
 * the tail, korrel8r and the namespaced path of the aggregated API follow the same rule, and kinds the
 * user may not read (events, here) are cut out of every answer.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { makePki, type Pki } from '../auth/pki.js';
import { abacPolicies, httpsCall, type Reply, startTlsServer, tailOpen } from '../helpers/auth-e2e.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { coreEvent, nsNow } from '../kube/helpers.js';

const POLICY = abacPolicies([
  // alice: container logs of shop, nothing else.
  { user: 'alice', namespace: 'shop', resource: 'containerlogs', apiGroup: 'core.kjournal', readonly: true },
  // carol: container logs and events of shop.
  { user: 'carol', namespace: 'shop', resource: 'containerlogs', apiGroup: 'core.kjournal', readonly: true },
  { user: 'carol', namespace: 'shop', resource: 'events', apiGroup: 'core.kjournal', readonly: true },
  // dora: reads and deletes (ABAC: every verb) the container logs of shop, and lists delete requests.
  { user: 'dora', namespace: 'shop', resource: 'containerlogs', apiGroup: 'core.kjournal' },
  { user: 'dora', resource: 'deleterequests', apiGroup: 'core.kjournal', readonly: true },
  // olga: container logs everywhere.
  { user: 'olga', namespace: '*', resource: 'containerlogs', apiGroup: 'core.kjournal', readonly: true },
]);

describe('namespace-scoped Loki queries', () => {
  let pki: Pki;
  let server: ServerProcess;
  let dir: string;
  const t = nsNow() - 60_000_000_000n;
  const range = { start: String(t - 60_000_000_000n), end: String(t + 120_000_000_000n) };

  const get = (path: string, token: string, params: Record<string, string> = {}): Promise<Reply> => {
    const qs = new URLSearchParams(params).toString();
    return httpsCall(`${server.url}${path}${qs ? `?${qs}` : ''}`, pki.ca.cert, { token });
  };
  const lines = (r: Reply): string[] =>
    (JSON.parse(r.body) as { data: { result: { values: [string, string][] }[] } }).data.result
      .flatMap((s) => s.values.map((v) => v[1]))
      .sort();
  const queryRange = (token: string, query: string, path = '/loki/api/v1') =>
    get(`${path}/query_range`, token, { query, limit: '100', ...range });

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-ns-scope-'));
    await writeFile(
      join(dir, 'tokens.csv'),
      'alice-token,alice,1\ncarol-token,carol,2\nolga-token,olga,3\ndora-token,dora,4\n',
    );
    await writeFile(join(dir, 'policy.jsonl'), POLICY);
    const open = await startServerProcess();
    const r = await pushJson(open.url, {
      streams: [
        { stream: { namespace: 'shop', pod: 'web-1', container: 'app' }, values: [[String(t), 'shop log']] },
        {
          stream: { kubernetes_namespace_name: 'shop', kubernetes_pod_name: 'api-1' },
          values: [[String(t + 1n), 'shop viaq log']],
        },
        {
          stream: { namespace: 'bank', pod: 'core-1', container: 'app' },
          values: [[String(t + 2n), 'bank log']],
        },
      ],
    });
    assert.equal(r.status, 204, r.text);
    const ev = await fetch(`${open.url}/ingest/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(coreEvent('e1', 'shop', 'web-1', 'Killing', 'Normal', 'shop event', t + 3n)),
    });
    assert.equal(ev.status, 200, await ev.text());
    await open.stop();
    server = await startTlsServer(pki, open.dataDir, [
      '--token-auth-file',
      join(dir, 'tokens.csv'),
      '--authorization-policy-file',
      join(dir, 'policy.jsonl'),
    ]);
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  test('a query that pins a namespace the user may read answers, with the kinds it may read', async () => {
    for (const q of [
      '{namespace="shop"}',
      '{kubernetes_namespace_name="shop"}',
      '{k8s_namespace_name=~"shop"}',
    ]) {
      const r = await queryRange('alice-token', q);
      assert.equal(r.status, 200, `${q}: ${r.body}`);
      assert.deepEqual(lines(r), ['shop log', 'shop viaq log'], `${q}: no events, no bank`);
    }
    const carol = await queryRange('carol-token', '{namespace="shop"}');
    assert.equal(carol.status, 200, carol.body);
    assert.equal(lines(carol).length, 3, 'carol may read the events too');
    assert.ok(lines(carol).some((l) => l.includes('shop event')));
    const metric = await get('/loki/api/v1/query', 'alice-token', {
      query: 'sum(count_over_time({namespace="shop"}[1h]))',
      time: range.end,
    });
    assert.equal(metric.status, 200, metric.body);
    assert.match(metric.body, /"value":\[[\d.]+,"2"\]/);
  });

  test('a query that reads another namespace, or does not name its namespaces, is refused', async () => {
    for (const q of [
      '{namespace="bank"}',
      '{namespace=~"shop|bank"}',
      '{namespace=~"sh.*"}',
      '{pod="web-1"}',
    ]) {
      const r = await queryRange('alice-token', q);
      assert.equal(r.status, 403, `${q}: ${r.body}`);
      assert.doesNotMatch(r.body, /bank log|shop log/);
    }
    const unpinned = await queryRange('alice-token', '{pod="web-1"}');
    assert.match(
      unpinned.body,
      /containerlogs\.core\.kjournal is forbidden: User "alice" cannot list resource "containerlogs" in API group "core\.kjournal" at the cluster scope: a query that does not name its namespaces/,
    );
    // A binary operation is allowed only if both sides pin allowed namespaces.
    const both = await get('/loki/api/v1/query', 'alice-token', {
      query: 'sum(count_over_time({namespace="shop"}[1h])) + sum(count_over_time({namespace="bank"}[1h]))',
      time: range.end,
    });
    assert.equal(both.status, 403, both.body);
    // A syntax error is the 400 it would be for anyone.
    const bad = await queryRange('alice-token', '{namespace="shop"');
    assert.equal(bad.status, 400, bad.body);
  });

  test('cluster-wide rights read every namespace, without naming it', async () => {
    const r = await queryRange('olga-token', '{pod=~".+"}');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(
      lines(r),
      ['bank log', 'shop log', 'shop viaq log'],
      'no events: olga may not read them',
    );
    const labels = await get('/loki/api/v1/label/namespace/values', 'olga-token', range);
    assert.equal(labels.status, 200, labels.body);
  });

  test('metadata, series, stats and detected fields follow the same rule', async () => {
    const q = { query: '{namespace="shop"}', ...range };
    for (const path of ['label/pod/values', 'labels', 'index/stats', 'index/volume', 'detected_fields']) {
      const ok = await get(`/loki/api/v1/${path}`, 'alice-token', q);
      assert.equal(ok.status, 200, `${path}: ${ok.body}`);
      assert.doesNotMatch(ok.body, /bank|core-1/, path);
    }
    const pods = await get('/loki/api/v1/label/pod/values', 'alice-token', q);
    assert.deepEqual((JSON.parse(pods.body) as { data: string[] }).data, ['api-1', 'web-1']);
    const series = await get('/loki/api/v1/series', 'alice-token', {
      'match[]': '{namespace="shop"}',
      ...range,
    });
    assert.equal(series.status, 200, series.body);
    assert.doesNotMatch(series.body, /"kind":"event"/, 'no event streams');
    for (const path of ['labels', 'label/pod/values']) {
      const refused = await get(`/loki/api/v1/${path}`, 'alice-token', range);
      assert.equal(refused.status, 403, `${path} without a query reads every namespace: ${refused.body}`);
    }
  });

  test('the namespaced path of the aggregated API pins its namespace', async () => {
    const shop = '/apis/core.kjournal/v1alpha1/namespaces/shop/loki/api/v1';
    const labels = await get(`${shop}/label/pod/values`, 'alice-token', range);
    assert.equal(labels.status, 200, labels.body);
    assert.deepEqual((JSON.parse(labels.body) as { data: string[] }).data, ['api-1', 'web-1']);
    const all = await queryRange('alice-token', '{pod=~".+"}', shop);
    assert.equal(all.status, 200, all.body);
    assert.deepEqual(lines(all), ['shop log', 'shop viaq log']);
    const bank = await get(
      '/apis/core.kjournal/v1alpha1/namespaces/bank/loki/api/v1/labels',
      'alice-token',
      range,
    );
    assert.equal(bank.status, 403, bank.body);
    const cluster = await queryRange(
      'alice-token',
      '{namespace="shop"}',
      '/apis/core.kjournal/v1alpha1/loki/api/v1',
    );
    assert.equal(cluster.status, 200, cluster.body);
  });

  test('korrel8r and the tail', async () => {
    const k = (sel: string) =>
      get('/api/v1/korrel8r/logs', 'alice-token', { query: `log:application:${sel}`, ...range });
    const shop = await k('{"namespace":"shop"}');
    assert.equal(shop.status, 200, shop.body);
    assert.doesNotMatch(shop.body, /shop event/);
    assert.equal((await k('{"namespace":"bank"}')).status, 403);
    const start = range.start;
    const refused = await tailOpen(
      server.url,
      pki.ca.cert,
      `/loki/api/v1/tail?${new URLSearchParams({ query: '{pod="web-1"}', start })}`,
      { authorization: 'Bearer alice-token' },
    );
    assert.equal(refused.status, 403, refused.body);
    const ws = new WebSocket(
      `${server.url.replace(/^https/, 'wss')}/loki/api/v1/tail?${new URLSearchParams({ query: '{namespace="shop"}', start })}`,
      { ca: pki.ca.cert, headers: { authorization: 'Bearer alice-token' } },
    );
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        for (const s of (JSON.parse(String(data)) as { streams: { values: [string, string][] }[] }).streams) {
          for (const v of s.values) got.push(v[1]);
        }
        if (got.length >= 2) setTimeout(resolve, 300);
      });
      ws.on('error', reject);
      setTimeout(() => reject(new Error(`tail got ${got.join(', ')}`)), 5000);
    });
    ws.close();
    assert.deepEqual(got.sort(), ['shop log', 'shop viaq log']);
  });

  test('a delete request needs delete on what it selects, in its namespaces', async () => {
    const post = (token: string, query: string) =>
      httpsCall(
        `${server.url}/loki/api/v1/delete?${new URLSearchParams({ query, start: String((t - 10_000_000_000n) / 1_000_000_000n) })}`,
        pki.ca.cert,
        { token, method: 'POST' },
      );
    const alice = await post('alice-token', '{namespace="shop"} |= "viaq"');
    assert.equal(alice.status, 403, alice.body);
    assert.match(
      alice.body,
      /cannot delete resource "containerlogs" in API group "core.kjournal" in the namespace "shop"/,
    );
    const wide = await post('dora-token', '{pod=~".+"} |= "viaq"');
    assert.equal(wide.status, 403, `it selects bank too: ${wide.body}`);
    const events = await post('dora-token', '{namespace="shop"} |= "viaq"');
    assert.equal(events.status, 403, `its selector takes shop's events too: ${events.body}`);
    assert.match(events.body, /cannot delete resource "events"/);
    const ok = await post('dora-token', '{namespace="shop", kind="containerlog"} |= "viaq"');
    assert.equal(ok.status, 204, ok.body);
    const gone = await queryRange('alice-token', '{namespace="shop"}');
    assert.deepEqual(lines(gone), ['shop log'], 'hidden from every reader at once');
    const list = await get('/loki/api/v1/delete', 'dora-token');
    assert.equal(list.status, 200, list.body);
    assert.equal((await get('/loki/api/v1/delete', 'alice-token')).status, 403);
  });
});

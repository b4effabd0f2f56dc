/**
 * `kjournal serve --clickhouse-url` end to end (issue 16, "the same answers"): one private
 * clickhouse-server 18.16 and the real serve process on it; a representative check each of the Loki
 * push (JSON and protobuf) and read API, /tail, the kube API with the real kubectl (list, get,
 * watch, continue tokens, resourceVersion), korrel8r, retention, `kjournal import` and
 * `kjournal audit-policy test`. The point is "works on ClickHouse": the same checks on the embedded
 * store live beside this file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodePushRequest } from '../../src/formats/loki-push/index.js';
import { snappyCompress } from '../../src/util/snappy.js';
import { runCli } from '../cli/fake-loki.js';
import { type ClickHouseProcess, startClickHouse } from '../helpers/clickhouse.js';
import {
  chSql,
  type KubeList,
  KubeWatch,
  LokiTail,
  nsNow,
  startClickHouseServe,
} from '../helpers/clickhouse-e2e.js';
import {
  allValues,
  http,
  pushJson,
  queryRange,
  removeDir,
  type ServerProcess,
} from '../helpers/server-process.js';
import { KUBECTL, kubectl, kubectlEnv, writeKubeconfig } from '../kube/helpers.js';

const DB = 'kj_serve';
const BASE = '/apis/core.kjournal/v1alpha1';
const DAY = 86_400_000_000_000n;
const PAYMENT = '{"level":"error","msg":"payment failed","trace_id":"t1"}';

describe('kjournal serve --clickhouse-url', () => {
  let ch: ClickHouseProcess;
  let srv: ServerProcess;
  let home: string;
  let kubeconfig: string;
  const t0 = nsNow() - 60_000_000_000n;
  const start = String(t0 - 3_600_000_000_000n);

  const push = async (streams: unknown[]) => {
    const r = await pushJson(srv.url, { streams });
    assert.equal(r.status, 204, r.text);
  };
  const getJson = async (path: string): Promise<unknown> => {
    const r = await http(`${srv.url}${path}`);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return JSON.parse(r.text);
  };

  before(async () => {
    ch = await startClickHouse();
    srv = await startClickHouseServe(ch.url, DB);
    home = await mkdtemp(join(tmpdir(), 'kj-chserve-'));
    kubeconfig = await writeKubeconfig(srv.url);
    const pod = (ns: string, name: string, app: string) => ({
      kind: 'containerlog',
      namespace: ns,
      pod: name,
      container: 'app',
      kubernetes_labels_app: app,
    });
    await push([
      {
        stream: pod('shop', 'web-1', 'web'),
        values: [
          [String(t0), 'web line 0'],
          [String(t0 + 1_000_000n), PAYMENT],
          [String(t0 + 2_000_000n), 'web line 2'],
        ],
      },
      {
        stream: pod('shop', 'cart-1', 'cart'),
        values: Array.from({ length: 5 }, (_, i) => [String(t0 + BigInt(10 + i) * 1_000_000n), `cart ${i}`]),
      },
    ]);
  });

  after(async () => {
    await srv?.stop();
    if (srv) await removeDir(srv.dataDir);
    await ch?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('says in its start line that the journal is in ClickHouse, and /ready answers 200', async () => {
    assert.match(srv.stderr(), new RegExp(`journal in ClickHouse at ${ch.url}, database ${DB}`));
    assert.equal((await http(`${srv.url}/ready`)).status, 200);
    // The entries really are in ClickHouse, not in the data directory.
    assert.equal((await chSql(ch.url, `SELECT count() FROM ${DB}.entries`)).trim(), '8');
  });

  test('protobuf push and JSON push, read back with query_range (log query)', async () => {
    const ts = t0 + 100_000_000n;
    const body = snappyCompress(
      encodePushRequest([
        {
          labels: '{kind="containerlog", namespace="proto", pod="p-1", container="app"}',
          entries: [{ timestamp: ts, line: 'protobuf line', metadata: { trace_id: 'abc' } }],
        },
      ]),
    );
    const r = await fetch(`${srv.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    assert.equal(r.status, 204, await r.text());
    const res = await queryRange(srv.url, { query: '{namespace="proto"}', start, limit: '10' });
    assert.equal(res.data.result.length, 1);
    assert.deepEqual(res.data.result[0]!.values, [[String(ts), 'protobuf line']]);
    assert.equal(res.data.result[0]!.stream.trace_id, 'abc', 'structured metadata comes back');

    const filtered = await queryRange(srv.url, {
      query: '{namespace="shop"} |= "payment" | json | level="error"',
      start,
      limit: '10',
    });
    assert.deepEqual(
      allValues(filtered).map((v) => v[1]),
      ['{"level":"error","msg":"payment failed","trace_id":"t1"}'],
    );
    const backward = await queryRange(srv.url, {
      query: '{pod="cart-1"}',
      start,
      limit: '2',
      direction: 'backward',
    });
    assert.deepEqual(
      allValues(backward).map((v) => v[1]),
      ['cart 3', 'cart 4'],
    );
  });

  test('metric queries: query_range and instant query', async () => {
    const end = String(t0 + 60_000_000_000n);
    const range = (await getJson(
      `/loki/api/v1/query_range?${new URLSearchParams({
        query: 'sum by (pod) (count_over_time({namespace="shop"}[1m]))',
        start: String(t0 - 60_000_000_000n),
        end,
        step: '60',
      })}`,
    )) as {
      data: { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
    };
    assert.equal(range.data.resultType, 'matrix');
    const totals = Object.fromEntries(
      // Steps 1 min apart, windows (t-1m, t]: each line is counted in exactly one step.
      range.data.result.map((s) => [s.metric.pod, s.values.reduce((a, v) => a + Number(v[1]), 0)]),
    );
    assert.deepEqual(totals, { 'web-1': 3, 'cart-1': 5 });
    const instant = (await getJson(
      `/loki/api/v1/query?${new URLSearchParams({
        query: 'sum(count_over_time({namespace="shop"}[1h]))',
        time: end,
      })}`,
    )) as { data: { resultType: string; result: { value: [number, string] }[] } };
    assert.equal(instant.data.resultType, 'vector');
    assert.equal(instant.data.result[0]!.value[1], '8');
  });

  test('labels, label values, series, volume and stats', async () => {
    const q = new URLSearchParams({ start, end: String(nsNow()) });
    const labels = (await getJson(`/loki/api/v1/labels?${q}`)) as { data: string[] };
    for (const l of ['namespace', 'pod', 'container', 'kind']) assert.ok(labels.data.includes(l), l);
    const pods = (await getJson(`/loki/api/v1/label/pod/values?${q}`)) as { data: string[] };
    assert.deepEqual(
      pods.data.filter((p) => p !== 'p-1'),
      ['cart-1', 'web-1'],
    );
    const series = (await getJson(
      `/loki/api/v1/series?${new URLSearchParams({ 'match[]': '{namespace="shop"}', start })}`,
    )) as { data: Record<string, string>[] };
    assert.deepEqual(series.data.map((s) => s.pod).sort(), ['cart-1', 'web-1']);
    const stats = await getJson(
      `/loki/api/v1/index/stats?${new URLSearchParams({ query: '{namespace="shop"}', start })}`,
    );
    assert.deepEqual(stats, {
      streams: 2,
      chunks: 2,
      entries: 8,
      bytes: 'web line 0web line 2'.length + PAYMENT.length + 5 * 'cart 0'.length,
    });
    const volume = (await getJson(
      `/loki/api/v1/index/volume?${new URLSearchParams({ query: '{namespace="shop"}', start, targetLabels: 'pod' })}`,
    )) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    const byPod = Object.fromEntries(volume.data.result.map((r) => [r.metric.pod, Number(r.value[1])]));
    assert.deepEqual(byPod, { 'cart-1': 5 * 'cart 0'.length, 'web-1': 20 + PAYMENT.length });
  });

  test('/tail: a line pushed after the tail opened arrives, once', async () => {
    const tail = await LokiTail.open(
      `${srv.url.replace(/^http/, 'ws')}/loki/api/v1/tail?${new URLSearchParams({ query: '{namespace="tailed"}' })}`,
    );
    try {
      await new Promise((r) => setTimeout(r, 200));
      await push([
        {
          stream: { kind: 'containerlog', namespace: 'tailed', pod: 't-1', container: 'app' },
          values: [[String(nsNow()), 'tailed line']],
        },
      ]);
      await tail.until(() => tail.lines().includes('tailed line'), 5000, 'the tailed line');
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(tail.lines(), ['tailed line']);
    } finally {
      tail.close();
    }
  });

  test('kubectl get containerlogs: list, selectors, get by name', async () => {
    const list = await kubectl(kubeconfig, ['get', 'containerlogs', '-n', 'shop', '-l', 'app=web'], home);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /web-1\s+app\s+web line 0/);
    assert.match(list.stdout, /payment failed/);
    assert.doesNotMatch(list.stdout, /cart/);
    const names = await kubectl(kubeconfig, ['get', 'clog', '-n', 'shop', '-o', 'name'], home);
    assert.equal(names.code, 0, names.stderr);
    const all = names.stdout.trim().split('\n');
    assert.equal(all.length, 8);
    const one = all[0]!.replace(/^containerlog\.core\.kjournal\//, '');
    const got = await kubectl(kubeconfig, ['get', 'clog', one, '-n', 'shop', '-o', 'json'], home);
    assert.equal(got.code, 0, got.stderr);
    assert.equal((JSON.parse(got.stdout) as { metadata: { name: string } }).metadata.name, one);
  });

  test('continue tokens page without skipping or repeating', async () => {
    const seen: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    let rv: string | undefined;
    do {
      const list = (await getJson(
        `${BASE}/namespaces/shop/containerlogs?limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
      )) as KubeList;
      rv ??= list.metadata.resourceVersion;
      assert.equal(list.metadata.resourceVersion, rv, "pages carry the first page's resourceVersion");
      seen.push(...list.items.map((i) => i.metadata.name));
      cont = list.metadata.continue;
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.equal(seen.length, 8);
    assert.equal(new Set(seen).size, 8);
  });

  test('watch from a list resourceVersion, and kubectl get -w', async () => {
    const list = (await getJson(`${BASE}/namespaces/watched/containerlogs`)) as KubeList;
    assert.equal(list.items.length, 0);
    // Pushed after the list, before the watch: replayed from the resourceVersion.
    await push([
      {
        stream: { kind: 'containerlog', namespace: 'watched', pod: 'w-1', container: 'app' },
        values: [[String(nsNow()), 'before the watch']],
      },
    ]);
    const w = await KubeWatch.open(
      `${srv.url}${BASE}/namespaces/watched/containerlogs?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
    );
    const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, 'get', 'clog', '-n', 'watched', '-w'], {
      env: kubectlEnv(home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      assert.equal(w.status, 200);
      await w.until(() => w.added().length === 1, 5000, 'the replayed line');
      const untilOut = async (s: string) => {
        const deadline = Date.now() + 10_000;
        while (!out.includes(s)) {
          if (Date.now() > deadline) throw new Error(`kubectl -w: no ${s}: ${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await untilOut('before the watch');
      await push([
        {
          stream: { kind: 'containerlog', namespace: 'watched', pod: 'w-1', container: 'app' },
          values: [[String(nsNow()), 'during the watch']],
        },
      ]);
      await w.until(() => w.added().length === 2, 5000, 'the live line');
      await untilOut('during the watch');
      const rvs = w.added().map((o) => BigInt(o.metadata.resourceVersion));
      assert.ok(rvs[0]! > BigInt(list.metadata.resourceVersion));
      assert.ok(rvs[1]! > rvs[0]!);
      // Resume from the first event's resourceVersion: only the second comes again.
      const again = await KubeWatch.open(
        `${srv.url}${BASE}/namespaces/watched/containerlogs?watch=true&resourceVersion=${rvs[0]}`,
      );
      try {
        await again.until(() => again.added().length === 1, 5000, 'the resumed line');
        assert.equal(again.added()[0]!.metadata.name, w.added()[1]!.metadata.name);
      } finally {
        again.close();
      }
    } finally {
      w.close();
      child.kill('SIGTERM');
    }
  });

  test('korrel8r: a container selector answers log objects', async () => {
    const objects = (await getJson(
      `/api/v1/korrel8r/logs?${new URLSearchParams({
        query: 'log:application:{"namespace":"shop","containers":["app"]}',
      })}`,
    )) as Record<string, string>[];
    assert.equal(objects.length, 8);
    assert.equal(objects[0]!.body, 'web line 0');
    assert.equal(objects[0]!.k8s_pod_name, 'web-1');
  });

  test('kjournal import into it, then query', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kj-chimport-'));
    try {
      const now = Date.now();
      const iso = (ms: number) => new Date(ms).toISOString();
      const container = join(root, 'pods', 'imported_job-1_0c1d2e3f', 'app');
      await mkdir(container, { recursive: true });
      await writeFile(
        join(container, '0.log'),
        `${[0, 1, 2].map((i) => `${iso(now - 5000 + i)} stdout F imported ${i}`).join('\n')}\n`,
      );
      const r = await runCli(['import', join(root, 'pods'), '--server', srv.url]);
      assert.equal(r.code, 0, r.stderr);
      const res = await queryRange(srv.url, { query: '{namespace="imported"}', start, limit: '10' });
      assert.deepEqual(
        allValues(res).map((v) => v[1]),
        ['imported 0', 'imported 1', 'imported 2'],
      );
      // Run again: de-duplicated in ClickHouse, nothing stored twice.
      const again = await runCli(['import', join(root, 'pods'), '--server', srv.url]);
      assert.equal(again.code, 0, again.stderr);
      const res2 = await queryRange(srv.url, { query: '{namespace="imported"}', start, limit: '10' });
      assert.equal(allValues(res2).length, 3);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('kjournal audit-policy test reads audit events from it', async () => {
    const base = nsNow() - 10_000_000_000n;
    const event = (i: number, verb: string) =>
      JSON.stringify({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'RequestResponse',
        auditID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        stage: 'ResponseComplete',
        requestURI: '/api/v1/namespaces/shop/configmaps',
        verb,
        user: { username: 'alice', groups: ['system:authenticated'] },
        objectRef: { resource: 'configmaps', namespace: 'shop', apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: 200 },
        requestReceivedTimestamp: '2026-01-01T00:00:00Z',
        stageTimestamp: '2026-01-01T00:00:00Z',
      });
    await push([
      {
        stream: { kind: 'auditevent' },
        values: ['get', 'get', 'create'].map((v, i) => [String(base + BigInt(i)), event(i, v)]),
      },
    ]);
    const policy = join(home, 'policy.yaml');
    await writeFile(
      policy,
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    verbs: ["get"]\n  - level: Metadata\n',
    );
    const r = await runCli(['audit-policy', 'test', policy, '--server', srv.url, '-q']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\b3\b/, r.stdout);
    assert.match(r.stdout, /None/);
  });
});

test('--retention on ClickHouse: days older than the retention go at start, and too-old pushes are refused', async () => {
  const ch = await startClickHouse();
  const db = 'kj_ret';
  let first: ServerProcess | undefined;
  let second: ServerProcess | undefined;
  try {
    const now = nsNow();
    first = await startClickHouseServe(ch.url, db);
    const r = await pushJson(first.url, {
      streams: [
        {
          stream: { app: 'ret' },
          values: [
            [(now - 3n * DAY).toString(), 'three days old'],
            [(now - 1000n).toString(), 'fresh'],
          ],
        },
      ],
    });
    assert.equal(r.status, 204, r.text);
    const range = {
      query: '{app="ret"}',
      start: (now - 4n * DAY).toString(),
      end: now.toString(),
      limit: '100',
    };
    assert.deepEqual(
      allValues(await queryRange(first.url, range)).map((v) => v[1]),
      ['three days old', 'fresh'],
    );
    await first.stop();
    second = await startClickHouseServe(ch.url, db, ['--retention', '1d']);
    const deadline = Date.now() + 10_000;
    // Retention runs at start, in the background: wait for ClickHouse to have dropped the day.
    for (;;) {
      const left = (await chSql(ch.url, `SELECT count() FROM ${db}.entries`)).trim();
      if (left === '1') break;
      if (Date.now() > deadline) throw new Error(`retention did not run: ${left} entries left`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(
      allValues(await queryRange(second.url, range)).map((v) => v[1]),
      ['fresh'],
    );
    const old = await pushJson(second.url, {
      streams: [{ stream: { app: 'ret' }, values: [[(now - 2n * DAY).toString(), 'too old now']] }],
    });
    assert.equal(old.status, 400);
    assert.match(old.text, /too old/);
  } finally {
    await first?.stop();
    await second?.stop();
    if (first) await removeDir(first.dataDir);
    if (second) await removeDir(second.dataDir);
    await ch.stop();
  }
});

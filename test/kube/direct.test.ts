/**
 * Direct fallback end-to-end: the real `kjournal serve --kubeconfig` process, stored lines pushed
 * over the Loki API, and the cluster's API server played by a recorded-protocol peer (a real HTTP
 * server in this file answering `GET /api/v1/namespaces/{ns}/pods/{pod}` and
 * `.../pods/{pod}/log?container=C&timestamps=true&sinceTime=RFC3339` as kube-apiserver does: a Pod
 * object, the kubelet's `<RFC3339Nano> <line>` text with lines at or after `sinceTime`, and
 * `Status` objects for errors). The real kubectl shows the live lines.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseTimestampedLog, sinceTimeParam } from '../../src/kube/direct/pod-log-source.js';
import { formatRfc3339Nano, parseRfc3339Nano } from '../../src/model/time.js';
import { http, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { kubectl, nsNow, pushContainerLogs, writeKubeconfig } from './helpers.js';

const BASE = '/apis/core.kjournal/v1alpha1';
const MIN = 60_000_000_000n;
const SEC = 1_000_000_000n;
const TOKEN = 'kjournal-reader-token';

/** A kubeconfig whose current context is unreachable; `--context cluster` names the fake cluster. */
async function clusterKubeconfig(url: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-direct-cfg-'));
  const path = join(dir, 'config');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- {name: fake, cluster: {server: "${url}"}}`,
      '- {name: nowhere, cluster: {server: "http://127.0.0.1:1"}}',
      'contexts:',
      '- {name: cluster, context: {cluster: fake, user: reader}}',
      '- {name: other, context: {cluster: nowhere, user: reader}}',
      'current-context: other',
      'users:',
      `- {name: reader, user: {token: ${TOKEN}}}`,
      '',
    ].join('\n'),
  );
  return path;
}

interface FakePod {
  containers: string[];
  node: string;
  labels: Record<string, string>;
  logs: Record<string, { ts: bigint; line: string }[]>;
  /** Answer every request for this pod with this status (a kube Status body). */
  fail?: { pod?: number; log?: number };
}

/** The cluster's API server for pods and pods/log, as kube-apiserver answers. */
class FakeCluster {
  readonly pods = new Map<string, FakePod>();
  readonly requests: string[] = [];
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.#server?.close(() => r()));
  }

  #status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message,
        reason,
        code,
      }),
    );
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(req.url ?? '');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      this.#status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/log)?$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) {
      this.#status(res, 404, 'NotFound', 'the server could not find the requested resource');
      return;
    }
    const [, ns, name, log] = m;
    const pod = this.pods.get(`${ns}/${name}`);
    if (!pod) {
      this.#status(res, 404, 'NotFound', `pods "${name}" not found`);
      return;
    }
    const fail = log ? pod.fail?.log : pod.fail?.pod;
    if (fail === 403) {
      this.#status(
        res,
        403,
        'Forbidden',
        `pods "${name}" is forbidden: User "kjournal" cannot get resource "pods/log" in API group "" in the namespace "${ns}"`,
      );
      return;
    }
    if (fail !== undefined) {
      this.#status(
        res,
        fail,
        'InternalError',
        'an error on the server has prevented the request from succeeding',
      );
      return;
    }
    if (!log) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Pod',
          apiVersion: 'v1',
          metadata: { name, namespace: ns, labels: pod.labels, uid: `uid-${name}` },
          spec: {
            nodeName: pod.node,
            containers: pod.containers.map((c) => ({ name: c, image: 'busybox' })),
          },
          status: { phase: 'Running' },
        }),
      );
      return;
    }
    let container = url.searchParams.get('container');
    if (container === null) {
      if (pod.containers.length !== 1) {
        this.#status(
          res,
          400,
          'BadRequest',
          `a container name must be specified for pod ${name}, choose one of: [${pod.containers.join(' ')}]`,
        );
        return;
      }
      container = pod.containers[0]!;
    }
    if (!pod.containers.includes(container)) {
      this.#status(res, 400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
      return;
    }
    const since = url.searchParams.get('sinceTime');
    const sinceNs = since === null ? undefined : parseRfc3339Nano(since);
    if (since !== null && sinceNs === undefined) {
      this.#status(res, 400, 'BadRequest', `parsing time "${since}" as RFC3339 failed`);
      return;
    }
    const stamps = url.searchParams.get('timestamps') === 'true';
    const lines = (pod.logs[container] ?? []).filter((l) => sinceNs === undefined || l.ts >= sinceNs);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(lines.map((l) => `${stamps ? `${formatRfc3339Nano(l.ts)} ` : ''}${l.line}\n`).join(''));
  }
}

interface Item {
  metadata: {
    name: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations: Record<string, string>;
  };
  pod: string;
  container: string;
  node: string;
  payload: unknown;
}
interface List {
  metadata: { resourceVersion: string; continue?: string };
  items: Item[];
}

describe('direct fallback: live pod logs from the cluster', () => {
  const cluster = new FakeCluster();
  let srv: ServerProcess;
  let clusterConfig: string;
  let home: string;
  // Whole second + 0.5 s, so that sinceTime (whole seconds) also returns lines we must drop.
  const now = nsNow();
  const s3 = now - 8n * MIN - (now % SEC) + SEC / 2n;

  const list = async (ns: string, query: Record<string, string>) => {
    const r = await http(`${srv.url}${BASE}/namespaces/${ns}/containerlogs?${new URLSearchParams(query)}`);
    assert.equal(r.status, 200, r.text);
    return { list: JSON.parse(r.text) as List, warning: r.headers.get('warning') };
  };
  const texts = (l: List) =>
    l.items.map((i) => (typeof i.payload === 'string' ? i.payload : (i.payload as { msg: string }).msg));

  before(async () => {
    await cluster.start();
    cluster.pods.set('shop/api-1', {
      containers: ['app'],
      node: 'node-7',
      labels: { app: 'api', 'app.kubernetes.io/part-of': 'shop' },
      logs: {
        app: [
          { ts: s3 - 2n * MIN, line: 's1' },
          { ts: s3 - 100_000_000n, line: 'early, same second as s3' },
          { ts: s3, line: 's3' },
          { ts: s3, line: 'l0 same nanosecond as s3' },
          { ts: now - 5n * MIN, line: 'l1' },
          { ts: now - 1n * MIN, line: '{"level":"error","msg":"l2"}' },
        ],
      },
    });
    cluster.pods.set('shop/multi-1', {
      containers: ['app', 'sidecar'],
      node: 'node-2',
      labels: { app: 'multi' },
      logs: {
        app: [{ ts: now - 3n * MIN, line: 'app live' }],
        sidecar: [{ ts: now - 4n * MIN, line: 'sidecar live' }],
      },
    });
    cluster.pods.set('shop/fresh-1', { containers: ['app'], node: 'n', labels: {}, logs: { app: [] } });
    cluster.pods.set('shop/broken-1', {
      containers: ['app'],
      node: 'n',
      labels: {},
      logs: { app: [] },
      fail: { pod: 500 },
    });
    cluster.pods.set('shop/denied-1', {
      containers: ['app'],
      node: 'n',
      labels: { app: 'denied' },
      logs: { app: [{ ts: now - MIN, line: 'never seen' }] },
      fail: { log: 403 },
    });
    clusterConfig = await clusterKubeconfig(cluster.url);
    srv = await startServerProcess({
      args: ['--kubeconfig', clusterConfig, '--context', 'cluster', '--kube-list-window', '1h'],
    });
    home = await mkdtemp(join(tmpdir(), 'kj-direct-home-'));
    const line = (pod: string, text: string, ts: bigint, container = 'app') => ({
      namespace: 'shop',
      pod,
      container,
      app: pod.replace(/-\d+$/, ''),
      line: text,
      ts,
    });
    await pushContainerLogs(srv.url, [
      line('api-1', 's1', s3 - 2n * MIN),
      line('api-1', 's2', s3 - MIN),
      line('api-1', 's3', s3),
      line('multi-1', 'app stored', now - 20n * MIN),
      line('fresh-1', 'fresh stored', now - SEC),
      line('broken-1', 'broken stored', now - 30n * MIN),
      line('denied-1', 'denied stored', now - 30n * MIN),
    ]);
  });

  after(async () => {
    await srv?.stop();
    await cluster.stop();
    if (srv) await removeDir(srv.dataDir);
    if (home) await rm(home, { recursive: true, force: true });
    await rm(dirname(clusterConfig), { recursive: true, force: true });
  });

  test('parses the kubelet timestamps and floors sinceTime to whole seconds', () => {
    const lines = parseTimestampedLog(
      '2026-11-23T10:00:00.123456789Z hello world\n2026-11-23T10:00:01Z \nnot a time\n',
    );
    assert.deepEqual(
      lines.map((l) => [formatRfc3339Nano(l.timestamp), l.line]),
      [
        ['2026-11-23T10:00:00.123456789Z', 'hello world'],
        ['2026-11-23T10:00:01Z', ''],
      ],
    );
    assert.equal(sinceTimeParam(parseRfc3339Nano('2026-11-23T10:00:00.9Z')!), '2026-11-23T10:00:00Z');
  });

  test('a pod whose stored lines are old: stored and live merged in order, overlap dropped', async () => {
    const before = cluster.requests.length;
    const { list: l, warning } = await list('shop', { fieldSelector: 'pod=api-1' });
    assert.equal(warning, null);
    assert.deepEqual(texts(l), ['s1', 's2', 's3', 'l0 same nanosecond as s3', 'l1', 'l2']);
    assert.equal((l.items[5]!.payload as { level: string }).level, 'error');
    const asked = cluster.requests.slice(before);
    const logReq = asked.find((u) => u.includes('/log?'));
    assert.ok(logReq, `no pods/log request: ${asked.join(', ')}`);
    const q = new URL(logReq, 'http://x').searchParams;
    assert.equal(q.get('container'), 'app');
    assert.equal(q.get('timestamps'), 'true');
    assert.equal(q.get('sinceTime'), sinceTimeParam(s3));
    for (const stored of l.items.slice(0, 3)) {
      assert.equal(stored.metadata.annotations['core.kjournal/stored'], undefined);
      assert.match(stored.metadata.resourceVersion, /^\d+$/);
    }
    for (const live of l.items.slice(3)) {
      assert.equal(live.metadata.annotations['core.kjournal/stored'], 'false');
      assert.match(live.metadata.resourceVersion, /^live-/);
      assert.match(live.metadata.name, /^api-1\.\d+\.live-\d+$/);
      assert.equal(live.node, 'node-7');
      assert.equal(live.container, 'app');
      assert.equal(live.metadata.labels?.['app.kubernetes.io/part-of'], 'shop');
    }
    assert.equal(new Set(l.items.map((i) => i.metadata.name)).size, l.items.length);
  });

  test('live records page with continue tokens like stored ones', async () => {
    const all = texts((await list('shop', { fieldSelector: 'pod=api-1' })).list);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const { list: l } = await list('shop', {
        fieldSelector: 'pod=api-1',
        limit: '2',
        ...(token ? { continue: token } : {}),
      });
      seen.push(...texts(l));
      token = l.metadata.continue;
      pages++;
    } while (token && pages < 10);
    assert.deepEqual(seen, all);
    assert.equal(pages, 3);
  });

  test('selectors apply to live records: pod labels and payload fields', async () => {
    const other = await list('shop', { fieldSelector: 'pod=api-1', labelSelector: 'app=other' });
    assert.deepEqual(texts(other.list), []);
    const errors = await list('shop', { fieldSelector: 'pod=api-1,payload.level=error' });
    assert.deepEqual(
      errors.list.items.map((i) => (i.payload as { msg: string }).msg),
      ['l2'],
    );
  });

  test('every container of the pod, each since its own newest stored line', async () => {
    const { list: l } = await list('shop', { fieldSelector: 'pod=multi-1' });
    assert.deepEqual(texts(l), ['app stored', 'sidecar live', 'app live']);
    assert.deepEqual(
      l.items.map((i) => i.container),
      ['app', 'sidecar', 'app'],
    );
    const only = await list('shop', { fieldSelector: 'pod=multi-1,container=sidecar' });
    assert.deepEqual(texts(only.list), ['sidecar live']);
  });

  test('a pod whose newest stored line is recent: the cluster is not asked', async () => {
    const before = cluster.requests.length;
    const { list: l } = await list('shop', { fieldSelector: 'pod=fresh-1' });
    assert.deepEqual(texts(l), ['fresh stored']);
    assert.deepEqual(cluster.requests.slice(before), []);
  });

  test('a request not naming a pod never asks the cluster', async () => {
    const before = cluster.requests.length;
    const all = await list('shop', {});
    assert.ok(texts(all.list).includes('s3'));
    assert.ok(!texts(all.list).includes('l1'));
    await list('shop', { labelSelector: 'app=api' });
    await list('shop', { fieldSelector: 'container=app' });
    const cross = await http(`${srv.url}${BASE}/containerlogs?fieldSelector=pod%3Dapi-1`);
    assert.equal(cross.status, 200);
    assert.deepEqual(cluster.requests.slice(before), []);
  });

  test('the cluster failing (500 on the pod, 403 on its log): stored records and a Warning', async () => {
    const broken = await list('shop', { fieldSelector: 'pod=broken-1' });
    assert.deepEqual(texts(broken.list), ['broken stored']);
    assert.match(broken.warning ?? '', /^299 - ".*broken-1.*HTTP 500.*"$/);
    const denied = await list('shop', { fieldSelector: 'pod=denied-1' });
    assert.deepEqual(texts(denied.list), ['denied stored']);
    assert.match(denied.warning ?? '', /forbidden/);
    assert.match(srv.stderr(), /direct fallback: .*denied-1/);
  });

  test('a pod the cluster does not know: stored records and a Warning', async () => {
    await pushContainerLogs(srv.url, [
      {
        namespace: 'shop',
        pod: 'gone-1',
        container: 'app',
        app: 'gone',
        line: 'gone stored',
        ts: now - 30n * MIN,
      },
    ]);
    const gone = await list('shop', { fieldSelector: 'pod=gone-1' });
    assert.deepEqual(texts(gone.list), ['gone stored']);
    assert.match(gone.warning ?? '', /not found/);
  });

  test('serve refuses a --kubeconfig it cannot read, or a --context it lacks', async () => {
    await assert.rejects(
      startServerProcess({
        dataDir: join(home, 'data'),
        args: ['--kubeconfig', join(home, 'missing-config')],
      }),
      /cannot read kubeconfig .*missing-config: no such file/,
    );
    await assert.rejects(
      startServerProcess({
        dataDir: join(home, 'data'),
        args: ['--kubeconfig', clusterConfig, '--context', 'nope'],
      }),
      /context "nope" not found/,
    );
  });

  test('kubectl get containerlogs --field-selector pod=X shows the live lines and prints the Warning', async () => {
    const kubeconfig = await writeKubeconfig(srv.url);
    const r = await kubectl(
      kubeconfig,
      ['get', 'containerlogs', '-n', 'shop', '--field-selector', 'pod=api-1'],
      home,
    );
    assert.equal(r.code, 0, r.stderr);
    for (const text of ['s1', 's3', 'l0 same nanosecond as s3', 'l1', 'l2'])
      assert.match(r.stdout, new RegExp(text));
    assert.doesNotMatch(r.stdout, /early, same second/);
    const w = await kubectl(
      kubeconfig,
      ['get', 'containerlogs', '-n', 'shop', '--field-selector', 'pod=denied-1'],
      home,
    );
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /denied stored/);
    assert.match(w.stderr, /Warning: live pod log unavailable/);
  });
});

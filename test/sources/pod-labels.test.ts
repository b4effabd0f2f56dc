/**
 * Pod labels from the Kubernetes API (src/sources/pods/labels.ts) against a small HTTP server that
 * plays kube-apiserver from a RECORDING: the PodList that `GET /api/v1/pods?fieldSelector=
 * spec.nodeName=worker-1` returns (trimmed to the fields read: metadata, spec.nodeName), then the
 * watch stream `GET /api/v1/pods?watch=true&resourceVersion=...&fieldSelector=...`, whose lines
 * (MODIFIED, DELETED) the test sends one at a time.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../../src/sources/builtin.js';
import { mergeConfig } from '../../src/agent/config.js';
import { createPodLabelCache, type PodLabelCache, podRecordLabels } from '../../src/sources/pods/labels.js';
import { buildSources } from '../../src/sources/registry.js';
import { writeTestKubeconfig } from '../helpers/kubeconfig.js';
import { runSource } from './file-source-helpers.js';

const NODE = 'worker-1';
const UID_WEB = '6f1c2a0e-3b7d-4c11-9a53-2f0e8d7b1a01';
const UID_API = '9d2e4b7a-1c3f-4e55-8b21-7a6c5d4e3f02';

function pod(name: string, uid: string, rv: string, labels: Record<string, string>) {
  return {
    metadata: {
      name,
      namespace: 'shop',
      uid,
      resourceVersion: rv,
      creationTimestamp: '2026-11-23T09:00:00Z',
      labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-7d9f`, uid: 'rs' }],
    },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'shop:1.4' }] },
    status: { phase: 'Running' },
  };
}

/** The recording. */
const RECORDING = {
  list: {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '4711' },
    items: [
      pod('web-1', UID_WEB, '4700', { app: 'web', 'app.kubernetes.io/name': 'shop' }),
      pod('api-1', UID_API, '4705', { app: 'api', 'pod-template-hash': '7d9f' }),
    ],
  },
  watch: {
    /** Only status changed: same labels. */
    statusOnly: {
      type: 'MODIFIED',
      object: {
        kind: 'Pod',
        apiVersion: 'v1',
        ...pod('web-1', UID_WEB, '4712', { app: 'web', 'app.kubernetes.io/name': 'shop' }),
      },
    },
    relabelled: {
      type: 'MODIFIED',
      object: {
        kind: 'Pod',
        apiVersion: 'v1',
        ...pod('web-1', UID_WEB, '4713', { app: 'web', 'app.kubernetes.io/name': 'shop', track: 'canary' }),
      },
    },
    deleted: {
      type: 'DELETED',
      object: {
        kind: 'Pod',
        apiVersion: 'v1',
        ...pod('api-1', UID_API, '4714', { app: 'api', 'pod-template-hash': '7d9f' }),
      },
    },
  },
};

/** Plays the recording: lists answer RECORDING.list (after `failLists` 403s), watches stay open. */
class FakeApiServer {
  readonly requests: string[] = [];
  readonly errors: string[] = [];
  failLists = 0;
  private server: Server | undefined;
  private readonly watches = new Set<ServerResponse>();
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    this.requests.push(`${url.pathname}?${q.toString()}`);
    if (url.pathname !== '/api/v1/pods' || q.get('fieldSelector') !== `spec.nodeName=${NODE}`) {
      this.errors.push(`unexpected ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== 'Bearer recorded') this.errors.push(`no token on ${req.url}`);
    if (q.get('watch') !== 'true') {
      if (this.failLists > 0) {
        this.failLists--;
        res.writeHead(403, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message: 'forbidden by the recording',
            reason: 'Forbidden',
            code: 403,
          }),
        );
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(RECORDING.list));
      return;
    }
    if (q.get('resourceVersion') !== RECORDING.list.metadata.resourceVersion)
      this.errors.push(`watch from ${q.get('resourceVersion')}`);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    this.watches.add(res);
    res.on('close', () => this.watches.delete(res));
  }

  get openWatches(): number {
    return this.watches.size;
  }

  /** Sends one watch event on every open watch. */
  send(event: unknown): void {
    for (const w of this.watches) w.write(`${JSON.stringify(event)}\n`);
  }

  async stop(): Promise<void> {
    for (const w of this.watches) w.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pod labels from a recorded kube-apiserver (list + watch)', () => {
  const api = new FakeApiServer();
  let dir = '';
  let kubeconfig = '';
  before(async () => {
    await api.start();
    dir = await mkdtemp(join(tmpdir(), 'kj-podlabels-'));
    kubeconfig = await writeTestKubeconfig(dir, api.port);
  });
  after(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('record labels: kubernetes_labels_ and a safe name', () => {
    assert.deepEqual(podRecordLabels({ app: 'web', 'app.kubernetes.io/name': 'shop', '1x': 'y' }), {
      kubernetes_labels_app: 'web',
      kubernetes_labels_app_kubernetes_io_name: 'shop',
      kubernetes_labels__1x: 'y', // safeName, as the label selectors of src/kube spell it
    });
    assert.deepEqual(podRecordLabels(undefined), {});
  });

  test('labels from the list, a MODIFIED event updates them, DELETED forgets the pod', async () => {
    const cache: PodLabelCache = createPodLabelCache({ kubeconfig, node: NODE, retryDelayMs: 50 });
    const before = api.requests.length;
    try {
      await cache.start();
      // Known from the list alone, one list request (not one per pod or file).
      assert.deepEqual(cache.labelsFor('shop', 'web-1'), {
        kubernetes_labels_app: 'web',
        kubernetes_labels_app_kubernetes_io_name: 'shop',
      });
      assert.deepEqual(cache.labelsFor('shop', 'api-1'), {
        kubernetes_labels_app: 'api',
        kubernetes_labels_pod_template_hash: '7d9f',
      });
      assert.equal(cache.labelsFor('shop', 'nope'), undefined);
      assert.equal(cache.labelsFor('other', 'web-1'), undefined);
      assert.equal(cache.size, 2);
      await until('the watch', () => api.openWatches > 0);
      const mine = api.requests.slice(before);
      assert.equal(mine.filter((r) => !r.includes('watch=true')).length, 1, 'one list');

      // A MODIFIED without a label change keeps the same object (the pods source caches by identity).
      const first = cache.labelsFor('shop', 'web-1');
      api.send(RECORDING.watch.statusOnly);
      api.send(RECORDING.watch.relabelled);
      await until(
        'the new label',
        () => cache.labelsFor('shop', 'web-1')?.kubernetes_labels_track === 'canary',
      );
      assert.notEqual(cache.labelsFor('shop', 'web-1'), first);
      assert.deepEqual(cache.labelsFor('shop', 'web-1'), {
        kubernetes_labels_app: 'web',
        kubernetes_labels_app_kubernetes_io_name: 'shop',
        kubernetes_labels_track: 'canary',
      });

      api.send(RECORDING.watch.deleted);
      await until('api-1 forgotten', () => cache.labelsFor('shop', 'api-1') === undefined);
      assert.equal(cache.size, 1);
      assert.ok(cache.labelsFor('shop', 'web-1'), 'web-1 still known');
    } finally {
      await cache.stop();
    }
    assert.deepEqual(api.errors, []);
  });

  test('a MODIFIED that only changes status keeps the labels object', async () => {
    const cache = createPodLabelCache({ kubeconfig, node: NODE });
    try {
      await cache.start();
      await until('the watch', () => api.openWatches > 0);
      const first = cache.labelsFor('shop', 'web-1');
      assert.ok(first);
      api.send(RECORDING.watch.statusOnly);
      api.send(RECORDING.watch.deleted); // a marker: once it is applied, so is the MODIFIED before it
      await until('the events applied', () => cache.labelsFor('shop', 'api-1') === undefined);
      assert.equal(cache.labelsFor('shop', 'web-1'), first);
    } finally {
      await cache.stop();
    }
  });

  test('a failed list (403) is reported and retried', async () => {
    api.failLists = 2;
    const messages: string[] = [];
    const cache = createPodLabelCache({ kubeconfig, node: NODE, retryDelayMs: 30 });
    try {
      await cache.start((m) => messages.push(m));
      assert.equal(api.failLists, 0);
      assert.equal(messages.length, 2, messages.join('\n'));
      assert.equal(messages[0], 'pod labels: list: HTTP 403: forbidden by the recording; retrying');
      assert.ok(cache.labelsFor('shop', 'web-1'));
    } finally {
      await cache.stop();
    }
  });

  test('--pod-labels: the pods source puts the pod labels on its records', async () => {
    const podsDir = join(dir, 'pods');
    const container = join(podsDir, `shop_web-1_${UID_WEB}`, 'app');
    await mkdir(container, { recursive: true });
    const cri = (ts: string, line: string) => `2026-11-23T10:00:0${ts}.000000000Z stdout F ${line}\n`;
    await writeFile(join(container, '0.log'), cri('1', 'listening on :8080'));

    const config = mergeConfig({}, { podsDir, podLabels: true, kubeconfig, node: NODE });
    assert.deepEqual(config.sources.pods, { dir: podsDir, labels: true, kubeconfig });
    const sources = await buildSources(config);
    assert.equal(sources.length, 1);
    const watchesBefore = api.openWatches;
    const r = runSource(sources[0]!);
    try {
      await r.waitFor(1);
      const [rec] = r.records();
      assert.equal(rec?.labels.kubernetes_labels_app, 'web');
      assert.equal(rec?.labels.kubernetes_labels_app_kubernetes_io_name, 'shop');
      assert.equal(rec?.labels.pod, 'web-1');
      assert.equal(rec?.labels.node, NODE);

      // A label added through the watch reaches the lines read after it.
      await until('the watch', () => api.openWatches > watchesBefore);
      api.send(RECORDING.watch.relabelled);
      await new Promise((res) => setTimeout(res, 100));
      await appendFile(join(container, '0.log'), cri('2', 'GET /cart 200'));
      await r.waitFor(2);
      const second = r.records()[1];
      assert.equal(second?.body, 'GET /cart 200');
      assert.equal(second?.labels.kubernetes_labels_track, 'canary');
    } finally {
      await r.stop();
    }
    await until('the informer stopped with the source', () => api.openWatches === watchesBefore);
    assert.deepEqual(api.errors, []);
  });

  test('--pod-labels without a kubeconfig outside a cluster is a clear error', async () => {
    const saved = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      const config = mergeConfig({}, { podsDir: dir, podLabels: true });
      await assert.rejects(buildSources(config), /pod labels: not running in a cluster/);
    } finally {
      if (saved !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved;
    }
  });
});

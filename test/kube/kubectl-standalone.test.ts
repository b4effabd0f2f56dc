/**
 * The real kubectl (v1.32) against a `kjournal serve` reached directly, not through kube-apiserver
 * (plain HTTP, no authentication): pod labels pushed under their plain names as Promtail and
 * Grafana Alloy push them, the cap of a list that leaves its size to the server
 * (`--kube-list-max-items`, here 100) with kubectl's `Warning:`, and kubectl's own error for a
 * missing object (its follow-up `GET /api/v1/namespaces/NAME` must not turn it into another).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/fake-loki.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { KUBECTL, kubectl, kubectlEnv, nsNow, writeKubeconfig } from './helpers.js';

const CAP = 100;
const BIG = 250;

interface Item {
  metadata: { name: string; labels?: Record<string, string>; annotations: Record<string, string> };
  pod: string;
  payload: unknown;
}

describe('kubectl against a standalone server', () => {
  let srv: ServerProcess;
  let kubeconfig: string;
  let home: string;
  const k = (...args: string[]) => kubectl(kubeconfig, args, home);
  const ok = async (...args: string[]): Promise<{ stdout: string; stderr: string }> => {
    const r = await k(...args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const names = async (...args: string[]): Promise<string[]> => {
    const out = (await ok('get', 'containerlogs', '-o', 'name', ...args)).stdout.trim();
    return out === '' ? [] : out.split('\n').map((n) => n.replace(/^containerlog\.core\.kjournal\//, ''));
  };
  const pods = async (...args: string[]): Promise<string[]> =>
    [...new Set((await names(...args)).map((n) => n.replace(/\.\d+\.\d+$/, '')))].sort();
  const push = async (streams: unknown[]): Promise<void> => {
    const r = await pushJson(srv.url, { streams });
    assert.equal(r.status, 204, r.text);
  };

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'kj-kubectl-sa-'));
    srv = await startServerProcess({ args: ['--kube-list-max-items', String(CAP)] });
    kubeconfig = await writeKubeconfig(srv.url);
    const now = nsNow();
    // As Promtail's Helm chart labels a pod's lines (its kubernetes-pods job and cri stage).
    const promtail = (pod: string, extra: Record<string, string>) => ({
      namespace: 'shop',
      pod,
      container: 'app',
      node_name: 'node-1',
      job: `shop/${extra.app ?? pod}`,
      filename: `/var/log/pods/shop_${pod}_uid/app/0.log`,
      stream: 'stdout',
      ...extra,
    });
    await push([
      {
        stream: promtail('shop-1', { app: 'shop', component: 'web' }),
        values: [
          [String(now - 5_000_000n), '{"level":"info","msg":"cart opened"}'],
          [String(now - 4_000_000n), '{"level":"error","msg":"payment failed"}'],
        ],
      },
      { stream: promtail('cart-1', { app: 'cart' }), values: [[String(now - 3_000_000n), 'cart line']] },
      // Both spellings: the pod's own label (kjournal's agent) wins over the collector's derived one.
      {
        stream: promtail('both-1', { app: 'derived', kubernetes_labels_app: 'real' }),
        values: [[String(now - 2_000_000n), 'both spellings']],
      },
      { stream: promtail('bare-1', {}), values: [[String(now - 1_000_000n), 'no app label']] },
      // Grafana Alloy (k8s-monitoring): app.kubernetes.io/name as a safe label name, a cluster label.
      {
        stream: {
          namespace: 'shop',
          pod: 'alloy-1',
          container: 'app',
          job: 'shop/app',
          cluster: 'prod',
          service_name: 'alloy',
          app_kubernetes_io_name: 'alloyed',
        },
        values: [[String(now - 500_000n), 'alloy line']],
      },
    ]);
    await push([
      {
        stream: { namespace: 'big', pod: 'big-1', container: 'app' },
        values: Array.from({ length: BIG }, (_, i) => [
          String(now - BigInt(BIG + 10 - i) * 1_000_000n),
          `big line ${i}`,
        ]),
      },
    ]);
  });

  after(async () => {
    await srv?.stop();
    if (srv) await removeDir(srv.dataDir);
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('pod labels under their plain names: -l app=shop, and metadata.labels', async () => {
    const table = (await ok('get', 'containerlogs', '-n', 'shop', '-l', 'app=shop')).stdout;
    assert.match(table, /shop-1\s+app\s+cart opened/);
    assert.match(table, /shop-1\s+app\s+payment failed/);
    assert.equal(table.trim().split('\n').length, 3, table);

    const list = JSON.parse(
      (await ok('get', 'containerlogs', '-n', 'shop', '-l', 'app=shop', '-o', 'json')).stdout,
    ) as { items: Item[] };
    assert.equal(list.items.length, 2);
    // Only pod labels: not the namespace, pod, node, stream, job or file Promtail also sends.
    for (const item of list.items) assert.deepEqual(item.metadata.labels, { app: 'shop', component: 'web' });

    const alloy = JSON.parse(
      (await ok('get', 'containerlogs', '-n', 'shop', '-l', 'app.kubernetes.io/name=alloyed', '-o', 'json'))
        .stdout,
    ) as { items: Item[] };
    assert.deepEqual(
      alloy.items.map((i) => i.metadata.labels),
      [{ app_kubernetes_io_name: 'alloyed' }],
    );
  });

  test('every label selector operator over plain labels, the pod label spelling winning', async () => {
    assert.deepEqual(await pods('-n', 'shop', '-l', 'app in (shop,real)'), ['both-1', 'shop-1']);
    assert.deepEqual(await pods('-n', 'shop', '-l', 'app notin (shop)'), [
      'alloy-1',
      'bare-1',
      'both-1',
      'cart-1',
    ]);
    assert.deepEqual(await pods('-n', 'shop', '-l', '!app'), ['alloy-1', 'bare-1']);
    assert.deepEqual(await pods('-n', 'shop', '-l', 'app'), ['both-1', 'cart-1', 'shop-1']);
    assert.deepEqual(await pods('-n', 'shop', '-l', 'app!=real,app'), ['cart-1', 'shop-1']);
    assert.deepEqual(await pods('-n', 'shop', '-l', 'app=real'), ['both-1']);
    assert.deepEqual(await pods('-n', 'shop', '-l', 'app=derived'), []);
    assert.deepEqual(await pods('-n', 'shop', '-l', 'app=shop,component=web'), ['shop-1']);
    // Kubernetes metadata and the collectors' own labels are not pod labels.
    assert.deepEqual(await pods('-n', 'shop', '-l', 'job'), []);
    assert.deepEqual(await pods('-n', 'shop', '-l', 'node_name=node-1'), []);
    assert.deepEqual(await pods('-n', 'shop', '-l', 'cluster=prod'), []);
  });

  test('a list over the cap: the newest items at once, with a Warning kubectl prints', async () => {
    const t0 = Date.now();
    const r = await ok('get', 'clog', '-n', 'big');
    assert.ok(Date.now() - t0 < 10_000, 'prompt');
    const rows = r.stdout.trim().split('\n');
    assert.equal(rows.length, 1 + CAP);
    assert.match(rows[1]!, new RegExp(`big line ${BIG - CAP}$`));
    assert.match(rows[CAP]!, new RegExp(`big line ${BIG - 1}$`));
    assert.match(
      r.stderr,
      new RegExp(`^Warning: this list has ${BIG} containerlogs; showing the newest ${CAP}, since \\S+Z`, 'm'),
    );
    assert.match(r.stderr, /--field-selector metadata\.creationTimestamp>=TIME/);
    assert.match(r.stderr, /--chunk-size=N/);

    const json = JSON.parse((await ok('get', 'clog', '-n', 'big', '-o', 'json')).stdout) as { items: Item[] };
    assert.deepEqual(
      json.items.map((i) => i.payload),
      Array.from({ length: CAP }, (_, i) => `big line ${BIG - CAP + i}`),
    );

    // Narrowed below the cap, as the warning says: no warning.
    const since = json.items[CAP - 10]!.metadata.annotations['core.kjournal/timestamp']!;
    const narrow = await ok(
      'get',
      'clog',
      '-n',
      'big',
      '--field-selector',
      `metadata.creationTimestamp>=${since}`,
    );
    assert.equal(narrow.stdout.trim().split('\n').length, 1 + 10);
    assert.equal(narrow.stderr, '');
  });

  test('--chunk-size and an explicit limit still page through everything', async () => {
    const r = await ok('get', 'clog', '-n', 'big', '--chunk-size=30', '-o', 'name');
    assert.equal(r.stdout.trim().split('\n').length, BIG);
    assert.equal(r.stderr, '');
    const page = JSON.parse(
      (await ok('get', '--raw', '/apis/core.kjournal/v1alpha1/namespaces/big/containerlogs?limit=120'))
        .stdout,
    ) as { items: Item[]; metadata: { continue?: string } };
    assert.equal(page.items.length, 120);
    assert.equal(page.items[0]!.payload, 'big line 0');
    assert.ok(page.metadata.continue);
  });

  test('kjournal get prints the Warning as kubectl does', async () => {
    const r = await runCli(['get', 'clog', '-n', 'big', '-o', 'name', '--server', srv.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, CAP);
    assert.match(
      r.stderr,
      new RegExp(`^Warning: this list has ${BIG} containerlogs; showing the newest ${CAP}`),
    );
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('Warning:')).length, 1);
  });

  test('get -w: the capped list, then new lines', async () => {
    const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, 'get', 'clog', '-n', 'big', '-w'], {
      env: kubectlEnv(home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const until = async (pred: () => boolean, what: string) => {
      const deadline = Date.now() + 10_000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until(() => out.includes(`big line ${BIG - 1}`), 'the list');
      await push([
        {
          stream: { namespace: 'big', pod: 'big-1', container: 'app' },
          values: [[String(nsNow()), 'after the list']],
        },
      ]);
      await until(() => out.includes('after the list'), 'the new line');
      assert.doesNotMatch(out, new RegExp(`big line ${BIG - CAP - 1}\\b`));
      assert.match(err, /^Warning: this list has/m);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('a missing object: kubectl says so, not that the server lacks the resource', async () => {
    const r = await k('get', 'clog', 'nope', '-n', 'shop');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /containerlogs\.core\.kjournal "nope" not found/);
    assert.doesNotMatch(r.stderr, /could not find the requested resource/);
    const named = await k('get', 'clog', 'web-1.1.1', '-n', 'shop');
    assert.match(named.stderr, /containerlogs\.core\.kjournal "web-1\.1\.1" not found/);
  });

  test('core API paths answer Kubernetes Status objects', async () => {
    const status = async (path: string) => {
      const res = await fetch(`${srv.url}${path}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, path);
      return { code: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const ns = await status('/api/v1/namespaces/shop');
    assert.equal(ns.code, 200);
    assert.equal(ns.body.kind, 'Namespace');
    assert.deepEqual((ns.body.metadata as { name: string }).name, 'shop');
    const bad = await status('/api/v1/namespaces/Not_A_Namespace');
    assert.equal(bad.code, 404);
    assert.equal(bad.body.kind, 'Status');
    assert.equal(bad.body.message, 'namespaces "Not_A_Namespace" not found');
    assert.deepEqual(bad.body.details, { name: 'Not_A_Namespace', kind: 'namespaces' });
    for (const path of [
      '/api/v1',
      '/api/v1/pods',
      '/api/v1/namespaces/shop/pods/x',
      '/apis/apps/v1/deployments',
    ]) {
      const s = await status(path);
      assert.equal(s.code, 404, path);
      assert.equal(s.body.kind, 'Status', path);
      assert.equal(s.body.reason, 'NotFound', path);
      assert.equal(s.body.message, 'the server could not find the requested resource', path);
    }
    // Paths of kjournal's other APIs keep their own answers.
    const korrel8r = await fetch(`${srv.url}/loki/api/v1/nothing`);
    assert.equal(korrel8r.status, 404);
    assert.equal(await korrel8r.text(), '404 page not found\n');
  });
});

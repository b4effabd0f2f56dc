/**
 * Two `kjournal serve` processes on one ClickHouse database (issue 16, "several kjournal servers on
 * one ClickHouse"): a line pushed to one reaches /tail, the watch API and `kubectl get -w` on the
 * other within 2 s, exactly once; a continue token and a resourceVersion from one are valid on the
 * other; after pushing to both at once, both answer the same, complete result.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ClickHouseProcess, startClickHouse } from '../helpers/clickhouse.js';
import {
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
import { KUBECTL, kubectlEnv, writeKubeconfig } from '../kube/helpers.js';

const DB = 'kj_two';
const BASE = '/apis/core.kjournal/v1alpha1';

describe('two serve processes on one ClickHouse database', () => {
  let ch: ClickHouseProcess;
  let a: ServerProcess;
  let b: ServerProcess;
  let home: string;
  const t0 = nsNow() - 30_000_000_000n;
  const start = String(t0 - 3_600_000_000_000n);

  const line = (ns: string, pod: string, text: string, ts = nsNow()) => ({
    stream: { kind: 'containerlog', namespace: ns, pod, container: 'app' },
    values: [[String(ts), text]],
  });
  const push = async (srv: ServerProcess, streams: unknown[]) => {
    const r = await pushJson(srv.url, { streams });
    assert.equal(r.status, 204, r.text);
  };
  const getJson = async <T>(srv: ServerProcess, path: string): Promise<T> => {
    const r = await http(`${srv.url}${path}`);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return JSON.parse(r.text) as T;
  };

  before(async () => {
    ch = await startClickHouse();
    [a, b] = await Promise.all([startClickHouseServe(ch.url, DB), startClickHouseServe(ch.url, DB)]);
    home = await mkdtemp(join(tmpdir(), 'kj-chtwo-'));
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    for (const s of [a, b]) if (s) await removeDir(s.dataDir);
    await ch?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('the two servers hold different writer slots', () => {
    const slot = (s: ServerProcess) => /writer slot (\d+)/.exec(s.stderr())?.[1];
    assert.ok(slot(a) !== undefined && slot(b) !== undefined, `${a.stderr()}\n${b.stderr()}`);
    assert.notEqual(slot(a), slot(b));
  });

  test('a line pushed to one reaches /tail, the watch API and kubectl get -w on the other within 2 s, once', async () => {
    const list = await getJson<KubeList>(b, `${BASE}/namespaces/cross/containerlogs`);
    const tail = await LokiTail.open(
      `${b.url.replace(/^http/, 'ws')}/loki/api/v1/tail?${new URLSearchParams({ query: '{namespace="cross"}' })}`,
    );
    const watch = await KubeWatch.open(
      `${b.url}${BASE}/namespaces/cross/containerlogs?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
    );
    const kubeconfig = await writeKubeconfig(b.url);
    const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, 'get', 'clog', '-n', 'cross', '-w'], {
      env: kubectlEnv(home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      // kubectl has listed (an empty list prints nothing): give it a moment to start its watch.
      await new Promise((r) => setTimeout(r, 1500));
      const pushedAt = Date.now();
      await push(a, [line('cross', 'x-1', 'from a')]);
      await Promise.all([
        tail.until(() => tail.lines().includes('from a'), 2000, '/tail on b'),
        watch.until(() => watch.added().length > 0, 2000, 'the watch on b'),
        (async () => {
          while (!out.includes('from a')) {
            if (Date.now() - pushedAt > 2000) throw new Error(`kubectl -w on b: ${out}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        })(),
      ]);
      assert.ok(Date.now() - pushedAt <= 2000 + 100);
      // Exactly once: nothing more comes after a while.
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(tail.lines(), ['from a']);
      assert.equal(watch.added().length, 1);
      assert.equal(out.match(/from a/g)?.length, 1, out);
    } finally {
      tail.close();
      watch.close();
      child.kill('SIGTERM');
    }
  });

  test('a continue token and a resourceVersion from one are valid on the other', async () => {
    await push(
      a,
      Array.from({ length: 6 }, (_, i) => line('paged', 'p-1', `paged ${i}`, t0 + BigInt(i) * 1_000_000n)),
    );
    // A list is a snapshot at its resourceVersion (src/kube/list.ts): with another server on the
    // database, a's own lines enter it once b's heartbeat says b has nothing in flight below them.
    let first: KubeList;
    const deadline = Date.now() + 3000;
    for (;;) {
      first = await getJson<KubeList>(a, `${BASE}/namespaces/paged/containerlogs?limit=2`);
      const rv = BigInt(first.metadata.resourceVersion);
      assert.ok(
        first.items.every((i) => BigInt(i.metadata.resourceVersion) <= rv),
        'no item above the list resourceVersion',
      );
      if (first.items.length === 2 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata.continue);
    const names = first.items.map((i) => i.metadata.name);
    let cont: string | undefined = first.metadata.continue;
    let n = 0;
    while (cont) {
      const server = n++ % 2 === 0 ? b : a;
      const page: KubeList = await getJson<KubeList>(
        server,
        `${BASE}/namespaces/paged/containerlogs?limit=2&continue=${encodeURIComponent(cont)}`,
      );
      names.push(...page.items.map((i) => i.metadata.name));
      cont = page.metadata.continue;
    }
    assert.equal(names.length, 6);
    assert.equal(new Set(names).size, 6);

    // A resourceVersion of a's list, watched on b: what a stored after it is replayed by b.
    await push(a, [line('paged', 'p-1', 'after the list')]);
    const w = await KubeWatch.open(
      `${b.url}${BASE}/namespaces/paged/containerlogs?watch=true&resourceVersion=${first.metadata.resourceVersion}`,
    );
    try {
      assert.equal(w.status, 200);
      await w.until(() => w.added().length === 1, 3000, 'the replay on b');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(w.added().length, 1, 'only the line after the list');
      // And the other way round: b's event resourceVersion, resumed on a: nothing repeats.
      const rv = w.added()[0]!.metadata.resourceVersion;
      const back = await KubeWatch.open(
        `${a.url}${BASE}/namespaces/paged/containerlogs?watch=true&resourceVersion=${rv}`,
      );
      try {
        assert.equal(back.status, 200);
        await push(b, [line('paged', 'p-1', 'pushed to b')]);
        await back.until(() => back.added().length === 1, 3000, 'the line pushed to b, on a');
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(back.added().length, 1);
        assert.equal(JSON.stringify(back.added()[0]).includes('pushed to b'), true);
      } finally {
        back.close();
      }
    } finally {
      w.close();
    }
  });

  test('pushed to both at once: both answer every acknowledged line', async () => {
    const N = 40;
    const pushes: Promise<void>[] = [];
    for (let i = 0; i < N; i++) {
      const srv = i % 2 === 0 ? a : b;
      const ts = t0 + 1_000_000_000n + BigInt(i) * 1_000_000n;
      pushes.push(
        push(srv, [line('both', `pod-${i % 3}`, `both ${i}`, ts), line('both', 'pod-x', `x ${i}`, ts)]),
      );
    }
    await Promise.all(pushes);
    const read = async (srv: ServerProcess) =>
      allValues(await queryRange(srv.url, { query: '{namespace="both"}', start, limit: '1000' })).map(
        (v) => v[1],
      );
    const [ra, rb] = await Promise.all([read(a), read(b)]);
    assert.equal(ra.length, 2 * N);
    assert.deepEqual(ra, rb);
    assert.equal(new Set(ra).size, 2 * N);
    // The metric engine too, and the label values each server learned from the other's streams.
    const q = new URLSearchParams({
      query: 'sum(count_over_time({namespace="both"}[1h]))',
      time: String(nsNow()),
    });
    for (const srv of [a, b]) {
      const r = await getJson<{ data: { result: { value: [number, string] }[] } }>(
        srv,
        `/loki/api/v1/query?${q}`,
      );
      assert.equal(r.data.result[0]!.value[1], String(2 * N));
      const pods = await getJson<{ data: string[] }>(
        srv,
        `/loki/api/v1/label/pod/values?${new URLSearchParams({ start, query: '{namespace="both"}' })}`,
      );
      assert.deepEqual(pods.data, ['pod-0', 'pod-1', 'pod-2', 'pod-x']);
    }
  });
});

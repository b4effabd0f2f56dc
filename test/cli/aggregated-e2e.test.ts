/**
 * The CLI with a kubeconfig: its server may be kube-apiserver, which forwards only the
 * `core.kjournal` group's paths to kjournal (API aggregation), so `query`, `labels`, `series`,
 * `import` and korrel8r queries must use the Loki API under the group's path. The stand-in for
 * kube-apiserver here is a proxy that forwards `/apis/core.kjournal/v1alpha1/...` and answers 404 for
 * everything else, as kube-apiserver answers a path it does not serve.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTestKubeconfig } from '../helpers/kubeconfig.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { runCli } from './fake-loki.js';

let server: ServerProcess;
let proxy: Server;
let dir: string;
let kubeconfig: string;
const seen: string[] = [];
const now = Date.now();
const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);

before(async () => {
  server = await startServerProcess();
  const r = await pushJson(server.url, {
    streams: [
      { stream: { namespace: 'shop', pod: 'web-1' }, values: [[ns(now - 5000), 'through the group']] },
    ],
  });
  assert.equal(r.status, 204, r.text);
  const target = new URL(server.url);
  proxy = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (!req.url?.startsWith('/apis/core.kjournal/v1alpha1/')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}');
      req.resume();
      return;
    }
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(out);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  dir = await mkdtemp(join(tmpdir(), 'kj-aggregated-'));
  kubeconfig = await writeTestKubeconfig(dir, (proxy.address() as AddressInfo).port);
});

after(async () => {
  proxy.close();
  await server.stop();
  await removeDir(server.dataDir);
  await removeDir(dir);
});

test('query, labels and series with a kubeconfig go through the group path; -v says where', async () => {
  const q = await runCli(['query', '{namespace="shop"}', '--kubeconfig', kubeconfig, '-o', 'raw', '-v']);
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout, 'through the group\n');
  assert.match(
    q.stderr,
    /kjournal: server http:\/\/127\.0\.0\.1:\d+\/ \(from kubeconfig context rec\); Loki API at http:\/\/127\.0\.0\.1:\d+\/apis\/core\.kjournal\/v1alpha1\/loki\/api\/v1 \(through the core\.kjournal API group\)/,
  );
  const labels = await runCli(['labels', 'pod', '--kubeconfig', kubeconfig, '-q']);
  assert.equal(labels.code, 0, labels.stderr);
  assert.equal(labels.stdout.trim(), 'web-1');
  const series = await runCli(['series', '{namespace="shop"}', '--kubeconfig', kubeconfig, '-q']);
  assert.equal(series.code, 0, series.stderr);
  assert.match(series.stdout, /pod="web-1"/);
  const k = await runCli([
    'query',
    'log:application:{"namespace":"shop"}',
    '--kubeconfig',
    kubeconfig,
    '-q',
    '-o',
    'raw',
  ]);
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /through the group/);
  assert.ok(
    seen.length > 0 && seen.every((s) => s.includes(' /apis/core.kjournal/v1alpha1/')),
    seen.join('\n'),
  );
});

test('import with a kubeconfig pushes through the group path', async () => {
  const pods = join(dir, 'pods', 'shop_imported-1_0c1d2e3f', 'app');
  await mkdir(pods, { recursive: true });
  await writeFile(join(pods, '0.log'), `${new Date(now - 3000).toISOString()} stdout F imported line\n`);
  const r = await runCli(['import', join(dir, 'pods'), '--kubeconfig', kubeconfig]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(seen.includes('POST /apis/core.kjournal/v1alpha1/loki/api/v1/push'), seen.join('\n'));
  const q = await runCli(['query', '{pod="imported-1"}', '--kubeconfig', kubeconfig, '-q', '-o', 'raw']);
  assert.equal(q.stdout, 'imported line\n');
});

test('with --server, the Loki API is at the root as before', async () => {
  const r = await runCli(['query', '{namespace="shop"}', '--server', server.url, '-o', 'raw', '-v']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Loki API at http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\n/);
});

/**
 * `kjournal get` end to end: the real server process, realistic data, the compiled CLI as a child.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { pushContainerLogs } from '../kube/helpers.js';
import { runCli } from './fake-loki.js';

let server: ServerProcess;

before(async () => {
  server = await startServerProcess();
  await pushContainerLogs(server.url, [
    { namespace: 'shop', pod: 'web-1', container: 'app', app: 'web', line: 'web one' },
    {
      namespace: 'shop',
      pod: 'web-2',
      container: 'app',
      app: 'web',
      line: '{"level":"info","msg":"web two json"}',
    },
    {
      namespace: 'shop',
      pod: 'db-0',
      container: 'pg',
      app: 'db',
      line: 'db zero',
      stream: 'stderr',
      node: 'n2',
    },
    { namespace: 'other', pod: 'job-1', container: 'run', app: 'job', line: 'other ns line' },
  ]);
  // More records than one chunk, in their own namespace.
  await pushContainerLogs(
    server.url,
    Array.from({ length: 25 }, (_, i) => ({
      namespace: 'bulk',
      pod: 'bulk-0',
      container: 'c',
      app: 'bulk',
      line: `bulk line ${i}`,
    })),
  );
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

const get = (...args: string[]) => runCli(['get', ...args, '--server', server.url]);

test('get containerlogs -A: a table with a namespace column and every namespace', async () => {
  const r = await get('containerlogs', '-A');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^NAMESPACE +TIME +POD +CONTAINER +MESSAGE$/);
  assert.equal(lines.length, 1 + 4 + 25);
  // Aligned: every row's POD column starts where the header's does.
  const podAt = lines[0]!.indexOf('POD');
  const web1 = lines.find((l) => l.includes('web one'))!;
  assert.equal(web1.slice(podAt, podAt + 5), 'web-1');
  assert.ok(lines.some((l) => l.startsWith('other ') && l.includes('other ns line')));
  // The message of a JSON line, not its JSON.
  assert.ok(
    lines.some((l) => /web-2 +app +web two json$/.test(l)),
    r.stdout,
  );
});

test('get clog -n shop, --no-headers, -l and --field-selector', async () => {
  let r = await get('clog', '-n', 'shop', '--no-headers');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.ok(!r.stdout.includes('other ns line'));
  assert.ok(!r.stdout.includes('POD'));

  r = await get('containerlog', '-n', 'shop', '-l', 'app=db');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trimEnd().split('\n').length, 2);
  assert.match(r.stdout, /db-0 +pg +db zero/);

  r = await get('ContainerLog', '-n', 'shop', '--field-selector', 'stream=stderr', '-o', 'name');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^containerlog\.core\.kjournal\/db-0\.\d+\.\d+\n$/);

  // No match: nothing on stdout, kubectl's notice on stderr, success.
  r = await get('clog', '-n', 'shop', '--field-selector', 'pod=nope');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /No resources found in shop namespace/);
});

test('get -o json, yaml, wide, and one object by name', async () => {
  let r = await get('clog', '-n', 'shop', '-o', 'json');
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { kind: string; items: { metadata: { name: string }; pod: string }[] };
  assert.equal(list.kind, 'List');
  assert.deepEqual(list.items.map((i) => i.pod).sort(), ['db-0', 'web-1', 'web-2']);

  const name = list.items.find((i) => i.pod === 'web-2')!.metadata.name;
  r = await get('clog', name, '-n', 'shop', '-o', 'yaml');
  assert.equal(r.code, 0, r.stderr);
  const obj = parseYaml(r.stdout.replace(/^---\n/, '')) as { kind: string; payload: { msg: string } };
  assert.equal(obj.kind, 'ContainerLog');
  assert.equal(obj.payload.msg, 'web two json');

  r = await get('clog', '-n', 'shop', '-o', 'yaml');
  const yl = parseYaml(r.stdout) as { kind: string; items: unknown[] };
  assert.equal(yl.kind, 'List');
  assert.equal(yl.items.length, 3);

  r = await get('clog', '-n', 'shop', '-o', 'wide');
  assert.match(r.stdout.split('\n')[0]!, /MESSAGE +NAME +NODE +STREAM$/);
  assert.match(r.stdout, /db zero +db-0\.\d+\.\d+ +n2 +stderr/);

  r = await get('clog', '-n', 'shop', '-o', 'jsonl');
  assert.equal(r.stdout.trimEnd().split('\n').length, 3);
  assert.equal((JSON.parse(r.stdout.split('\n')[0]!) as { kind: string }).kind, 'ContainerLog');
});

test('get pages through continue: more records than --chunk-size, and --limit', async () => {
  let r = await get('clog', '-n', 'bulk', '--chunk-size', '7', '-o', 'jsonl');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 25);
  const msgs = lines.map((l) => (JSON.parse(l) as { payload: string }).payload);
  assert.deepEqual(
    msgs,
    Array.from({ length: 25 }, (_, i) => `bulk line ${i}`),
  );

  r = await get('clog', '-n', 'bulk', '--chunk-size', '7', '--limit', '10', '--no-headers');
  assert.equal(r.stdout.trimEnd().split('\n').length, 10);

  r = await get('clog', '-n', 'bulk', '--chunk-size', '4', '-o', 'json');
  assert.equal((JSON.parse(r.stdout) as { items: unknown[] }).items.length, 25);
});

test('get --since/--until become time field selectors', async () => {
  let r = await get('clog', '-A', '--until', '2000-01-01T00:00:00Z', '--no-headers');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  r = await get('clog', '-n', 'shop', '--since', '10m', '--no-headers');
  assert.equal(r.stdout.trimEnd().split('\n').length, 3);
});

test('get -w: list then watch', async () => {
  await pushContainerLogs(server.url, [
    { namespace: 'watch2', pod: 'w-1', container: 'c', app: 'w', line: 'early bird' },
  ]);
  let listed: () => void = () => {};
  const sawList = new Promise<void>((resolve) => {
    listed = resolve;
  });
  const run = runCli(['get', 'clog', '-n', 'watch2', '-w', '--server', server.url], {
    onOutput: (text, kill) => {
      if (text.includes('early bird')) listed();
      if (text.includes('late arrival')) kill('SIGTERM');
    },
    timeoutMs: 15_000,
  });
  await sawList;
  // The list is printed; give the watch a moment to open, then push the late one.
  await new Promise((r) => setTimeout(r, 500));
  await pushContainerLogs(server.url, [
    { namespace: 'watch2', pod: 'w-1', container: 'c', app: 'w', line: 'late arrival' },
  ]);
  const r = await run;
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^TIME +POD +CONTAINER +MESSAGE$/);
  assert.match(lines[1]!, /w-1 +c +early bird$/);
  assert.match(lines[2]!, /w-1 +c +late arrival$/);
  assert.equal(lines.length, 3);
});

test('get -w lists again after 410 Expired, printing only what is new', async () => {
  await pushContainerLogs(server.url, [
    { namespace: 'relist', pod: 'r-1', container: 'c', app: 'r', line: 'before' },
  ]);
  // A proxy to the real server that answers the first watch with the 410 ERROR event a watch
  // cache sends for a version too old, after a record arrived that the re-list must print.
  let watches = 0;
  const proxy = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (url.searchParams.get('watch') === 'true' && watches++ === 0) {
      pushContainerLogs(server.url, [
        { namespace: 'relist', pod: 'r-1', container: 'c', app: 'r', line: 'between' },
      ]).then(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const status = {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Expired',
          code: 410,
          message: 'too old',
        };
        res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      });
      return;
    }
    const up = http.request(`${server.url}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  try {
    const run = runCli(['get', 'clog', '-n', 'relist', '-w', '--no-headers', '--server', proxyUrl], {
      onOutput: (text, kill) => {
        if (text.includes('after')) kill('SIGTERM');
      },
      timeoutMs: 15_000,
    });
    while (watches < 2) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    await pushContainerLogs(server.url, [
      { namespace: 'relist', pod: 'r-1', container: 'c', app: 'r', line: 'after' },
    ]);
    const r = await run;
    const msgs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/ +/).at(-1));
    assert.deepEqual(msgs, ['before', 'between', 'after'], r.stdout + r.stderr);
  } finally {
    proxy.closeAllConnections();
    proxy.close();
  }
});

test("get -n defaults to the kubeconfig context's namespace", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-get-kc-'));
  const kc = join(dir, 'config');
  await writeFile(
    kc,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: kj, cluster: {server: "${server.url}"}}]`,
      'contexts: [{name: kj, context: {cluster: kj, user: u, namespace: shop}}, {name: bare, context: {cluster: kj, user: u}}]',
      'current-context: kj',
      'users: [{name: u, user: {}}]',
      '',
    ].join('\n'),
  );
  let r = await runCli(['get', 'clog', '--kubeconfig', kc, '--no-headers']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trimEnd().split('\n').length, 3);
  assert.match(r.stdout, /web one/);
  r = await runCli(['get', 'clog', '--kubeconfig', kc, '--context', 'bare', '--no-headers']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /No resources found in default namespace/);
  await removeDir(dir);
});

test('errors: one line, non-zero', async () => {
  let r = await get('pods');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^kjournal: the server doesn't have a resource type "pods"[^\n]*\n$/);

  r = await get('clog', '-n', 'shop', '--field-selector', 'bogus.field=1');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^kjournal: Error from server \(BadRequest\): [^\n]*bogus\.field[^\n]*\n$/);

  r = await get('clog', 'web-1.1.1', '-n', 'shop');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^kjournal: Error from server \(NotFound\): [^\n]*not found\n$/);

  r = await runCli(['get', 'clog', '--server', 'http://127.0.0.1:9']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^kjournal: cannot reach http:\/\/127\.0\.0\.1:9\/: [^\n]*\n$/);

  r = await get('clog', 'x.1.1', '-A');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^kjournal: a resource cannot be retrieved by name across all namespaces\n$/);

  r = await get('clog', '-o', 'xml');
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /^kjournal: --output must be one of table, wide, json, yaml, name, jsonl, got "xml"\n$/,
  );
});

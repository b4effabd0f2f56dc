/**
 * A token file without an authorizer (`--token-auth-file` alone, over TLS): every identity in it may
 * do everything, as the start-up line says (kube-apiserver's AlwaysAllow): push, import, queries,
 * /labels, Grafana's health check, audit events with kubectl, /metrics; a request without a valid
 * token is still a 401.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makePki, type Pki } from '../auth/pki.js';
import { httpsCall, pushAs, type Reply, startTlsServer, writeKubeconfig } from '../helpers/auth-e2e.js';
import { runCliCapturingStderr as runCli } from '../helpers/process-info.js';
import { removeDir, type ServerProcess } from '../helpers/server-process.js';
import { auditEvent, kubectl, nsNow } from '../kube/helpers.js';

describe('a token file without an authorizer', () => {
  let pki: Pki;
  let server: ServerProcess;
  let dir: string;
  const t = nsNow() - 30_000_000_000n;

  const get = (path: string, token = 'user-token'): Promise<Reply> =>
    httpsCall(`${server.url}${path}`, pki.ca.cert, { token });

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-token-only-'));
    await writeFile(join(dir, 'tokens.csv'), 'user-token,user,1\nother-token,other,2,"dev"\n');
    server = await startTlsServer(pki, undefined, ['--token-auth-file', join(dir, 'tokens.csv')]);
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  test('the start-up line says what every identity may do', () => {
    assert.match(
      server.stderr(),
      /authentication: token \(2 users: user, other\); authorization: none: every authenticated user may do everything: read and write every resource, audit events included, in every tenant, and read \/metrics/,
    );
  });

  test('push, then query, /labels and Grafana health check answer', async () => {
    let r = await pushAs(server.url, pki.ca.cert, 'user-token', [
      {
        stream: { kind: 'containerlog', namespace: 'shop', pod: 'web-1', container: 'app' },
        values: [[String(t), 'token-only line']],
      },
      {
        stream: { kind: 'auditevent' },
        values: [[String(t + 1n), JSON.stringify(auditEvent('t-1', 'get', 'user', 'pods', 200, t + 1n))]],
      },
    ]);
    assert.equal(r.status, 204, r.body);
    const q = new URLSearchParams({ query: '{namespace="shop"}', start: String(t - 1_000_000_000n) });
    r = await get(`/loki/api/v1/query_range?${q}`, 'other-token');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /token-only line/);
    r = await get('/loki/api/v1/labels');
    assert.equal(r.status, 200, r.body);
    assert.ok((JSON.parse(r.body) as { data: string[] }).data.includes('namespace'), r.body);
    // Grafana's Loki data source health check (pkg/tsdb/loki/healthcheck.go).
    const health = new URLSearchParams({ query: 'vector(1)+vector(1)', time: '4000000000', limit: '1' });
    r = await get(`/loki/api/v1/query?${health}`);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual((JSON.parse(r.body) as { data: { result: unknown } }).data.result, [
      { metric: {}, value: [4_000_000_000, '2'] },
    ]);
    r = await get('/metrics');
    assert.equal(r.status, 200, r.body);
    r = await get('/loki/api/v1/labels', 'wrong-token');
    assert.equal(r.status, 401, r.body);
  });

  test('kubectl reads audit events and container logs', async () => {
    const kubeconfig = await writeKubeconfig(
      join(dir, 'kubeconfig'),
      server.url,
      pki.ca.certFile,
      '{token: "other-token"}',
    );
    const home = join(dir, 'home');
    let k = await kubectl(kubeconfig, ['get', 'auditevents', '-o', 'jsonpath={.items[*].auditID}'], home);
    assert.equal(k.code, 0, k.stderr);
    assert.equal(k.stdout, 't-1');
    k = await kubectl(
      kubeconfig,
      ['get', 'containerlogs', '-n', 'shop', '-o', 'custom-columns=POD:.pod'],
      home,
    );
    assert.equal(k.code, 0, k.stderr);
    assert.deepEqual(k.stdout.trim().split('\n'), ['POD', 'web-1']);
  });

  test('kjournal import with a token', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kj-import-token-'));
    try {
      const container = join(root, 'pods', 'shop_web-2_0c1d2e3f', 'app');
      await mkdir(container, { recursive: true });
      await writeFile(
        join(container, '0.log'),
        `${new Date(Date.now() - 5000).toISOString()} stdout F imported with a token\n`,
      );
      const r = await runCli([
        'import',
        join(root, 'pods'),
        '--server',
        server.url,
        '--token',
        'user-token',
        '--certificate-authority',
        pki.ca.certFile,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const q = new URLSearchParams({
        query: '{pod="web-2"}',
        start: String(nsNow() - 60_000_000_000n),
      });
      const res = await get(`/loki/api/v1/query_range?${q}`);
      assert.match(res.body, /imported with a token/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/**
 * Security end to end: the real server over TLS with kube-apiserver's token file and an ABAC policy
 * file, read by the real kubectl and by plain HTTPS clients. A user allowed one namespace sees
 * nothing of another (list, get, watch, tables, the Loki API and its tail); audit events only for
 * the user explicitly allowed them; missing or wrong credentials are 401; probes stay open; without
 * any auth flag the server refuses a non-loopback address.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { type KeyPair, makePki, type Pki } from '../auth/pki.js';
import {
  httpsCall,
  type Reply,
  type RequestOptions,
  startTlsServer,
  writeKubeconfig,
} from '../helpers/auth-e2e.js';
import { CLI, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { auditEvent, kubectl, nsNow, pushAuditEvent, pushContainerLogs } from '../kube/helpers.js';

const POLICY = [
  // Discovery for every authenticated user, as kube-apiserver's ABAC documentation advises.
  { group: 'system:authenticated', readonly: true, nonResourcePath: '*' },
  { user: 'alice', namespace: 'shop', resource: 'containerlogs', apiGroup: 'core.kjournal', readonly: true },
  { user: 'bob', namespace: '*', resource: '*', apiGroup: '*', readonly: true },
  { user: 'bob', namespace: '*', resource: 'auditevents', apiGroup: 'core.kjournal', readonly: true },
  { user: 'carl', namespace: '*', resource: '*', apiGroup: '*', readonly: true },
  // kube-apiserver's audit webhook: may create audit events, nothing else.
  { user: 'apiserver', namespace: '*', resource: 'auditevents', apiGroup: 'core.kjournal' },
]
  .map((spec) =>
    JSON.stringify({ apiVersion: 'abac.authorization.kubernetes.io/v1beta1', kind: 'Policy', spec }),
  )
  .join('\n');

const httpsGet = (url: string, ca: string, opts: RequestOptions = {}): Promise<Reply> =>
  httpsCall(url, ca, opts);

describe('TLS, tokens and ABAC, end to end', () => {
  let pki: Pki;
  let server: ServerProcess;
  let dir: string;
  let home: string;

  const get = (path: string, token?: string): Promise<Reply> =>
    httpsGet(`${server.url}${path}`, pki.ca.cert, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  const kubeconfigFor = (token: string): Promise<string> =>
    writeKubeconfig(join(dir, `kubeconfig-${token}`), server.url, pki.ca.certFile, `{token: "${token}"}`);

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-auth-e2e-'));
    home = join(dir, 'home');
    await writeFile(
      join(dir, 'tokens.csv'),
      'alice-token,alice,1,"dev"\nbob-token,bob,2\ncarl-token,carl,3\napiserver-token,apiserver,4\n' +
        // In kube-apiserver's superuser group, and in no policy.
        'master-token,master,5,"system:masters"\n',
    );
    await writeFile(join(dir, 'policy.jsonl'), `${POLICY}\n`);
    // Load data through an open loopback server first, then serve the same data with auth.
    const open = await startServerProcess();
    const t = nsNow() - 60_000_000_000n;
    await pushContainerLogs(open.url, [
      { namespace: 'shop', pod: 'web-1', container: 'app', app: 'web', line: 'shop line', ts: t },
      { namespace: 'bank', pod: 'vault-1', container: 'app', app: 'vault', line: 'bank secret', ts: t + 1n },
    ]);
    await pushAuditEvent(open.url, auditEvent('a-1', 'delete', 'mallory', 'secrets', 200, t + 2n), t + 2n);
    await open.stop();
    server = await startTlsServer(pki, open.dataDir, [
      '--token-auth-file',
      join(dir, 'tokens.csv'),
      '--authorization-policy-file',
      join(dir, 'policy.jsonl'),
    ]);
    assert.match(server.url, /^https:/);
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  test('no or a wrong token: 401 (a Status on kube paths); probes stay open', async () => {
    let r = await get('/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs');
    assert.equal(r.status, 401, r.body);
    assert.deepEqual(
      { ...JSON.parse(r.body), message: undefined },
      {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: undefined,
        reason: 'Unauthorized',
        code: 401,
      },
    );
    r = await get('/loki/api/v1/labels', 'not-a-token');
    assert.equal(r.status, 401, r.body);
    assert.equal((await get('/readyz')).status, 200);
    assert.equal((await get('/livez')).status, 200);
    // The start-up message says how requests are checked.
    assert.match(server.stderr(), /HTTPS; authentication: .*token.*; authorization: ABAC/i);
  });

  test('alice reads her namespace, and nothing of another, on every path', async () => {
    let r = await get('/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs', 'alice-token');
    assert.equal(r.status, 200, r.body);
    const items = (JSON.parse(r.body) as { items: { pod: string }[] }).items;
    assert.deepEqual(
      items.map((i) => i.pod),
      ['web-1'],
    );
    for (const path of [
      '/apis/core.kjournal/v1alpha1/namespaces/bank/containerlogs',
      '/apis/core.kjournal/v1alpha1/namespaces/bank/containerlogs?watch=true',
      '/apis/core.kjournal/v1alpha1/containerlogs',
      '/apis/core.kjournal/v1alpha1/auditevents',
      `/loki/api/v1/query_range?query=${encodeURIComponent('{namespace="bank"}')}`,
      `/api/v1/korrel8r/logs?query=${encodeURIComponent('log:application:{"namespace":"bank"}')}`,
    ]) {
      r = await get(path, 'alice-token');
      assert.equal(r.status, 403, `${path}: ${r.body}`);
      assert.ok(!r.body.includes('bank secret'), path);
    }
    r = await get('/apis/core.kjournal/v1alpha1/namespaces/bank/containerlogs', 'alice-token');
    const status = JSON.parse(r.body) as { reason: string; message: string };
    assert.equal(status.reason, 'Forbidden');
    assert.match(
      status.message,
      /User "alice" cannot list resource "containerlogs" .* in the namespace "bank"/,
    );
  });

  test('wildcards mean everything, as in Kubernetes: a * rule and system:masters read audit events', async () => {
    let r = await get('/apis/core.kjournal/v1alpha1/auditevents', 'bob-token');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /"auditID":"a-1"/);
    // carl's only rule is `*` on every resource of every group.
    r = await get('/apis/core.kjournal/v1alpha1/auditevents', 'carl-token');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /"auditID":"a-1"/);
    r = await get(`/loki/api/v1/query_range?query=${encodeURIComponent('{kind=~".+"}')}`, 'carl-token');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /bank secret/);
    assert.match(r.body, /\\"auditID\\":\\"a-1\\"/);
    r = await get(
      `/api/logs/v1/application/loki/api/v1/query_range?query=${encodeURIComponent('{namespace="shop"}')}`,
      'carl-token',
    );
    assert.equal(r.status, 200, r.body);
    // alice has no rule for them.
    r = await get('/apis/core.kjournal/v1alpha1/auditevents', 'alice-token');
    assert.equal(r.status, 403, r.body);
    // system:masters: no policy names master, who may do everything, writes included.
    const master = await kubeconfigFor('master-token');
    const k = await kubectl(master, ['get', 'auditevents', '-o', 'jsonpath={.items[*].auditID}'], home);
    assert.equal(k.code, 0, k.stderr);
    assert.equal(k.stdout, 'a-1');
    // Two days old: outside the default list window the other tests list.
    const t = nsNow() - 48n * 3600n * 1_000_000_000n;
    r = await httpsGet(`${server.url}/loki/api/v1/push`, pki.ca.cert, {
      token: 'master-token',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        streams: [
          {
            stream: { kind: 'auditevent' },
            values: [[String(t), JSON.stringify(auditEvent('m-1', 'get', 'master', 'secrets', 200, t))]],
          },
        ],
      }),
    });
    assert.equal(r.status, 204, r.body);
    r = await get('/metrics', 'master-token');
    assert.equal(r.status, 200, r.body);
  });

  test('the audit intake needs create on auditevents: the webhook may post, a reader may not', async () => {
    // Two days old: outside the default list window the kubectl test below lists.
    const t = nsNow() - 48n * 3600n * 1_000_000_000n;
    const body = JSON.stringify({
      kind: 'EventList',
      apiVersion: 'audit.k8s.io/v1',
      items: [auditEvent('w-1', 'create', 'alice', 'configmaps', 201, t)],
    });
    const post = (token: string) =>
      httpsGet(`${server.url}/ingest/audit`, pki.ca.cert, {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
    let r = await post('bob-token');
    assert.equal(r.status, 403, r.body);
    assert.match(r.body, /User "bob" cannot create resource "auditevents"/);
    r = await post('apiserver-token');
    assert.equal(r.status, 200, r.body);
    const q = new URLSearchParams({
      query: '{kind="auditevent"} |= "w-1"',
      start: String(t - 1000n),
      end: String(t + 1000n),
    });
    r = await get(`/loki/api/v1/query_range?${q}`, 'bob-token');
    assert.match(r.body, /\\"auditID\\":\\"w-1\\"/);
  });

  test('the tail WebSocket is refused without the rights', async () => {
    const url = `${server.url.replace(/^https/, 'wss')}/loki/api/v1/tail?query=${encodeURIComponent('{namespace="bank"}')}`;
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url, { ca: pki.ca.cert, headers: { authorization: 'Bearer alice-token' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        reject(new Error('the tail opened'));
      });
      ws.on('error', reject);
    });
    assert.equal(status, 403);
  });

  test('kubectl over TLS with a token: allowed, forbidden and unauthorised', async () => {
    const alice = await kubeconfigFor('alice-token');
    let r = await kubectl(
      alice,
      ['get', 'containerlogs', '-n', 'shop', '-o', 'custom-columns=POD:.pod'],
      home,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['POD', 'web-1']);
    r = await kubectl(alice, ['get', 'containerlogs', '-n', 'bank'], home);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Forbidden.*User "alice" cannot list resource "containerlogs"/);
    r = await kubectl(alice, ['get', 'auditevents'], home);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Forbidden/);
    const bob = await kubeconfigFor('bob-token');
    r = await kubectl(bob, ['get', 'auditevents', '-o', 'jsonpath={.items[*].auditID}'], home);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a-1');
    const nobody = await kubeconfigFor('wrong-token');
    r = await kubectl(nobody, ['get', 'containerlogs', '-n', 'shop'], home);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unauthorized|must be logged in/);
  });
});

test('without any auth flag, serve refuses a non-loopback address in one line', () => {
  const r = spawnSync(
    process.execPath,
    [CLI, 'serve', '--listen', '0.0.0.0:0', '--data', join(tmpdir(), 'kj-never')],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  assert.notEqual(r.status, 0);
  const err = r.stderr.trim();
  assert.equal(err.split('\n').length, 1, err);
  assert.match(err, /refusing to listen on 0\.0\.0\.0 without authentication/);
});

describe('client certificates and the front proxy, end to end', () => {
  let pki: Pki;
  let server: ServerProcess;
  let dir: string;

  const get = (path: string, pair: KeyPair, headers: Record<string, string> = {}): Promise<Reply> =>
    httpsGet(`${server.url}${path}`, pki.ca.cert, { pair, headers });

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-proxy-e2e-'));
    await writeFile(join(dir, 'policy.jsonl'), `${POLICY}\n`);
    const open = await startServerProcess();
    const t = nsNow() - 60_000_000_000n;
    await pushContainerLogs(open.url, [
      { namespace: 'shop', pod: 'web-1', container: 'app', app: 'web', line: 'shop line', ts: t },
    ]);
    await pushAuditEvent(open.url, auditEvent('a-2', 'delete', 'mallory', 'secrets', 200, t + 2n), t + 2n);
    await open.stop();
    server = await startTlsServer(pki, open.dataDir, [
      '--client-ca-file',
      pki.ca.certFile,
      '--requestheader-client-ca-file',
      pki.requestHeaderCa.certFile,
      '--requestheader-allowed-names',
      'front-proxy-client',
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

  test('a client certificate is its CN; kubectl with it reads the namespace it may', async () => {
    const r = await get('/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs', pki.alice);
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /shop line/);
    const kubeconfig = await writeKubeconfig(
      join(dir, 'kubeconfig-cert'),
      server.url,
      pki.ca.certFile,
      `{client-certificate: "${pki.alice.certFile}", client-key: "${pki.alice.keyFile}"}`,
    );
    const home = join(dir, 'home');
    let k = await kubectl(
      kubeconfig,
      ['get', 'containerlogs', '-n', 'shop', '-o', 'custom-columns=POD:.pod'],
      home,
    );
    assert.equal(k.code, 0, k.stderr);
    assert.deepEqual(k.stdout.trim().split('\n'), ['POD', 'web-1']);
    k = await kubectl(kubeconfig, ['get', 'auditevents'], home);
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /Forbidden.*User "alice"/);
  });

  test('front-proxy headers count only from the allowed proxy certificate', async () => {
    const asBob = { 'X-Remote-User': 'bob', 'X-Remote-Group': 'ops' };
    let r = await get('/apis/core.kjournal/v1alpha1/auditevents', pki.frontProxy, asBob);
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /"auditID":"a-2"/);
    // A user's certificate cannot impersonate with the headers: it stays alice.
    r = await get('/apis/core.kjournal/v1alpha1/auditevents', pki.alice, asBob);
    assert.equal(r.status, 403, r.body);
    assert.match(r.body, /User \\"alice\\"/);
    // A proxy certificate with a CN that is not allowed is not trusted.
    r = await get('/apis/core.kjournal/v1alpha1/auditevents', pki.otherProxy, asBob);
    assert.notEqual(r.status, 200, r.body);
    assert.ok(!r.body.includes('a-2'));
    // Nor is a certificate from an unknown CA.
    r = await get('/apis/core.kjournal/v1alpha1/auditevents', pki.mallory, asBob);
    assert.equal(r.status, 401, r.body);
  });
});

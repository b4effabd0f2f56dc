/**
 * Tenants bound to identity, end to end over TLS with tokens and ABAC: a tenant other than `default`
 * (`X-Scope-OrgID`) needs `get` (reads) or `create` (writes) on `tenants.core.kjournal`, on every
 * path that reads or writes a tenant (the Kubernetes API with its watch, Loki's reads and tail,
 * korrel8r, the push and the intake); `--disable-tenant-header` makes every request the default
 * tenant, whatever it sends.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makePki, type Pki } from '../auth/pki.js';
import {
  abacPolicies,
  httpsCall,
  pushAs,
  type Reply,
  startTlsServer,
  tailOpen,
} from '../helpers/auth-e2e.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { coreEvent, nsNow } from '../kube/helpers.js';

const READ_ALL = ['containerlogs', 'events', 'logs', 'auditevents'].map((resource) => ({
  namespace: '*',
  resource,
  apiGroup: 'core.kjournal',
  readonly: true,
}));

const POLICY = abacPolicies([
  // reader: every record of the default tenant, no tenant of its own.
  ...READ_ALL.map((p) => ({ ...p, user: 'reader' })),
  // tenant-reader: the same, may read every tenant, and write records of the default tenant.
  ...READ_ALL.map((p) => ({ ...p, user: 'tenant-reader' })),
  { user: 'tenant-reader', resource: 'tenants', apiGroup: 'core.kjournal', readonly: true },
  { user: 'tenant-reader', namespace: '*', resource: 'containerlogs', apiGroup: 'core.kjournal' },
  { user: 'tenant-reader', namespace: '*', resource: 'events', apiGroup: 'core.kjournal' },
  // tenant-writer: may write container logs in every tenant.
  { user: 'tenant-writer', namespace: '*', resource: 'containerlogs', apiGroup: 'core.kjournal' },
  { user: 'tenant-writer', resource: 'tenants', apiGroup: 'core.kjournal' },
]);

const stream = (line: string, t: bigint) => ({
  stream: { kind: 'containerlog', namespace: 'shop', pod: 'web-1', container: 'app' },
  values: [[String(t), line]],
});

describe('tenants bound to identity', () => {
  let pki: Pki;
  let server: ServerProcess;
  let dir: string;
  const t = nsNow() - 60_000_000_000n;

  const get = (path: string, token: string, tenant?: string): Promise<Reply> =>
    httpsCall(`${server.url}${path}`, pki.ca.cert, {
      token,
      ...(tenant ? { headers: { 'X-Scope-OrgID': tenant } } : {}),
    });
  const query = (q: string) =>
    `/loki/api/v1/query_range?${new URLSearchParams({ query: q, start: String(t - 1_000_000_000n) })}`;

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-tenants-'));
    await writeFile(
      join(dir, 'tokens.csv'),
      'reader-token,reader,1\ntr-token,tenant-reader,2\ntw-token,tenant-writer,3\n',
    );
    await writeFile(join(dir, 'policy.jsonl'), POLICY);
    const open = await startServerProcess();
    await pushJson(open.url, { streams: [stream('default shop line', t)] });
    const r = await pushJson(
      open.url,
      { streams: [stream('customer-2 shop line', t)] },
      { 'X-Scope-OrgID': 'customer-2' },
    );
    assert.equal(r.status, 204, r.text);
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

  test('the default tenant is open to everyone the other rules allow', async () => {
    const r = await get(query('{namespace="shop"}'), 'reader-token');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /default shop line/);
    assert.doesNotMatch(r.body, /customer-2 shop line/);
  });

  test('reading another tenant needs get on tenants, on every read path', async () => {
    const paths = [
      query('{namespace="shop"}'),
      '/loki/api/v1/labels',
      '/loki/api/v1/query?query=vector(1)%2Bvector(1)',
      `/api/logs/v1/application${query('{namespace="shop"}')}`,
      `/api/v1/korrel8r/logs?query=${encodeURIComponent('log:application:{"namespace":"shop"}')}`,
      '/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs',
      '/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs?watch=true',
      '/apis/core.kjournal/v1alpha1/containerlogs',
    ];
    for (const path of paths) {
      const r = await get(path, 'reader-token', 'customer-2');
      assert.equal(r.status, 403, `${path}: ${r.body}`);
      assert.doesNotMatch(r.body, /customer-2 shop line/, path);
      assert.match(
        r.body,
        /tenants\.core\.kjournal \\?"customer-2\\?" is forbidden: User \\?"reader\\?" cannot get resource \\?"tenants\\?"/,
        path,
      );
    }
    // A Kubernetes Status on the Kubernetes API.
    const r = await get(
      '/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs',
      'reader-token',
      'customer-2',
    );
    assert.equal((JSON.parse(r.body) as { reason: string }).reason, 'Forbidden');
    const tail = await tailOpen(
      server.url,
      pki.ca.cert,
      `/loki/api/v1/tail?${new URLSearchParams({ query: '{namespace="shop"}', start: String(t - 1_000_000_000n) })}`,
      { authorization: 'Bearer reader-token', 'X-Scope-OrgID': 'customer-2' },
    );
    assert.equal(tail.status, 403, tail.body);
  });

  test('a user allowed the tenant reads it, and only it', async () => {
    let r = await get(query('{namespace="shop"}'), 'tr-token', 'customer-2');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /customer-2 shop line/);
    assert.doesNotMatch(r.body, /default shop line/);
    r = await get('/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs', 'tr-token', 'customer-2');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /customer-2 shop line/);
    const tail = await tailOpen(
      server.url,
      pki.ca.cert,
      `/loki/api/v1/tail?${new URLSearchParams({ query: '{namespace="shop"}', start: String(t - 1_000_000_000n) })}`,
      { authorization: 'Bearer tr-token', 'X-Scope-OrgID': 'customer-2' },
    );
    assert.equal(tail.status, 101, tail.body);
    assert.match(tail.body, /customer-2 shop line/);
  });

  test('writing to another tenant needs create on tenants, on the push and the intake', async () => {
    const now = nsNow();
    // tenant-reader may create container logs and events, and only get tenants.
    let r = await pushAs(server.url, pki.ca.cert, 'tr-token', [stream('tr default', now)]);
    assert.equal(r.status, 204, r.body);
    r = await pushAs(server.url, pki.ca.cert, 'tr-token', [stream('tr customer-2', now)], {
      headers: { 'X-Scope-OrgID': 'customer-2' },
    });
    assert.equal(r.status, 403, r.body);
    assert.match(r.body, /cannot create resource "tenants"/);
    r = await pushAs(server.url, pki.ca.cert, 'tr-token', [stream('tr customer-2', now)], {
      path: '/api/logs/v1/application/loki/api/v1/push',
      headers: { 'X-Scope-OrgID': 'customer-2' },
    });
    assert.equal(r.status, 403, r.body);
    const event = JSON.stringify(coreEvent('e-1', 'shop', 'web-1', 'Pulled', 'Normal', 'pulled', now));
    const ingest = (tenant?: string) =>
      httpsCall(`${server.url}/ingest/events`, pki.ca.cert, {
        token: 'tr-token',
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(tenant ? { 'X-Scope-OrgID': tenant } : {}) },
        body: event,
      });
    r = await ingest('customer-2');
    assert.equal(r.status, 403, r.body);
    r = await ingest();
    assert.equal(r.status, 200, r.body);
    // tenant-writer may.
    r = await pushAs(server.url, pki.ca.cert, 'tw-token', [stream('tw customer-2', now)], {
      headers: { 'X-Scope-OrgID': 'customer-2' },
    });
    assert.equal(r.status, 204, r.body);
    r = await get(query('{namespace="shop"} |= "customer-2"'), 'tr-token', 'customer-2');
    assert.match(r.body, /tw customer-2/);
    assert.doesNotMatch(r.body, /tr customer-2/, 'the refused push stored nothing');
  });

  test('a malformed tenant is a 400, as before', async () => {
    const r = await get(query('{namespace="shop"}'), 'reader-token', 'a|b');
    assert.equal(r.status, 400, r.body);
    assert.match(r.body, /multi-tenant queries are not supported/);
    const tail = await tailOpen(
      server.url,
      pki.ca.cert,
      `/loki/api/v1/tail?query=${encodeURIComponent('{namespace="shop"}')}`,
      {
        authorization: 'Bearer reader-token',
        'X-Scope-OrgID': 'a|b',
      },
    );
    assert.equal(tail.status, 400, tail.body);
    assert.match(tail.body, /multi-tenant queries are not supported/);
  });
});

describe('--disable-tenant-header', () => {
  let pki: Pki;
  let server: ServerProcess;
  let dir: string;
  const t = nsNow() - 60_000_000_000n;

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-no-tenants-'));
    await writeFile(join(dir, 'tokens.csv'), 'user-token,user,1\n');
    const open = await startServerProcess();
    await pushJson(open.url, { streams: [stream('default shop line', t)] });
    await pushJson(
      open.url,
      { streams: [stream('customer-2 shop line', t)] },
      { 'X-Scope-OrgID': 'customer-2' },
    );
    await open.stop();
    server = await startTlsServer(pki, open.dataDir, [
      '--token-auth-file',
      join(dir, 'tokens.csv'),
      '--disable-tenant-header',
    ]);
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  test('every request is the default tenant, whatever X-Scope-OrgID says', async () => {
    assert.match(server.stderr(), /X-Scope-OrgID is ignored \(--disable-tenant-header\)/);
    const q = `/loki/api/v1/query_range?${new URLSearchParams({ query: '{namespace="shop"}', start: String(t - 1_000_000_000n) })}`;
    let r = await httpsCall(`${server.url}${q}`, pki.ca.cert, {
      token: 'user-token',
      headers: { 'X-Scope-OrgID': 'customer-2' },
    });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /default shop line/);
    assert.doesNotMatch(r.body, /customer-2 shop line/);
    r = await pushAs(server.url, pki.ca.cert, 'user-token', [stream('pushed as customer-3', nsNow())], {
      headers: { 'X-Scope-OrgID': 'customer-3' },
    });
    assert.equal(r.status, 204, r.body);
    r = await httpsCall(
      `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{namespace="shop"} |= "customer-3"', start: String(t) })}`,
      pki.ca.cert,
      { token: 'user-token' },
    );
    assert.match(r.body, /pushed as customer-3/, 'stored in the default tenant');
    // Even a malformed header is ignored.
    r = await httpsCall(`${server.url}${q}`, pki.ca.cert, {
      token: 'user-token',
      headers: { 'X-Scope-OrgID': 'a|b' },
    });
    assert.equal(r.status, 200, r.body);
  });
});

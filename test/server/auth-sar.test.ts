/**
 * SubjectAccessReview end to end: the real server over TLS asks a recorded-protocol peer playing
 * kube-apiserver, which answers from a small RBAC table as RBAC does (`*` matches every verb, group
 * and resource; a ClusterRoleBinding every namespace; `resourceNames` one object). A cluster-admin
 * (`*` on everything) reads audit events with kubectl and pushes them; a user with a role on one
 * tenant's name uses that tenant and no other.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SarSpec } from '../../src/auth/sar.js';
import { makePki, type Pki } from '../auth/pki.js';
import { httpsCall, pushAs, type Reply, startTlsServer, writeKubeconfig } from '../helpers/auth-e2e.js';
import { type RbacTable, rbacDecide } from '../helpers/rbac.js';
import { removeDir, type ServerProcess } from '../helpers/server-process.js';
import { auditEvent, kubectl, nsNow } from '../kube/helpers.js';

const RULES: RbacTable = {
  // cluster-admin: * on everything, and every path.
  'user:root': [
    { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
    { verbs: ['*'], nonResourceURLs: ['*'] },
  ],
  'user:alice': [
    {
      verbs: ['get', 'list', 'watch'],
      apiGroups: ['core.kjournal'],
      resources: ['containerlogs'],
      namespace: 'shop',
    },
    { verbs: ['get'], apiGroups: ['core.kjournal'], resources: ['tenants'], resourceNames: ['customer-2'] },
  ],
  // system:discovery and system:public-info-viewer.
  'group:system:authenticated': [
    {
      verbs: ['get'],
      nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version'],
    },
  ],
};

const decide = (spec: SarSpec): boolean => rbacDecide(RULES, spec);

describe('SubjectAccessReview: RBAC wildcards and tenant names, end to end', () => {
  let pki: Pki;
  let api: Server;
  const reviews: SarSpec[] = [];
  let server: ServerProcess;
  let dir: string;
  let home: string;
  const t = nsNow() - 30_000_000_000n;

  const get = (path: string, token: string, tenant?: string): Promise<Reply> =>
    httpsCall(`${server.url}${path}`, pki.ca.cert, {
      token,
      ...(tenant ? { headers: { 'X-Scope-OrgID': tenant } } : {}),
    });
  const kubeconfigFor = (token: string): Promise<string> =>
    writeKubeconfig(join(dir, `kubeconfig-${token}`), server.url, pki.ca.certFile, `{token: "${token}"}`);

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-sar-e2e-'));
    home = join(dir, 'home');
    api = createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        raw += c;
      });
      req.on('end', () => {
        const body = JSON.parse(raw) as { spec: SarSpec };
        reviews.push(body.spec);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...body, status: { allowed: decide(body.spec) } }));
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const port = (api.address() as AddressInfo).port;
    await writeFile(join(dir, 'tokens.csv'), 'root-token,root,1\nalice-token,alice,2\n');
    await writeKubeconfig(
      join(dir, 'authz.kubeconfig'),
      `https://127.0.0.1:${port}`,
      pki.ca.certFile,
      '{token: "sar"}',
    );
    server = await startTlsServer(pki, undefined, [
      '--token-auth-file',
      join(dir, 'tokens.csv'),
      '--authorization-kubeconfig',
      join(dir, 'authz.kubeconfig'),
    ]);
    const streams = (line: string) => [
      {
        stream: { kind: 'containerlog', namespace: 'shop', pod: 'web-1', container: 'app' },
        values: [[String(t), line]],
      },
    ];
    // The cluster-admin pushes audit events, and into another tenant.
    let r = await pushAs(server.url, pki.ca.cert, 'root-token', [
      ...streams('default line'),
      {
        stream: { kind: 'auditevent' },
        values: [[String(t + 1n), JSON.stringify(auditEvent('s-1', 'get', 'x', 'pods', 200, t + 1n))]],
      },
    ]);
    assert.equal(r.status, 204, r.body);
    for (const tenant of ['customer-2', 'customer-3']) {
      r = await pushAs(server.url, pki.ca.cert, 'root-token', streams(`${tenant} line`), {
        headers: { 'X-Scope-OrgID': tenant },
      });
      assert.equal(r.status, 204, r.body);
    }
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await new Promise<void>((resolve) => (api ? api.close(() => resolve()) : resolve()));
    await rm(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  test('a * RBAC rule reads audit events with kubectl', async () => {
    const root = await kubeconfigFor('root-token');
    let k = await kubectl(root, ['get', 'auditevents', '-o', 'jsonpath={.items[*].auditID}'], home);
    assert.equal(k.code, 0, k.stderr);
    assert.equal(k.stdout, 's-1');
    const alice = await kubeconfigFor('alice-token');
    k = await kubectl(alice, ['get', 'auditevents'], home);
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /Forbidden.*User "alice" cannot list resource "auditevents"/);
    k = await kubectl(alice, ['get', 'containerlogs', '-n', 'shop', '-o', 'custom-columns=POD:.pod'], home);
    assert.equal(k.code, 0, k.stderr);
  });

  test('a tenant is asked for by name: a role on customer-2 opens it and no other', async () => {
    const path = '/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs';
    let r = await get(path, 'alice-token', 'customer-2');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /customer-2 line/);
    assert.doesNotMatch(r.body, /default line|customer-3 line/);
    assert.ok(
      reviews.some(
        (s) =>
          s.user === 'alice' &&
          s.resourceAttributes?.resource === 'tenants' &&
          s.resourceAttributes.group === 'core.kjournal' &&
          s.resourceAttributes.name === 'customer-2' &&
          s.resourceAttributes.verb === 'get' &&
          s.resourceAttributes.namespace === undefined,
      ),
      JSON.stringify(reviews),
    );
    r = await get(path, 'alice-token', 'customer-3');
    assert.equal(r.status, 403, r.body);
    assert.doesNotMatch(r.body, /customer-3 line/);
    r = await get(path, 'alice-token');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /default line/);
  });
});

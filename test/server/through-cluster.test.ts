/**
 * kjournal through the cluster, end to end: the real server over TLS behind a stand-in for
 * kube-apiserver (a recorded-protocol peer: kube-apiserver cannot run here). The stand-in does what
 * API aggregation does with a request under `/apis/core.kjournal/v1alpha1/`: it authenticates the
 * caller's token, authorizes the request as its RequestInfo reads the path (RBAC), and forwards it
 * with the front-proxy client certificate and the caller's identity in `X-Remote-User`/`-Group`;
 * kjournal authorizes again, with SubjectAccessReviews the stand-in answers from the same RBAC
 * table. A user bound to `kjournal:reader` in one namespace then uses `kjournal query` with a
 * kubeconfig and a Grafana-like client on the namespaced path, and sees that namespace only.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SarSpec } from '../../src/auth/sar.js';
import { makePki, type Pki } from '../auth/pki.js';
import { runCli } from '../cli/fake-loki.js';
import { httpsCall, startTlsServer, writeKubeconfig } from '../helpers/auth-e2e.js';
import { type RbacTable, rbacDecide } from '../helpers/rbac.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { nsNow } from '../kube/helpers.js';

const READER = ['containerlogs', 'events'];
const RBAC: RbacTable = {
  // kjournal:reader bound in shop (deploy/base/rbac-users.yaml): the records and loki/v1.
  'user:alice': [
    { verbs: ['get', 'list', 'watch'], apiGroups: ['core.kjournal'], resources: READER, namespace: 'shop' },
    { verbs: ['get'], apiGroups: ['core.kjournal'], resources: ['loki/v1'], namespace: 'shop' },
  ],
  'user:root': [
    { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
    { verbs: ['*'], nonResourceURLs: ['*'] },
  ],
  'group:system:authenticated': [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*'] }],
};
const USERS: Record<string, string> = { 'alice-token': 'alice', 'root-token': 'root' };

/** kube-apiserver's RequestInfo for a path under /apis/<group>/<version>/ (verb from the method). */
function requestInfo(method: string, path: string, watch: boolean) {
  let rest = path.split('/').filter(Boolean).slice(3);
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 2) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const [resource = '', name, subresource] = rest;
  const verb = method === 'POST' ? 'create' : name !== undefined ? 'get' : watch ? 'watch' : 'list';
  return { resource, subresource, namespace, verb, name };
}

describe('through the cluster: API aggregation with RBAC', () => {
  let pki: Pki;
  let api: Server;
  let server: ServerProcess;
  let dir: string;
  let apiUrl: string;
  const reviews: SarSpec[] = [];
  const t = nsNow() - 30_000_000_000n;

  const kubeconfigFor = (token: string) =>
    writeKubeconfig(join(dir, `kubeconfig-${token}`), apiUrl, pki.ca.certFile, `{token: "${token}"}`);

  function forward(req: IncomingMessage, res: ServerResponse, user: string): void {
    const target = new URL(server.url);
    const headers = { ...req.headers, 'x-remote-user': user, 'x-remote-group': 'system:authenticated' };
    delete headers.authorization;
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        ca: pki.ca.cert,
        cert: pki.frontProxy.cert,
        key: pki.frontProxy.key,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(out);
  }

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-through-'));
    api = createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://api');
      if (url.pathname === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
        let raw = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          raw += c;
        });
        req.on('end', () => {
          const body = JSON.parse(raw) as { spec: SarSpec };
          reviews.push(body.spec);
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ...body, status: { allowed: rbacDecide(RBAC, body.spec) } }));
        });
        return;
      }
      const user = USERS[(req.headers.authorization ?? '').replace(/^Bearer /, '')];
      const status = (code: number, reason: string, message: string) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }),
        );
        req.resume();
      };
      if (!user) return status(401, 'Unauthorized', 'Unauthorized');
      if (!url.pathname.startsWith('/apis/core.kjournal/v1alpha1/')) {
        return status(404, 'NotFound', 'the server could not find the requested resource');
      }
      const info = requestInfo(req.method ?? 'GET', url.pathname, url.searchParams.get('watch') === 'true');
      const allowed = rbacDecide(RBAC, {
        user,
        groups: ['system:authenticated'],
        resourceAttributes: {
          verb: info.verb,
          group: 'core.kjournal',
          resource: info.resource,
          ...(info.subresource ? { subresource: info.subresource } : {}),
          namespace: info.namespace,
        },
      } as SarSpec);
      if (!allowed) {
        const where = info.namespace ? `in the namespace "${info.namespace}"` : 'at the cluster scope';
        const what = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
        return status(
          403,
          'Forbidden',
          `${info.resource}.core.kjournal "${info.name ?? ''}" is forbidden: User "${user}" cannot ${info.verb} resource "${what}" in API group "core.kjournal" ${where}`,
        );
      }
      forward(req, res, user);
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `https://127.0.0.1:${(api.address() as AddressInfo).port}`;
    await writeKubeconfig(join(dir, 'authz.kubeconfig'), apiUrl, pki.ca.certFile, '{token: "sar"}');

    const open = await startServerProcess();
    const r = await pushJson(open.url, {
      streams: [
        { stream: { namespace: 'shop', pod: 'web-1', container: 'app' }, values: [[String(t), 'shop line']] },
        {
          stream: { namespace: 'bank', pod: 'core-1', container: 'app' },
          values: [[String(t + 1n), 'bank line']],
        },
      ],
    });
    assert.equal(r.status, 204, r.text);
    await open.stop();
    server = await startTlsServer(pki, open.dataDir, [
      '--requestheader-client-ca-file',
      pki.requestHeaderCa.certFile,
      '--requestheader-allowed-names',
      'front-proxy-client',
      '--authorization-kubeconfig',
      join(dir, 'authz.kubeconfig'),
    ]);
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await new Promise<void>((resolve) => (api ? api.close(() => resolve()) : resolve()));
    await rm(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  const since = ['--since', '10m', '-z', 'UTC'];

  test('kjournal query with a kubeconfig: a namespace user reads their namespace through its path', async () => {
    const alice = await kubeconfigFor('alice-token');
    const ok = await runCli([
      'query',
      '{namespace="shop"}',
      '--kubeconfig',
      alice,
      '-o',
      'raw',
      '-v',
      ...since,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'shop line\n');
    assert.match(
      ok.stderr,
      /reads of namespace shop go through https:\/\/127\.0\.0\.1:\d+\/apis\/core\.kjournal\/v1alpha1\/namespaces\/shop\/loki\/api\/v1/,
    );
    const refused = await runCli(['query', '{namespace="bank"}', '--kubeconfig', alice, '-q', ...since]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /403.*User "alice" cannot get resource "loki\/v1" in API group "core.kjournal" in the namespace "bank"/,
    );
    const labels = await runCli(['labels', 'pod', '-n', 'shop', '--kubeconfig', alice, '-q', ...since]);
    assert.equal(labels.code, 0, labels.stderr);
    assert.equal(labels.stdout, 'web-1\n');
    // With cluster-wide rights, a query that names no namespace takes the cluster path.
    const root = await kubeconfigFor('root-token');
    const all = await runCli([
      'query',
      '{pod=~".+"}',
      '--kubeconfig',
      root,
      '-o',
      'raw',
      '--forward',
      ...since,
    ]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, 'shop line\nbank line\n');
  });

  test('a Grafana Loki data source on the namespaced path, with a token', async () => {
    const base = `${apiUrl}/apis/core.kjournal/v1alpha1/namespaces/shop`;
    const get = (path: string) => httpsCall(`${base}${path}`, pki.ca.cert, { token: 'alice-token' });
    const q = await get(
      `/loki/api/v1/query_range?${new URLSearchParams({ query: '{pod=~".+"}', start: String(t - 60_000_000_000n) })}`,
    );
    assert.equal(q.status, 200, q.body);
    assert.match(q.body, /shop line/);
    assert.doesNotMatch(q.body, /bank line/);
    const labels = await get('/loki/api/v1/labels');
    assert.equal(labels.status, 200, labels.body);
    // Grafana's health check, `vector(1)+vector(1)`, reads nothing: on the namespaced path it is allowed.
    const health = await get(`/loki/api/v1/query?${new URLSearchParams({ query: 'vector(1)+vector(1)' })}`);
    assert.equal(health.status, 200, health.body);
    const other = await httpsCall(
      `${apiUrl}/apis/core.kjournal/v1alpha1/namespaces/bank/loki/api/v1/labels`,
      pki.ca.cert,
      { token: 'alice-token' },
    );
    assert.equal(other.status, 403, other.body);
    assert.ok(reviews.some((r) => r.user === 'alice' && r.resourceAttributes?.namespace === 'shop'));
  });
});

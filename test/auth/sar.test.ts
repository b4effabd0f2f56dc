import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuthorizationError, authConfigFromFlags, createAuth } from '../../src/auth/index.js';
import { loadSarConnection, SAR_PATH, SarAuthorizer, type SarSpec } from '../../src/auth/sar.js';
import { nonResourceAttributes, resourceAttributes, type UserInfo } from '../../src/auth/types.js';
import { makePki, type Pki } from './pki.js';

interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: { apiVersion: string; kind: string; spec: SarSpec };
}

/**
 * A recorded-protocol peer playing the cluster's API server: it answers SubjectAccessReviews the way
 * kube-apiserver does (the review echoed back with a status) from a small rule table, records every
 * request, and can be told to fail.
 */
class FakeClusterApi {
  readonly requests: Recorded[] = [];
  failNext = 0;
  server!: Server;
  port = 0;

  constructor(readonly pki: Pki) {}

  decide(spec: SarSpec): { allowed: boolean; denied?: boolean; reason?: string } {
    const ra = spec.resourceAttributes;
    if (spec.user === 'cluster-admin') return { allowed: true, reason: 'RBAC: wildcard' }; // * on *
    if (spec.user === 'auditor' && ra?.resource === 'auditevents') return { allowed: true };
    if (spec.user === 'dana' && ra?.namespace === 'shop' && ra.verb === 'list') return { allowed: true };
    if (spec.user === 'banned') return { allowed: false, denied: true, reason: 'banned' };
    return { allowed: false };
  }

  async start(): Promise<void> {
    this.server = createServer({ cert: this.pki.server.cert, key: this.pki.server.key }, (req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        raw += c;
      });
      req.on('end', () => {
        const body = JSON.parse(raw) as Recorded['body'];
        this.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          body,
        });
        if (this.failNext > 0) {
          this.failNext--;
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"kind":"Status","status":"Failure","message":"etcd down"}');
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...body, status: this.decide(body.spec) }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let pki: Pki;
let api: FakeClusterApi;
let kubeconfig: string;
before(async () => {
  pki = makePki();
  api = new FakeClusterApi(pki);
  await api.start();
  kubeconfig = join(pki.dir, 'authz.kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
current-context: c
clusters:
  - name: k
    cluster:
      server: https://127.0.0.1:${api.port}
      certificate-authority-data: ${Buffer.from(pki.ca.cert).toString('base64')}
users:
  - name: kjournal
    user:
      token: sar-token
contexts:
  - name: c
    context: { cluster: k, user: kjournal }
`,
  );
});
after(async () => {
  await api.close();
  pki.cleanup();
});

const dana: UserInfo = {
  name: 'dana',
  uid: 'u-7',
  groups: ['devs', 'system:authenticated'],
  extra: { scopes: ['a', 'b'] },
};

function authorizer(clock: { now: number }) {
  const cfg = { kubeconfig, allowTtlMs: 300_000, denyTtlMs: 30_000, timeoutMs: 5_000 };
  return new SarAuthorizer(loadSarConnection(cfg), cfg, () => clock.now);
}

describe('SubjectAccessReview delegation', () => {
  it('posts authorization.k8s.io/v1 SubjectAccessReviews with the user and attributes', async () => {
    api.requests.length = 0;
    const sar = authorizer({ now: 0 });
    const d = await sar.authorize(
      resourceAttributes(dana, 'list', 'containerlogs', { namespace: 'shop', apiVersion: 'v1alpha1' }),
    );
    assert.equal(d, 'allow');
    assert.equal(api.requests.length, 1);
    const r = api.requests[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.path, SAR_PATH);
    assert.equal(r.authorization, 'Bearer sar-token');
    assert.equal(r.contentType, 'application/json');
    assert.deepEqual(r.body, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        resourceAttributes: {
          namespace: 'shop',
          verb: 'list',
          group: 'core.kjournal',
          version: 'v1alpha1',
          resource: 'containerlogs',
        },
        user: 'dana',
        groups: ['devs', 'system:authenticated'],
        extra: { scopes: ['a', 'b'] },
        uid: 'u-7',
      },
    });
    assert.equal(await sar.authorize(nonResourceAttributes(dana, 'GET', '/metrics')), 'no-opinion');
    assert.deepEqual(api.requests[1]!.body.spec.nonResourceAttributes, { path: '/metrics', verb: 'get' });
    assert.equal(await sar.authorize(resourceAttributes({ ...dana, name: 'banned' }, 'get', 'logs')), 'deny');
  });

  it('caches allowed answers for 5 minutes and denied ones for 30 seconds', async () => {
    api.requests.length = 0;
    const clock = { now: 1_000_000 };
    const sar = authorizer(clock);
    const allowed = resourceAttributes(dana, 'list', 'containerlogs', { namespace: 'shop' });
    const denied = resourceAttributes(dana, 'list', 'containerlogs', { namespace: 'bank' });
    assert.equal(await sar.authorize(allowed), 'allow');
    assert.equal(await sar.authorize(denied), 'no-opinion');
    assert.equal(api.requests.length, 2);
    clock.now += 29_000;
    assert.equal(await sar.authorize(allowed), 'allow');
    assert.equal(await sar.authorize(denied), 'no-opinion');
    assert.equal(api.requests.length, 2, 'both answered from the cache');
    clock.now += 2_000; // 31 s: the denial expired, the allowance did not
    assert.equal(await sar.authorize(denied), 'no-opinion');
    assert.equal(await sar.authorize(allowed), 'allow');
    assert.equal(api.requests.length, 3);
    assert.equal(api.requests[2]!.body.spec.resourceAttributes?.namespace, 'bank');
    clock.now += 300_000;
    assert.equal(await sar.authorize(allowed), 'allow');
    assert.equal(api.requests.length, 4, 'the allowance expired after 5 minutes');
    // Another user is another review.
    assert.equal(await sar.authorize({ ...allowed, user: { ...dana, groups: ['other'] } }), 'allow');
    assert.equal(api.requests.length, 5);
    // Concurrent identical reviews share one request.
    const fresh = resourceAttributes(dana, 'list', 'events', { namespace: 'shop' });
    await Promise.all([sar.authorize(fresh), sar.authorize(fresh), sar.authorize(fresh)]);
    assert.equal(api.requests.length, 6);
  });

  it('does not cache failures, and reports them as AuthorizationError', async () => {
    api.requests.length = 0;
    const sar = authorizer({ now: 0 });
    const attrs = resourceAttributes(dana, 'list', 'logs', { namespace: 'shop' });
    api.failNext = 1;
    await assert.rejects(
      sar.authorize(attrs),
      (e: Error) => e instanceof AuthorizationError && /HTTP 500/.test(e.message),
    );
    assert.equal(await sar.authorize(attrs), 'allow');
    assert.equal(api.requests.length, 2);
  });

  it("takes the cluster's answer as final: a * rule grants audit events, in one review", async () => {
    api.requests.length = 0;
    const sar = authorizer({ now: 0 });
    const audit = (name: string) => resourceAttributes({ ...dana, name }, 'list', 'auditevents');
    assert.equal(await sar.authorize(audit('cluster-admin')), 'allow', 'a * rule opens audit events');
    assert.equal(api.requests.length, 1, 'no second review');
    assert.equal(await sar.authorize(audit('auditor')), 'allow');
    assert.equal(await sar.authorize(audit('dana')), 'no-opinion');
    assert.equal(api.requests.length, 3);
  });

  it('allows system:masters without asking, as kube-apiserver, and asks for everyone else', async () => {
    api.requests.length = 0;
    const auth = createAuth(authConfigFromFlags({ authorizationKubeconfig: kubeconfig }));
    const master = { ...dana, name: 'root', groups: ['system:masters', 'system:authenticated'] };
    assert.equal(await auth.authorize(resourceAttributes(master, 'list', 'auditevents')), 'allow');
    assert.equal(await auth.authorize(nonResourceAttributes(master, 'GET', '/metrics')), 'allow');
    assert.equal(api.requests.length, 0);
    assert.equal(await auth.authorize(resourceAttributes(dana, 'list', 'auditevents')), 'no-opinion');
    assert.equal(api.requests.length, 1);
  });

  it('re-reads a rotated tokenFile after a minute, like client-go', async () => {
    writeFileSync(join(pki.dir, 'sa-token'), 'token-one\n');
    const tokenKubeconfig = join(pki.dir, 'sa.kubeconfig');
    writeFileSync(
      tokenKubeconfig,
      `apiVersion: v1
clusters: [{ name: k, cluster: { server: "https://127.0.0.1:${api.port}", certificate-authority: ca.crt } }]
users: [{ name: sa, user: { tokenFile: sa-token } }]
contexts: [{ name: c, context: { cluster: k, user: sa } }]
current-context: c
`,
    );
    const clock = { now: 0 };
    const cfg = { kubeconfig: tokenKubeconfig, allowTtlMs: 0, denyTtlMs: 0, timeoutMs: 5_000 };
    const sar = new SarAuthorizer(loadSarConnection(cfg), cfg, () => clock.now);
    api.requests.length = 0;
    const attrs = resourceAttributes(dana, 'list', 'logs', { namespace: 'shop' });
    await sar.authorize(attrs);
    writeFileSync(join(pki.dir, 'sa-token'), 'token-two\n');
    clock.now += 30_000;
    await sar.authorize(attrs);
    clock.now += 31_000;
    await sar.authorize(attrs);
    assert.deepEqual(
      api.requests.map((r) => r.authorization),
      ['Bearer token-one', 'Bearer token-one', 'Bearer token-two'],
    );
  });

  it('works through createAuth after ABAC, and refuses an unreachable kubeconfig at start', async () => {
    const policy = join(pki.dir, 'policy.jsonl');
    writeFileSync(
      policy,
      `${JSON.stringify({ apiVersion: 'abac.authorization.kubernetes.io/v1beta1', kind: 'Policy', spec: { user: 'eve', namespace: 'bank', resource: 'logs', apiGroup: '*' } })}\n`,
    );
    const auth = createAuth(
      authConfigFromFlags({ authorizationPolicyFile: policy, authorizationKubeconfig: kubeconfig }),
    );
    api.requests.length = 0;
    assert.equal(
      await auth.authorize(
        resourceAttributes({ ...dana, name: 'eve' }, 'get', 'logs', { namespace: 'bank' }),
      ),
      'allow',
    );
    assert.equal(api.requests.length, 0, 'ABAC answered');
    assert.equal(
      await auth.authorize(resourceAttributes(dana, 'list', 'logs', { namespace: 'shop' })),
      'allow',
    );
    assert.equal(api.requests.length, 1, 'the cluster answered');
    assert.match(auth.describe(), /ABAC .*policy\.jsonl \(1 policies\), then SubjectAccessReview/);
    assert.throws(
      () => createAuth(authConfigFromFlags({ authorizationKubeconfig: join(pki.dir, 'nope.kubeconfig') })),
      /--authorization-kubeconfig: cannot read kubeconfig .*nope\.kubeconfig: no such file/,
    );
    assert.throws(
      () =>
        authConfigFromFlags({
          authorizationKubeconfig: kubeconfig,
          authorizationWebhookCacheAuthorizedTtl: 'soon',
        }),
      /--authorization-webhook-cache-authorized-ttl must be a duration/,
    );
  });
});

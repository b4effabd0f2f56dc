/**
 * Delegated authentication: bearer tokens the token file does not know are checked by the cluster
 * with a TokenReview, as kube's delegating authenticator does. The cluster is a recorded-protocol
 * stand-in for kube-apiserver (test/helpers/fake-apiserver.ts; the real one cannot run here)
 * answering TokenReviews for ServiceAccount tokens as kube-apiserver does.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadClusterConnection } from '../../src/auth/cluster-connection.js';
import {
  AuthConfigError,
  AuthenticationError,
  authConfigFromFlags,
  createAuth,
} from '../../src/auth/index.js';
import { TokenReviewer } from '../../src/auth/token-review.js';
import { writeKubeconfig } from '../helpers/auth-e2e.js';
import { type FakeApiServer, startFakeApiServer, TOKEN_REVIEWS } from '../helpers/fake-apiserver.js';
import { makePki, type Pki } from './pki.js';

const PROMETHEUS = {
  username: 'system:serviceaccount:monitoring:prometheus-k8s',
  uid: '5d1f-prom',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:monitoring', 'system:authenticated'],
  extra: { 'authentication.kubernetes.io/pod-name': ['prometheus-k8s-0'] },
};

let pki: Pki;
let api: FakeApiServer;
let kubeconfig: string;
before(async () => {
  pki = makePki();
  api = await startFakeApiServer(pki, {
    'sa-prometheus': PROMETHEUS,
    'sa-other': { username: 'system:serviceaccount:shop:web', groups: ['system:serviceaccounts'] },
    'sa-expired': { error: 'service account token has expired' },
  });
  kubeconfig = await writeKubeconfig(
    join(pki.dir, 'authn.kubeconfig'),
    api.url,
    pki.ca.certFile,
    '{token: "kjournal-sa"}',
  );
});
after(async () => {
  await api.close();
  pki.cleanup();
});

function request(headers: Record<string, string>): IncomingMessage {
  return { headers: { ...headers }, socket: {}, url: '/metrics' } as unknown as IncomingMessage;
}
const bearer = (token: string) => request({ authorization: `Bearer ${token}` });

function authWith(flags: Record<string, string>) {
  return createAuth(
    authConfigFromFlags({
      authenticationKubeconfig: kubeconfig,
      authorizationKubeconfig: kubeconfig,
      ...flags,
    }),
  );
}

describe('TokenReview: delegated authentication', () => {
  it('posts authentication.k8s.io/v1 TokenReviews with the token and the kubeconfig credentials, and takes the user it answers', async () => {
    api.requests.length = 0;
    const auth = authWith({});
    const req = bearer('sa-prometheus');
    const user = await auth.authenticate(req);
    assert.deepEqual(user, {
      name: PROMETHEUS.username,
      uid: PROMETHEUS.uid,
      groups: PROMETHEUS.groups,
      extra: PROMETHEUS.extra,
    });
    assert.equal(req.headers.authorization, undefined, 'the token is spent: nothing downstream reads it');
    assert.equal(api.requests.length, 1);
    const r = api.requests[0]!;
    assert.equal(r.path, TOKEN_REVIEWS);
    assert.equal(
      r.authorization,
      'Bearer kjournal-sa',
      "the kubeconfig's credentials, not the token under review",
    );
    assert.equal(r.contentType, 'application/json');
    assert.deepEqual(r.body, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: 'sa-prometheus' },
    });
    // A user without system:authenticated gets it, as from every authenticator.
    assert.deepEqual((await auth.authenticate(bearer('sa-other'))).groups, [
      'system:serviceaccounts',
      'system:authenticated',
    ]);
    assert.match(auth.describe(), /authentication: TokenReview via .*authn\.kubeconfig/);
  });

  it('refuses a token the cluster does not know (401, invalid bearer token), and one it answers with an error', async () => {
    const auth = authWith({});
    await assert.rejects(
      auth.authenticate(bearer('forged')),
      (e: Error) => e instanceof AuthenticationError && e.message === 'invalid bearer token',
    );
    await assert.rejects(
      auth.authenticate(bearer('sa-expired')),
      (e: Error) => e instanceof AuthenticationError && /service account token has expired/.test(e.message),
    );
    // No credentials at all: no review, 401 as before.
    const before = api.requests.length;
    await assert.rejects(auth.authenticate(request({})), AuthenticationError);
    assert.equal(api.requests.length, before);
  });

  it('caches yes and no for --authentication-token-webhook-cache-ttl, not errors; concurrent reviews share one request', async () => {
    const clock = { now: 1_000_000 };
    const cfg = authConfigFromFlags({
      authenticationKubeconfig: kubeconfig,
      authorizationKubeconfig: kubeconfig,
    }).tokenReview!;
    assert.equal(cfg.cacheTtlMs, 10_000, "kube's default, 10s");
    const reviewer = new TokenReviewer(loadClusterConnection(kubeconfig, undefined, 'test'), cfg, {
      now: () => clock.now,
    });
    assert.equal((await reviewer.authenticate('sa-prometheus'))?.name, PROMETHEUS.username);
    assert.equal(await reviewer.authenticate('forged'), undefined);
    assert.equal(reviewer.requests, 2);
    clock.now += 9_000;
    assert.equal((await reviewer.authenticate('sa-prometheus'))?.name, PROMETHEUS.username);
    assert.equal(await reviewer.authenticate('forged'), undefined);
    assert.equal(reviewer.requests, 2, 'both answered from the cache within the TTL');
    clock.now += 2_000;
    await reviewer.authenticate('sa-prometheus');
    await reviewer.authenticate('forged');
    assert.equal(reviewer.requests, 4, 'asked again after the TTL');
    // An answer with status.error is not kept (kube: cacheErrs false).
    await assert.rejects(reviewer.authenticate('sa-expired'), AuthenticationError);
    await assert.rejects(reviewer.authenticate('sa-expired'), AuthenticationError);
    assert.equal(reviewer.requests, 6);
    // Three requests with one new token at once: one review.
    await Promise.all([1, 2, 3].map(() => reviewer.authenticate('sa-other')));
    assert.equal(reviewer.requests, 7);
  });

  it('keeps the cache bounded, least recently used out first', async () => {
    const cfg = { kubeconfig, cacheTtlMs: 60_000, timeoutMs: 5_000 };
    const reviewer = new TokenReviewer(loadClusterConnection(kubeconfig, undefined, 'test'), cfg, {
      maxEntries: 3,
    });
    await reviewer.authenticate('sa-prometheus');
    for (let i = 0; i < 10; i++) {
      await reviewer.authenticate(`forged-${i}`);
      await reviewer.authenticate('sa-prometheus'); // used again: stays
      assert.ok(reviewer.cacheSize <= 3, `at most 3 entries, got ${reviewer.cacheSize}`);
    }
    assert.equal(reviewer.requests, 11, 'sa-prometheus was answered from the cache every time');
  });

  it('comes after the token file: a token the file knows never leaves the server', async () => {
    const tokens = join(pki.dir, 'tokens.csv');
    writeFileSync(tokens, 'agent-token,kjournal-agent,1\n');
    const auth = authWith({ tokenAuthFile: tokens });
    api.requests.length = 0;
    assert.equal((await auth.authenticate(bearer('agent-token'))).name, 'kjournal-agent');
    assert.equal(api.requests.length, 0);
    assert.equal((await auth.authenticate(bearer('sa-prometheus'))).name, PROMETHEUS.username);
    assert.equal(api.requests.length, 1);
    await assert.rejects(auth.authenticate(bearer('forged')), AuthenticationError);
    assert.match(auth.describe(), /authentication: token \(1 user: kjournal-agent\), TokenReview via /);
  });

  it('takes the WebSocket subprotocol token, and removes it only once the cluster accepted it', async () => {
    const auth = authWith({});
    const PREFIX = 'base64url.bearer.authorization.k8s.io.';
    const ws = (token: string) =>
      request({
        upgrade: 'websocket',
        'sec-websocket-protocol': `kjournal.tail, ${PREFIX}${Buffer.from(token).toString('base64url')}`,
      });
    const ok = ws('sa-prometheus');
    assert.equal((await auth.authenticate(ok)).name, PROMETHEUS.username);
    assert.equal(ok.headers['sec-websocket-protocol'], 'kjournal.tail');
    // Behind a token file that does not know it, the protocol is still there for TokenReview.
    const tokens = join(pki.dir, 'ws-tokens.csv');
    writeFileSync(tokens, 'agent-token,kjournal-agent,1\n');
    const chained = ws('sa-prometheus');
    assert.equal((await authWith({ tokenAuthFile: tokens }).authenticate(chained)).name, PROMETHEUS.username);
    assert.equal(chained.headers['sec-websocket-protocol'], 'kjournal.tail');
    const bad = ws('forged');
    await assert.rejects(auth.authenticate(bad), AuthenticationError);
    assert.match(String(bad.headers['sec-websocket-protocol']), /bearer\.authorization/);
  });

  it('answers 401 when the cluster cannot be asked: 500s retried as kube retries them, other failures at once, nothing cached', async () => {
    const cfg = { kubeconfig, cacheTtlMs: 60_000, timeoutMs: 5_000 };
    const reviewer = new TokenReviewer(loadClusterConnection(kubeconfig, undefined, 'test'), cfg, {
      initialBackoffMs: 1,
    });
    api.failNext(10, 500);
    await assert.rejects(
      reviewer.authenticate('sa-prometheus'),
      (e: Error) =>
        e instanceof AuthenticationError &&
        /TokenReview to https:\/\/127\.0\.0\.1:\d+ failed: HTTP 500/.test(e.message),
    );
    assert.equal(reviewer.requests, 5, "kube's five tries");
    api.failNext(2, 500);
    assert.equal(
      (await reviewer.authenticate('sa-prometheus'))?.name,
      PROMETHEUS.username,
      'a third try succeeds',
    );
    assert.equal(reviewer.requests, 8);
    api.failNext(1, 403);
    await assert.rejects(reviewer.authenticate('sa-other'), /failed: HTTP 403/);
    assert.equal(reviewer.requests, 9, 'a 403 (no RBAC for tokenreviews) is not retried');
    assert.equal(
      (await reviewer.authenticate('sa-other'))?.name,
      'system:serviceaccount:shop:web',
      'nor cached',
    );
  });

  it('refuses TokenReview without an authorizer: every ServiceAccount of the cluster would be allowed everything', () => {
    assert.throws(
      () => authConfigFromFlags({ authenticationKubeconfig: kubeconfig }),
      (e: Error) =>
        e instanceof AuthConfigError &&
        e.kind === 'usage' &&
        /--authentication-kubeconfig needs --authorization-kubeconfig or --authorization-policy-file/.test(
          e.message,
        ),
    );
    const policy = join(pki.dir, 'policy.jsonl');
    writeFileSync(policy, '');
    assert.ok(
      authConfigFromFlags({ authenticationKubeconfig: kubeconfig, authorizationPolicyFile: policy })
        .tokenReview,
    );
  });

  it('refuses a kubeconfig it cannot read and a TTL that is no duration, naming the flag', () => {
    assert.throws(
      () =>
        createAuth(
          authConfigFromFlags({
            authenticationKubeconfig: join(pki.dir, 'nope.kubeconfig'),
            authorizationKubeconfig: kubeconfig,
          }),
        ),
      (e: Error) =>
        e instanceof AuthConfigError && /^--authentication-kubeconfig: .*nope\.kubeconfig/.test(e.message),
    );
    assert.throws(
      () =>
        authConfigFromFlags({
          authenticationKubeconfig: kubeconfig,
          authorizationKubeconfig: kubeconfig,
          authenticationTokenWebhookCacheTtl: 'soon',
        }),
      /--authentication-token-webhook-cache-ttl must be a duration/,
    );
    assert.equal(
      authConfigFromFlags({
        authenticationKubeconfig: kubeconfig,
        authorizationKubeconfig: kubeconfig,
        authenticationTokenWebhookCacheTtl: '1m',
      }).tokenReview?.cacheTtlMs,
      60_000,
    );
  });
});

describe('TokenReview: the API server down', () => {
  it('answers 401 at once when it refuses connections, and keeps what it cached', async () => {
    const down = await startFakeApiServer(pki, { 'sa-prometheus': PROMETHEUS });
    const config = await writeKubeconfig(
      join(pki.dir, 'down.kubeconfig'),
      down.url,
      pki.ca.certFile,
      '{token: "x"}',
    );
    const auth = createAuth(
      authConfigFromFlags({ authenticationKubeconfig: config, authorizationKubeconfig: config }),
    );
    assert.equal((await auth.authenticate(bearer('sa-prometheus'))).name, PROMETHEUS.username);
    await down.close();
    const started = Date.now();
    await assert.rejects(
      auth.authenticate(bearer('sa-other')),
      (e: Error) =>
        e instanceof AuthenticationError && /TokenReview to .* failed: .*unreachable/.test(e.message),
    );
    assert.ok(Date.now() - started < 2_000, 'a refused connection is not retried');
    assert.equal(
      (await auth.authenticate(bearer('sa-prometheus'))).name,
      PROMETHEUS.username,
      'from the cache',
    );
  });
});

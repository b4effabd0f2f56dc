/**
 * Prometheus scrapes /metrics with its own ServiceAccount token, end to end: the real `kjournal
 * serve` over TLS with `--authentication-kubeconfig` and `--authorization-kubeconfig` asks a
 * recorded-protocol stand-in for kube-apiserver (test/helpers/fake-apiserver.ts; the real
 * kube-apiserver cannot run here) who the token is (TokenReview) and whether that user may `get`
 * the path /metrics (SubjectAccessReview, granted by an RBAC table holding the ClusterRoleBinding of
 * kjournal:metrics-reader to the ServiceAccount monitoring/prometheus-k8s, as deploy/ ships it).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makePki, type Pki } from '../auth/pki.js';
import { httpsCall, type Reply, startTlsServer, writeKubeconfig } from '../helpers/auth-e2e.js';
import { type FakeApiServer, startFakeApiServer } from '../helpers/fake-apiserver.js';
import { removeDir, type ServerProcess } from '../helpers/server-process.js';

const PROMETHEUS = 'system:serviceaccount:monitoring:prometheus-k8s';

describe('a ServiceAccount token scrapes /metrics through TokenReview and SubjectAccessReview', () => {
  let pki: Pki;
  let api: FakeApiServer;
  let server: ServerProcess;
  const metrics = (token: string): Promise<Reply> =>
    httpsCall(`${server.url}/metrics`, pki.ca.cert, { token });

  before(async () => {
    pki = makePki();
    api = await startFakeApiServer(
      pki,
      {
        'prometheus-sa-token': {
          username: PROMETHEUS,
          uid: 'uid-prom',
          groups: ['system:serviceaccounts', 'system:serviceaccounts:monitoring', 'system:authenticated'],
        },
        'web-sa-token': { username: 'system:serviceaccount:shop:web', groups: ['system:serviceaccounts'] },
      },
      // kjournal:metrics-reader bound to Prometheus' ServiceAccount (components/service-monitor).
      { [`user:${PROMETHEUS}`]: [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }] },
    );
    const kubeconfig = await writeKubeconfig(
      join(pki.dir, 'delegation.kubeconfig'),
      api.url,
      pki.ca.certFile,
      '{token: "kjournal-server-sa"}',
    );
    server = await startTlsServer(pki, undefined, [
      '--authentication-kubeconfig',
      kubeconfig,
      '--authentication-token-webhook-cache-ttl',
      '1m',
      '--authorization-kubeconfig',
      kubeconfig,
    ]);
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await api?.close();
    pki?.cleanup();
  });

  test("Prometheus' token reads /metrics; one TokenReview for two scrapes within the TTL", async () => {
    assert.match(server.stderr(), /authentication: TokenReview via .*delegation\.kubeconfig/);
    let r = await metrics('prometheus-sa-token');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /^# (HELP|TYPE) kjournal_/m);
    r = await metrics('prometheus-sa-token');
    assert.equal(r.status, 200, r.body);
    const reviews = api.tokenReviews();
    assert.equal(reviews.length, 1, 'the second scrape was answered from the cache');
    assert.deepEqual(reviews[0]!.body, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: 'prometheus-sa-token' },
    });
    assert.equal(reviews[0]!.authorization, 'Bearer kjournal-server-sa', "the kubeconfig's credentials");
    const sar = api.accessReviews().map((a) => a.body.spec);
    assert.ok(
      sar.some(
        (s) =>
          s.user === PROMETHEUS &&
          s.uid === 'uid-prom' &&
          JSON.stringify(s.nonResourceAttributes) === JSON.stringify({ path: '/metrics', verb: 'get' }),
      ),
      JSON.stringify(sar),
    );
  });

  test('a token the cluster rejects is 401; a valid ServiceAccount without the binding is 403', async () => {
    const r = await metrics('forged-token');
    assert.equal(r.status, 401, r.body);
    assert.doesNotMatch(r.body, /forged-token/);
    assert.doesNotMatch(server.stderr(), /forged-token/, 'the token is never logged');
    const web = await metrics('web-sa-token');
    assert.equal(web.status, 403, web.body);
    assert.match(web.body, /User "system:serviceaccount:shop:web" cannot get path "\/metrics"/);
  });

  test('the API server down: 401 for a token not cached, the server keeps serving', async () => {
    await api.close();
    const r = await metrics('another-token');
    assert.equal(r.status, 401, r.body);
    // The reason goes to the server's log, which reaches us a moment after the answer.
    const logged = /TokenReview to https:\/\/127\.0\.0\.1:\d+ failed: .*unreachable/;
    for (let i = 0; i < 50 && !logged.test(server.stderr()); i++) await sleep(100);
    assert.match(server.stderr(), logged);
    assert.equal(server.child.exitCode, null, 'still running');
    // The token and the decision reviewed before are cached (1m and 5m): scraping goes on.
    const cached = await metrics('prometheus-sa-token');
    assert.equal(cached.status, 200, cached.body);
    assert.equal((await httpsCall(`${server.url}/readyz`, pki.ca.cert)).status, 200);
  });
});

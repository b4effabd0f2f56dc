/**
 * The README's example ABAC policy file, served as it is written there (over TLS, with tokens):
 * only the scraper reads `/metrics`; people signed in still have discovery, OpenAPI (`kubectl
 * explain`), `/version` and Loki's buildinfo; a team reads its namespace; operators read audit
 * events through a `*` rule; the agent pushes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makePki, type Pki } from '../auth/pki.js';
import { httpsCall, pushAs, type Reply, startTlsServer, writeKubeconfig } from '../helpers/auth-e2e.js';
import { removeDir, type ServerProcess } from '../helpers/server-process.js';
import { auditEvent, kubectl, nsNow } from '../kube/helpers.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The README's one `jsonl` block: the example policy file. */
function readmePolicy(): string {
  const m = /```jsonl\n([\s\S]*?)```/.exec(readFileSync(README, 'utf8'));
  assert.ok(m, 'README.md has an example ABAC policy file in a jsonl block');
  return m[1]!;
}

describe("the README's example policy file", () => {
  let pki: Pki;
  let server: ServerProcess;
  let dir: string;
  let home: string;
  const t = nsNow() - 30_000_000_000n;

  const get = (path: string, token: string): Promise<Reply> =>
    httpsCall(`${server.url}${path}`, pki.ca.cert, { token });
  const kubeconfigFor = (token: string): Promise<string> =>
    writeKubeconfig(join(dir, `kubeconfig-${token}`), server.url, pki.ca.certFile, `{token: "${token}"}`);

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-readme-policy-'));
    home = join(dir, 'home');
    await writeFile(
      join(dir, 'tokens.csv'),
      [
        'dev-token,dana,1,"shop-devs"',
        'sre-token,sam,2,"sre"',
        'prom-token,prometheus,3',
        'agent-token,kjournal-agent,4',
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'policy.jsonl'), readmePolicy());
    server = await startTlsServer(pki, undefined, [
      '--token-auth-file',
      join(dir, 'tokens.csv'),
      '--authorization-policy-file',
      join(dir, 'policy.jsonl'),
    ]);
    const r = await pushAs(server.url, pki.ca.cert, 'agent-token', [
      {
        stream: { kind: 'containerlog', namespace: 'shop', pod: 'web-1', container: 'app' },
        values: [[String(t), 'shop line']],
      },
      {
        stream: { kind: 'auditevent' },
        values: [[String(t + 1n), JSON.stringify(auditEvent('p-1', 'get', 'x', 'pods', 200, t + 1n))]],
      },
    ]);
    assert.equal(r.status, 204, r.body);
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  test('/metrics only for the scraper', async () => {
    for (const token of ['dev-token', 'sre-token', 'agent-token']) {
      const r = await get('/metrics', token);
      assert.equal(r.status, 403, `${token}: ${r.body}`);
      assert.match(r.body, /forbidden: User "[^"]+" cannot get path "\/metrics"/);
    }
    const r = await get('/metrics', 'prom-token');
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /kjournal_/);
  });

  test('discovery, OpenAPI, /version and buildinfo for everyone signed in', async () => {
    for (const path of ['/api', '/apis', '/apis/core.kjournal/v1alpha1', '/openapi/v2', '/version']) {
      const r = await get(path, 'dev-token');
      assert.equal(r.status, 200, `${path}: ${r.body.slice(0, 200)}`);
    }
    assert.equal((await get('/loki/api/v1/status/buildinfo', 'dev-token')).status, 200);
    const dev = await kubeconfigFor('dev-token');
    let k = await kubectl(dev, ['get', 'containerlogs', '-n', 'shop', '-o', 'custom-columns=POD:.pod'], home);
    assert.equal(k.code, 0, k.stderr);
    assert.deepEqual(k.stdout.trim().split('\n'), ['POD', 'web-1']);
    k = await kubectl(dev, ['explain', 'containerlogs.pod'], home);
    assert.equal(k.code, 0, k.stderr);
    k = await kubectl(dev, ['get', 'auditevents'], home);
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /Forbidden/);
  });

  test('operators read audit events through their * rule', async () => {
    const sre = await kubeconfigFor('sre-token');
    const k = await kubectl(sre, ['get', 'auditevents', '-o', 'jsonpath={.items[*].auditID}'], home);
    assert.equal(k.code, 0, k.stderr);
    assert.equal(k.stdout, 'p-1');
  });
});

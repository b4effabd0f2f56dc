/**
 * A push is authorized by what it carries, end to end over TLS with tokens and ABAC: `create` on
 * the resource of each record (containerlogs, events, auditevents, logs) in each namespace it names,
 * cluster-wide for a record without one; the same on LokiStack's push paths and the intake
 * (/ingest/events); a refused push stores nothing; `kjournal import` works for a user allowed to
 * create container logs in the namespace it imports.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makePki, type Pki } from '../auth/pki.js';
import { abacPolicies, httpsCall, pushAs, type Reply, startTlsServer } from '../helpers/auth-e2e.js';
import { runCliCapturingStderr as runCli } from '../helpers/process-info.js';
import { removeDir, type ServerProcess } from '../helpers/server-process.js';
import { auditEvent, coreEvent, nsNow } from '../kube/helpers.js';

const POLICY = abacPolicies([
  { user: 'shop-writer', namespace: 'shop', resource: 'containerlogs', apiGroup: 'core.kjournal' },
  { user: 'event-writer', namespace: 'shop', resource: 'events', apiGroup: 'core.kjournal' },
  ...['containerlogs', 'events', 'logs', 'auditevents'].map((resource) => ({
    user: 'reader',
    namespace: '*',
    resource,
    apiGroup: 'core.kjournal',
    readonly: true,
  })),
]);

const clog = (namespace: string | undefined, line: string, t: bigint, metadata?: Record<string, string>) => ({
  stream: {
    kind: 'containerlog',
    ...(namespace !== undefined ? { namespace } : {}),
    pod: 'web-1',
    container: 'app',
  },
  values: [metadata ? [String(t), line, metadata] : [String(t), line]],
});

describe('writes authorized by what they carry', () => {
  let pki: Pki;
  let server: ServerProcess;
  let dir: string;

  const push = (token: string, streams: unknown[], path?: string): Promise<Reply> =>
    pushAs(server.url, pki.ca.cert, token, streams, path ? { path } : {});
  /** Every line the reader can find containing `text`. */
  const find = async (text: string): Promise<string[]> => {
    const q = new URLSearchParams({
      query: `{kind=~".+"} |= "${text}"`,
      start: String(nsNow() - 3_600_000_000_000n),
      limit: '1000',
    });
    const r = await httpsCall(`${server.url}/loki/api/v1/query_range?${q}`, pki.ca.cert, {
      token: 'reader-token',
    });
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body) as { data: { result: { values: [string, string][] }[] } };
    return body.data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
  };

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-writes-'));
    await writeFile(
      join(dir, 'tokens.csv'),
      'sw-token,shop-writer,1\new-token,event-writer,2\nreader-token,reader,3\n',
    );
    await writeFile(join(dir, 'policy.jsonl'), POLICY);
    server = await startTlsServer(pki, undefined, [
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

  test('container logs of a namespace need create on containerlogs there, and nothing else', async () => {
    const t = nsNow();
    let r = await push('sw-token', [clog('shop', 'w1 shop', t)]);
    assert.equal(r.status, 204, r.body);
    r = await push(
      'sw-token',
      [clog('shop', 'w1 lokistack', t)],
      '/api/logs/v1/application/loki/api/v1/push',
    );
    assert.equal(r.status, 204, r.body);
    assert.deepEqual(await find('w1 '), ['w1 lokistack', 'w1 shop']);
  });

  test('a push that carries anything the user may not create is refused whole', async () => {
    const t = nsNow();
    const refused: [string, unknown[], RegExp][] = [
      [
        'another namespace',
        [clog('shop', 'w2 shop', t), clog('bank', 'w2 bank', t + 1n)],
        /containerlogs\.core\.kjournal is forbidden: User "shop-writer" cannot create resource "containerlogs" in API group "core\.kjournal" in the namespace "bank"/,
      ],
      [
        'no namespace: cluster scope',
        [clog(undefined, 'w2 nowhere', t)],
        /"containerlogs" .* at the cluster scope/,
      ],
      [
        'another namespace in structured metadata',
        [clog('shop', 'w2 meta', t, { k8s_namespace_name: 'bank' })],
        /in the namespace "bank"/,
      ],
      [
        'audit events',
        [
          {
            stream: { kind: 'auditevent' },
            values: [[String(t), JSON.stringify(auditEvent('w2-a', 'get', 'x', 'pods', 200, t))]],
          },
        ],
        /cannot create resource "auditevents" in API group "core\.kjournal" at the cluster scope/,
      ],
      [
        'node logs',
        [{ stream: { kind: 'log', node: 'n1', source: 'journal' }, values: [[String(t), 'w2 node']] }],
        /cannot create resource "logs"/,
      ],
      [
        'events',
        [
          {
            stream: { kind: 'event', namespace: 'shop' },
            values: [
              [String(t), JSON.stringify(coreEvent('w2-e', 'shop', 'web-1', 'Pulled', 'Normal', 'w2 e', t))],
            ],
          },
        ],
        /cannot create resource "events" .* in the namespace "shop"/,
      ],
    ];
    for (const [what, streams, message] of refused) {
      const r = await push('sw-token', streams);
      assert.equal(r.status, 403, `${what}: ${r.body}`);
      assert.match(r.body, message, what);
    }
    const r = await push(
      'sw-token',
      [clog('shop', 'w2 ls', t), clog('bank', 'w2 ls bank', t)],
      '/api/logs/v1/application/loki/api/v1/push',
    );
    assert.equal(r.status, 403, r.body);
    assert.deepEqual(await find('w2'), [], 'a refused push stores nothing');
  });

  test('events: in the namespace of the stream and of the body, on the push and on /ingest/events', async () => {
    const t = nsNow();
    const shopEvent = coreEvent('w3-shop', 'shop', 'web-1', 'Pulled', 'Normal', 'w3 shop event', t);
    const bankEvent = coreEvent('w3-bank', 'bank', 'vault-1', 'Pulled', 'Normal', 'w3 bank event', t);
    const ingest = (e: unknown) =>
      httpsCall(`${server.url}/ingest/events`, pki.ca.cert, {
        token: 'ew-token',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(e),
      });
    let r = await ingest(shopEvent);
    assert.equal(r.status, 200, r.body);
    r = await ingest({ kind: 'EventList', apiVersion: 'v1', items: [shopEvent, bankEvent] });
    assert.equal(r.status, 403, r.body);
    assert.match(
      r.body,
      /cannot create resource "events" in API group "core\.kjournal" in the namespace "bank"/,
    );
    // A stream labelled shop whose event is about bank: the Kubernetes API would show it in bank.
    r = await push('ew-token', [
      { stream: { kind: 'event', namespace: 'shop' }, values: [[String(t), JSON.stringify(bankEvent)]] },
    ]);
    assert.equal(r.status, 403, r.body);
    assert.match(r.body, /in the namespace "bank"/);
    assert.deepEqual(
      (await find('w3')).map((l) => (JSON.parse(l) as { message: string }).message),
      ['w3 shop event'],
    );
  });

  test('kjournal import works for a user allowed to create the container logs it carries', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kj-import-authz-'));
    try {
      const iso = new Date(Date.now() - 5000).toISOString();
      for (const ns of ['shop', 'bank']) {
        const container = join(root, ns, 'pods', `${ns}_web-1_0c1d2e3f`, 'app');
        await mkdir(container, { recursive: true });
        await writeFile(join(container, '0.log'), `${iso} stdout F w4 imported into ${ns}\n`);
      }
      const args = (ns: string) => [
        'import',
        join(root, ns, 'pods'),
        '--server',
        server.url,
        '--token',
        'sw-token',
        '--certificate-authority',
        pki.ca.certFile,
      ];
      let r = await runCli(args('shop'));
      assert.equal(r.code, 0, r.stderr);
      r = await runCli(args('bank'));
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /403|forbidden/i);
      assert.deepEqual(await find('w4'), ['w4 imported into shop']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

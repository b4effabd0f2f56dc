/**
 * `kjournal audit-policy test` end to end: audit events stored in a real server (several on one
 * timestamp, read in pages of two), a candidate policy, the report's counts per rule and level.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { runCli } from './fake-loki.js';

let server: ServerProcess;
let dir: string;
const base = BigInt(Date.now() - 600_000) * 1_000_000n;

function auditEvent(i: number, verb: string): string {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/shop/configmaps',
    verb,
    user: { username: 'alice', groups: ['system:authenticated'] },
    objectRef: { resource: 'configmaps', namespace: 'shop', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestObject: { kind: 'ConfigMap', data: { big: 'x'.repeat(200) } },
    requestReceivedTimestamp: '2026-01-01T00:00:00Z',
    stageTimestamp: '2026-01-01T00:00:00Z',
  });
}

before(async () => {
  server = await startServerProcess();
  dir = await mkdtemp(join(tmpdir(), 'kj-policy-cli-'));
  const verbs = ['get', 'get', 'get', 'get', 'create', 'create', 'create', 'delete', 'delete', 'list'];
  // Three events share each timestamp, so pages of two split a timestamp.
  const values = verbs.map((verb, i) => [
    String(base + BigInt(Math.floor(i / 3)) * 1000n),
    auditEvent(i, verb),
  ]);
  const r = await pushJson(server.url, { streams: [{ stream: { kind: 'auditevent' }, values }] });
  assert.equal(r.status, 204, r.text);
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
  await rm(dir, { recursive: true, force: true });
});

test('audit-policy test reports per rule and per level what a candidate policy keeps', async () => {
  const policy = join(dir, 'policy.yaml');
  await writeFile(
    policy,
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'rules:',
      '  - level: None',
      '    verbs: ["get", "list"]',
      '  - level: Metadata',
      '    verbs: ["create"]',
      '',
    ].join('\n'),
  );
  const r = await runCli(['audit-policy', 'test', policy, '--server', server.url, '--batch', '2', '-q']);
  assert.equal(r.code, 0, r.stderr);
  const row = (name: string): string[] => {
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(line, `a row for ${name}:\n${r.stdout}`);
    return line.trim().split(/\s{2,}/);
  };
  // RULE, LEVEL, EVENTS, KEPT, ...
  assert.deepEqual(row('rules[0]').slice(0, 4), ['rules[0]', 'None', '5', '0']);
  assert.deepEqual(row('rules[1]').slice(0, 4), ['rules[1]', 'Metadata', '3', '3']);
  assert.deepEqual(row('no rule matched').slice(0, 4), ['no rule matched', 'None', '2', '0']);
  const total = row('total');
  assert.equal(total[1], '10', 'every stored event read once, across pages');
  assert.equal(total[2], '3');
  assert.ok(Number(total[4]) < Number(total[3]) / 3, 'Metadata drops the request objects');
});

test('audit-policy test refuses an invalid policy with kube-apiserver’s message, exit 2', async () => {
  const policy = join(dir, 'bad.yaml');
  await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - verbs: ["get"]\n');
  const r = await runCli(['audit-policy', 'test', policy, '--server', server.url, '-q']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /rules\[0\]\.level: Required value/);
});

test('audit-policy default prints a policy that loads', async () => {
  const r = await runCli(['audit-policy', 'default']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^apiVersion: audit\.k8s\.io\/v1\nkind: Policy\n/);
  assert.match(r.stdout, /verbs: \["create", "update", "patch", "delete"\]/);
});

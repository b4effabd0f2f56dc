/**
 * `kjournal agent --audit-log` applies the audit policy on the node: the built-in default (changes
 * at Metadata, no RequestReceived stage) when none is given, a Policy file with `--audit-policy`.
 * The real CLI, a real server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { until } from '../helpers/agent-e2e.js';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const servers: ServerProcess[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) {
    await s.stop('SIGKILL');
    await removeDir(s.dataDir);
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const stamp = new Date(Date.now() - 60_000).toISOString();
function event(i: number, verb: string, stage = 'ResponseComplete'): string {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    stage,
    requestURI: '/api/v1/namespaces/shop/configmaps/c',
    verb,
    user: { username: 'alice', groups: ['system:authenticated'] },
    objectRef: { resource: 'configmaps', namespace: 'shop', name: 'c', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestObject: { kind: 'ConfigMap', data: { k: 'v' } },
    responseObject: { kind: 'ConfigMap', data: { k: 'v' } },
    requestReceivedTimestamp: stamp,
    stageTimestamp: stamp,
  });
}

async function stored(url: string): Promise<Record<string, unknown>[]> {
  const q = new URLSearchParams({
    query: '{kind="auditevent"}',
    start: String(BigInt(Date.now() - 3_600_000) * 1_000_000n),
    end: String(BigInt(Date.now() + 60_000) * 1_000_000n),
    limit: '100',
    direction: 'forward',
  });
  const body = (await (await fetch(`${url}/loki/api/v1/query_range?${q}`)).json()) as {
    data: { result: { values: [string, string][] }[] };
  };
  return body.data.result.flatMap((s) => s.values.map(([, l]) => JSON.parse(l) as Record<string, unknown>));
}

async function runAgent(
  extra: string[],
  expected: number,
): Promise<{ url: string; events: Record<string, unknown>[] }> {
  const server = await startServerProcess();
  servers.push(server);
  const dir = await mkdtemp(join(tmpdir(), 'kj-agent-policy-'));
  dirs.push(dir);
  const log = join(dir, 'audit.log');
  const lines = [
    event(1, 'get'),
    event(2, 'create', 'RequestReceived'),
    event(3, 'create'),
    event(4, 'list'),
    event(5, 'delete'),
    event(6, 'patch'),
  ];
  await writeFile(log, `${lines.join('\n')}\n`);
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'agent',
      '--server',
      server.url,
      '--state-dir',
      join(dir, 'state'),
      '--audit-log',
      log,
      '--node',
      'cp-1',
      '--batch-max-wait',
      '20ms',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await until(
      `${expected} audit events stored (${stderr})`,
      async () => (await stored(server.url)).length >= expected,
    );
    // Nothing more arrives (what the policy dropped stays dropped).
    await new Promise((r) => setTimeout(r, 300));
    return { url: server.url, events: await stored(server.url) };
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  }
}

test('the default policy keeps only changes, at Metadata, once each', async () => {
  const { events } = await runAgent([], 3);
  assert.deepEqual(events.map((e) => `${e.verb}/${e.stage}/${e.level}`).sort(), [
    'create/ResponseComplete/Metadata',
    'delete/ResponseComplete/Metadata',
    'patch/ResponseComplete/Metadata',
  ]);
  for (const e of events) {
    assert.equal(e.requestObject, undefined);
    assert.equal(e.responseObject, undefined);
  }
});

test('--audit-policy FILE applies that policy; --audit-policy none keeps everything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-agent-policy-file-'));
  dirs.push(dir);
  const policy = join(dir, 'policy.yaml');
  await writeFile(
    policy,
    'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Request\n    verbs: ["get", "list"]\n',
  );
  const custom = await runAgent(['--audit-policy', policy], 2);
  assert.deepEqual(custom.events.map((e) => `${e.verb}/${e.level}`).sort(), ['get/Request', 'list/Request']);
  for (const e of custom.events) {
    assert.deepEqual(e.requestObject, { kind: 'ConfigMap', data: { k: 'v' } }, 'Request keeps the request');
    assert.equal(e.responseObject, undefined, 'but not the response');
  }
  const all = await runAgent(['--audit-policy', 'none'], 6);
  assert.equal(all.events.length, 6);
  assert.ok(all.events.every((e) => e.level === 'RequestResponse' && e.responseObject !== undefined));
});

test('an invalid --audit-policy stops the start with the reason, exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-agent-policy-bad-'));
  dirs.push(dir);
  const policy = join(dir, 'bad.yaml');
  await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n');
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'agent',
      '--state-dir',
      join(dir, 's'),
      '--audit-log',
      join(dir, 'a.log'),
      '--audit-policy',
      policy,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 2, stderr);
  assert.match(stderr, /illegal policy with 0 rules/);
});

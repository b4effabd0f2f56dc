/**
 * `kjournal timeline TYPE/NAME` end to end: the real server, a pod's container logs, an Event about
 * it and an audit event that deleted it, printed by the compiled CLI oldest first, each marked; other
 * pods' lines stay out.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import {
  auditEvent,
  coreEvent,
  nsNow,
  pushAuditEvent,
  pushContainerLogs,
  pushCoreEvent,
} from '../kube/helpers.js';
import { runCli } from './fake-loki.js';

let server: ServerProcess;

before(async () => {
  server = await startServerProcess();
  const t = (nsNow() / 1_000_000_000n - 120n) * 1_000_000_000n;
  const at = (s: number): bigint => t + BigInt(s) * 1_000_000_000n;
  await pushContainerLogs(server.url, [
    { namespace: 'shop', pod: 'web-1', container: 'app', app: 'web', line: 'serving', ts: at(1) },
    { namespace: 'shop', pod: 'web-1', container: 'app', app: 'web', line: 'shutting down', ts: at(4) },
    { namespace: 'shop', pod: 'web-2', container: 'app', app: 'web', line: 'other pod', ts: at(2) },
  ]);
  await pushCoreEvent(
    server.url,
    coreEvent('web-1.a', 'shop', 'web-1', 'Killing', 'Normal', 'Stopping container app', at(3)),
  );
  const audit = auditEvent('a1', 'delete', 'bob', 'pods', 200, at(2));
  await pushAuditEvent(
    server.url,
    {
      ...audit,
      objectRef: { ...audit.objectRef, name: 'web-1' },
      requestURI: '/api/v1/namespaces/shop/pods/web-1',
    },
    at(2),
  );
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

test('kjournal timeline pod/NAME prints its logs, Events and audit events in time order', async () => {
  const r = await runCli(['timeline', 'pod/web-1', '-n', 'shop', '--since', '2d', '--server', server.url]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(
    lines.map((l) => l.replace(/^\S+\s+/, '')),
    [
      'log    [app] serving',
      'audit  bob delete /api/v1/namespaces/shop/pods/web-1 → 200',
      'event  Normal Killing: Stopping container app',
      'log    [app] shutting down',
    ],
  );
  const times = lines.map((l) => l.split(' ')[0]!);
  assert.deepEqual([...times].sort(), times);
  const json = await runCli([
    'timeline',
    'po/web-1',
    '-n',
    'shop',
    '--since',
    '2d',
    '-o',
    'json',
    '--server',
    server.url,
  ]);
  assert.equal(json.code, 0, json.stderr);
  const objects = json.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { mark: string; object: { kind: string } });
  assert.deepEqual(
    objects.map((o) => [o.mark, o.object.kind]),
    [
      ['log', 'ContainerLog'],
      ['audit', 'AuditEvent'],
      ['event', 'Event'],
      ['log', 'ContainerLog'],
    ],
  );
});

test('kjournal timeline refuses a reference without a type (exit 2)', async () => {
  const r = await runCli(['timeline', 'web-1', '--server', server.url]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /want TYPE\/NAME/);
});

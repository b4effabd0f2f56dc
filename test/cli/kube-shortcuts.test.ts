/**
 * `kjournal pods`, `events`, `audit` and `logs` end to end: the real server process, realistic data
 * pushed as collectors and `kjournal import` store it, the compiled CLI as a child process.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { styleText } from 'node:util';
import { colorFor } from '../../src/cli/print/color.js';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import {
  auditEvent,
  coreEvent,
  nsNow,
  pushAuditEvent,
  pushContainerLogs,
  pushCoreEvent,
  pushNodeLog,
} from '../kube/helpers.js';
import { runCli } from './fake-loki.js';

let server: ServerProcess;
const ESC = '\x1b[';

before(async () => {
  server = await startServerProcess();
  const t = nsNow() - 60_000_000_000n;
  const at = (s: number): bigint => t + BigInt(s) * 1_000_000_000n;
  // Pushed out of time order: the CLI prints them in time order across pods.
  await pushContainerLogs(server.url, [
    { namespace: 'shop', pod: 'web-2', container: 'app', app: 'web', line: 'second', ts: at(2) },
    {
      namespace: 'shop',
      pod: 'web-1',
      container: 'app',
      app: 'web',
      line: '{"level":"info","msg":"first"}',
      ts: at(1),
    },
    { namespace: 'shop', pod: 'web-1', container: 'proxy', app: 'web', line: 'third', ts: at(3) },
    { namespace: 'shop', pod: 'db-0', container: 'pg', app: 'db', line: 'fourth', ts: at(4) },
    { namespace: 'other', pod: 'web-9', container: 'app', app: 'web', line: 'elsewhere', ts: at(5) },
  ]);
  await pushCoreEvent(
    server.url,
    coreEvent('web-1.a', 'shop', 'web-1', 'Pulled', 'Normal', 'image pulled', at(1)),
  );
  await pushCoreEvent(
    server.url,
    coreEvent('web-2.b', 'shop', 'web-2', 'BackOff', 'Warning', 'back-off restarting', at(2)),
  );
  await pushAuditEvent(server.url, auditEvent('a1', 'delete', 'alice', 'secrets', 200, at(1)), at(1));
  await pushAuditEvent(server.url, auditEvent('a2', 'get', 'bob', 'secrets', 200, at(2)), at(2));
  await pushAuditEvent(server.url, auditEvent('a3', 'delete', 'alice', 'configmaps', 200, at(3)), at(3));
  await pushNodeLog(server.url, 'n1', 'journal', 'kubelet started');
  await pushNodeLog(server.url, 'n2', 'journal', 'kubelet on n2');
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

const cli = (...args: string[]) => runCli([...args, '--server', server.url]);

test('pods: "pod container message" in time order, messages of JSON lines, no colour when piped', async () => {
  const r = await cli('pods', '-n', 'shop');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'web-1 app first\nweb-2 app second\nweb-1 proxy third\ndb-0 pg fourth\n');
  assert.ok(!r.stdout.includes(ESC));
});

test('pods POD is a regular expression; -c CONTAINER too; -A adds the namespace', async () => {
  let r = await cli('pods', 'web', '-n', 'shop');
  assert.equal(r.stdout, 'web-1 app first\nweb-2 app second\nweb-1 proxy third\n');
  r = await cli('pods', '^web-1$', '-n', 'shop', '-c', 'prox');
  assert.equal(r.stdout, 'web-1 proxy third\n');
  r = await cli('pods', 'web-9', '-A');
  assert.equal(r.stdout, 'other web-9 app elsewhere\n');
  r = await cli('pods', '(', '-n', 'shop');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^kjournal: POD is not a valid regular expression[^\n]*\n$/);
});

test('pods --color: a colour per pod and per container', async () => {
  const r = await cli('pods', '^web-1$', '-n', 'shop', '--color');
  assert.equal(r.code, 0, r.stderr);
  const paint = (key: string, text: string): string =>
    styleText(colorFor(key), text, { validateStream: false });
  assert.equal(
    r.stdout,
    `${paint('shop/web-1', 'web-1')} ${paint('shop/web-1/app', 'app')} first\n` +
      `${paint('shop/web-1', 'web-1')} ${paint('shop/web-1/proxy', 'proxy')} third\n`,
  );
  const plain = await runCli(['pods', '-n', 'shop', '--server', server.url], { env: { FORCE_COLOR: '1' } });
  assert.ok(plain.stdout.includes(ESC), 'FORCE_COLOR colours');
  const none = await cli('pods', '-n', 'shop', '--no-color');
  assert.ok(!none.stdout.includes(ESC));
});

test('pods --tail N: the newest N, oldest first; -t adds times', async () => {
  let r = await cli('pods', '-n', 'shop', '--tail', '2');
  assert.equal(r.stdout, 'web-1 proxy third\ndb-0 pg fourth\n');
  r = await cli('pods', '-n', 'shop', '--tail', '1', '-t');
  assert.match(r.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z db-0 pg fourth\n$/);
});

test('pods --since excludes older lines; --until too', async () => {
  let r = await cli('pods', '-n', 'shop', '--since', '1s');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  r = await cli('pods', '-n', 'shop', '--since', '1h', '--until', '2000-01-01T00:00:00Z');
  assert.equal(r.stdout, '');
});

test('pods -f follows new lines', async () => {
  let listed: () => void = () => {};
  const sawList = new Promise<void>((resolve) => {
    listed = resolve;
  });
  const run = runCli(['pods', 'db', '-n', 'shop', '-f', '--server', server.url], {
    onOutput: (text, kill) => {
      if (text.includes('fourth')) listed();
      if (text.includes('fifth')) kill('SIGTERM');
    },
    timeoutMs: 15_000,
  });
  await sawList;
  await new Promise((r) => setTimeout(r, 500));
  await pushContainerLogs(server.url, [
    { namespace: 'shop', pod: 'web-1', container: 'app', app: 'web', line: 'not followed' },
    { namespace: 'shop', pod: 'db-0', container: 'pg', app: 'db', line: '{"message":"fifth"}' },
  ]);
  const r = await run;
  assert.equal(r.stdout, 'db-0 pg fourth\ndb-0 pg fifth\n');
});

test('events Pod/web-1 and events pod (a kind as typed)', async () => {
  let r = await cli('events', 'Pod/web-1', '-n', 'shop');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE$/);
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /Normal +Pulled +pod\/web-1 +image pulled$/);

  r = await cli('events', 'pod', '-n', 'shop', '-o', 'name');
  assert.equal(r.stdout.trimEnd().split('\n').length, 2);
  r = await cli('events', '-n', 'shop', '--field-selector', 'type=Warning', '--no-headers');
  assert.match(r.stdout, /^\S+ +Warning +BackOff +pod\/web-2 +back-off restarting\n$/);
});

test('audit secrets --verb delete, --user, RESOURCE/NAME', async () => {
  let r = await cli('audit', 'secrets', '--verb', 'delete');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stdout);
  assert.match(lines[1]!, /delete +secrets +alice +200 +ResponseComplete$/);

  r = await cli('audit', '--user', 'alice', '-o', 'jsonl');
  const verbs = r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => (JSON.parse(l) as { objectRef: { resource: string } }).objectRef.resource);
  assert.deepEqual(verbs, ['secrets', 'configmaps']);

  r = await cli('audit', 'secrets/nothing');
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /No resources found/);
});

test('logs --node n1', async () => {
  let r = await cli('logs', '--node', 'n1');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'n1 journal kubelet started\n');
  r = await cli('logs');
  assert.equal(r.stdout, 'n1 journal kubelet started\nn2 journal kubelet on n2\n');
});

test('shortcut errors: a Status from the server, an unreachable server', async () => {
  let r = await cli('pods', '-n', 'shop', '--field-selector', 'nope=1');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^kjournal: Error from server \(BadRequest\): [^\n]+\n$/);
  r = await runCli(['events', '--server', 'http://127.0.0.1:9']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^kjournal: cannot reach [^\n]+\n$/);
  r = await cli('events', 'Pod/');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^kjournal: OBJECT must be KIND or KIND\/NAME[^\n]*\n$/);
});

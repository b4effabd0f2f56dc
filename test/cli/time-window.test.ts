/**
 * Issue 19 item 10: one default time window (the last 24h) for every reading command, stated in its
 * `--help` and the README, and the hint on stderr when the window is empty but older data exists
 * for the same selector. The real server holds lines, an Event and an audit event 3½ days old.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { ageText, findNewest, olderHint, sinceText } from '../../src/cli/window.js';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import {
  auditEvent,
  coreEvent,
  nsNow,
  pushAuditEvent,
  pushContainerLogs,
  pushCoreEvent,
} from '../kube/helpers.js';
import { ok, runCli, startFakeLoki } from './fake-loki.js';

const MIN = 60n * 1_000_000_000n;
const HOUR = 60n * MIN;
const DAY = 24n * HOUR;
const RULE = 'default window of every reading command: the last 24h';

let server: ServerProcess;

before(async () => {
  server = await startServerProcess();
  const old = nsNow() - 3n * DAY - 12n * HOUR;
  await pushContainerLogs(server.url, [
    { namespace: 'old', pod: 'ancient-0', container: 'app', app: 'a', line: 'long ago', ts: old },
    // Three hours ago: inside the default window (it was outside the hour pods and query read).
    {
      namespace: 'recent',
      pod: 'web-0',
      container: 'app',
      app: 'w',
      line: 'three hours ago',
      ts: nsNow() - 3n * HOUR,
    },
  ]);
  await pushCoreEvent(
    server.url,
    coreEvent('ancient-0.a', 'old', 'ancient-0', 'Pulled', 'Normal', 'pulled', old),
  );
  await pushAuditEvent(server.url, auditEvent('x1', 'delete', 'alice', 'secrets', 200, old), old);
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

test("every reading command's --help states the one default window", async () => {
  for (const cmd of [
    ['query'],
    ['labels'],
    ['series'],
    ['get'],
    ['pods'],
    ['logs'],
    ['events'],
    ['audit'],
    ['timeline'],
  ]) {
    const r = await runCli([...cmd, '--help']);
    assert.equal(r.code, 0, r.stderr);
    const help = r.stdout.replace(/\s+/g, ' ');
    assert.ok(help.includes(RULE), `${cmd[0]}: ${r.stdout}`);
    assert.match(help, /--since <\w+> .*\(default: "24h"\)/, cmd[0]);
  }
  const policy = await runCli(['audit-policy', 'test', '--help']);
  assert.match(policy.stdout.replace(/\s+/g, ' '), /--since <duration> .*\(default: "7d"\)/);
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  assert.ok(readme.includes('### Time windows'), 'README: no "Time windows" section');
  assert.match(readme, /reads the last 24 hours/);
});

test('query, pods and get read the last 24 hours by default', async () => {
  const loki = await startFakeLoki({
    '/loki/api/v1/query_range': () => ok({ resultType: 'streams', result: [] }),
  });
  try {
    await runCli(['query', '{a="b"}', '-q', '--server', loki.url]);
    const req = loki.requests[0]!;
    const span = BigInt(req.searchParams.get('end')!) - BigInt(req.searchParams.get('start')!);
    assert.equal(span, 24n * HOUR);
  } finally {
    await loki.close();
  }
  let r = await runCli(['pods', '-n', 'recent', '--server', server.url]);
  assert.equal(r.stdout, 'web-0 app three hours ago\n', r.stderr);
  r = await runCli(['query', '{namespace="recent"}', '-q', '-o', 'raw', '--server', server.url]);
  assert.equal(r.stdout, 'three hours ago\n', r.stderr);
  r = await runCli(['get', 'clog', '-n', 'recent', '-o', 'name', '--server', server.url]);
  assert.equal(r.stdout.trim().split('\n').length, 1, r.stderr);
});

test('an empty window with older data: one hint line on stderr, for every reading command', async () => {
  const hint = (what: string) =>
    new RegExp(`^no ${what} in the last 24h; the newest is from 3d ago: use --since 4d\\n$`);
  const cases: [string[], string, string][] = [
    [['query', '{namespace="old"}', '-q'], 'No resources found in old namespace.', 'lines'],
    [['pods', '-n', 'old'], 'No resources found in old namespace.', 'lines'],
    [['pods', 'ancient', '-n', 'old'], 'No resources found in old namespace.', 'lines'],
    [['events', '-n', 'old'], 'No resources found in old namespace.', 'events'],
    [['audit', 'secrets'], 'No resources found', 'auditevents'],
    [['get', 'clog', '-n', 'old'], 'No resources found in old namespace.', 'containerlogs'],
    [['timeline', 'pod/ancient-0', '-n', 'old'], 'No resources found in old namespace.', 'entries'],
  ];
  for (const [args, none, what] of cases) {
    const r = await runCli([...args, '--server', server.url]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    const [first, ...rest] = r.stderr.split(/(?<=\n)/);
    assert.equal(first, `${none}\n`, args.join(' '));
    assert.match(rest.join(''), hint(what), args.join(' '));
    // And the --since it suggests finds it.
    const again = await runCli([...args, '--server', server.url, '--since', '4d']);
    assert.notEqual(again.stdout, '', `${args.join(' ')} --since 4d: ${again.stderr}`);
  }
});

test("query's hint probes the stream selector only, and names it when the query has a pipeline", async () => {
  const r = await runCli(['query', '{namespace="old"} |= "long"', '-q', '--server', server.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stderr,
    'No resources found in old namespace.\n' +
      'no lines in the last 24h; the newest of {namespace="old"} is from 3d ago: use --since 4d\n',
  );
});

test('no hint when nothing older exists, nor when the window was given as times', async () => {
  for (const args of [
    ['pods', 'nothing', '-n', 'old'],
    ['query', '{namespace="nowhere"}', '-q'],
    ['pods', '-n', 'old', '--since', '1h', '--until', '1m'],
    ['query', '{namespace="old"}', '-q', '--from', '2h', '--to', '1h'],
  ]) {
    const r = await runCli([...args, '--server', server.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^No resources found/);
  }
});

test('the hint: ages said in minutes, hours or days; the band search finds the newest', async () => {
  assert.equal(ageText(90n * MIN), '1h');
  assert.equal(ageText(30n * MIN), '30m');
  assert.equal(ageText(3n * DAY + 5n * HOUR), '3d');
  assert.equal(sinceText(3n * DAY + 5n * HOUR), '4d');
  assert.equal(sinceText(40n * MIN), '41m');
  const now = 1000n * DAY;
  assert.equal(
    olderHint('lines', HOUR, { from: now - 3n * DAY - HOUR, to: now - 3n * DAY - HOUR }, now),
    'no lines in the last 1h; the newest is from 3d ago: use --since 4d',
  );
  // Items at these times; the newest before the window (1h) is 50h ago.
  const items = [now - 50n * HOUR, now - 400n * HOUR];
  let probes = 0;
  const exists = async (from: bigint, to: bigint) => {
    probes++;
    return items.some((t) => t >= from && t < to);
  };
  const found = await findNewest(exists, now - HOUR, now);
  assert.ok(found !== undefined);
  assert.ok(found.from <= items[0]! && items[0]! < found.to, `${found.from} ${found.to}`);
  assert.ok(found.to - found.from <= 2n * HOUR, 'narrowed to within 2h');
  assert.ok(probes <= 12, `${probes} probes`);
  assert.equal(await findNewest(async () => false, now - HOUR, now), undefined);
});

/**
 * Issue 19 item 9, "a CLI without surprises": each defect seen, checked against the real server
 * (kube shortcuts, node logs, follow commands) or a fake Loki (what the CLI asks for), with the
 * compiled CLI as a child process.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { coreEvent, nsNow, pushContainerLogs, pushCoreEvent } from '../kube/helpers.js';
import { ok, runCli, startFakeLoki } from './fake-loki.js';

let server: ServerProcess;
let dir: string;
const HOUR = 3600n * 1_000_000_000n;

before(async () => {
  server = await startServerProcess();
  dir = await mkdtemp(join(tmpdir(), 'kj-surprises-'));
  await pushContainerLogs(server.url, [
    { namespace: 'shop', pod: 'web-1', container: 'app', app: 'web', line: 'hello' },
  ]);
  await pushCoreEvent(
    server.url,
    coreEvent('web-1.a', 'shop', 'web-1', 'Pulled', 'Normal', 'image pulled', nsNow() - 1_000_000_000n),
  );
  // A syslog line (APP-NAME as the syslog listener stores it) and a journal line (SYSLOG_IDENTIFIER).
  const r = await pushJson(server.url, {
    streams: [
      {
        stream: { kind: 'log', node: 'n1', source: 'syslog' },
        values: [[String(nsNow() - 2_000_000n), 'Accepted publickey for root', { appname: 'sshd' }]],
      },
      {
        stream: { kind: 'log', node: 'n1', source: 'journal' },
        values: [[String(nsNow() - 1_000_000n), 'Started kubelet', { syslog_identifier: 'systemd' }]],
      },
      { stream: { kind: 'log', node: 'n2', source: 'kata' }, values: [[String(nsNow()), 'no program']] },
    ],
  });
  assert.equal(r.status, 204, r.text);
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
  await rm(dir, { recursive: true, force: true });
});

test("--version prints kjournal's own version, not the npm script's package's", async () => {
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const r = await runCli(['--version'], { env: { npm_package_version: '9.9.9-other-project' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${pkg.version}\n`);
});

test('audit-policy test reads its documented 7-day default window, not an hour', async () => {
  const loki = await startFakeLoki({
    '/loki/api/v1/query_range': () => ok({ resultType: 'streams', result: [] }),
  });
  const policy = join(dir, 'policy.yaml');
  await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');
  try {
    const r = await runCli(['audit-policy', 'test', policy, '--server', loki.url, '-q']);
    assert.equal(r.code, 0, r.stderr);
    const req = loki.requests.find((u) => u.pathname === '/loki/api/v1/query_range');
    assert.ok(req, 'no query_range request');
    const span = BigInt(req.searchParams.get('end')!) - BigInt(req.searchParams.get('start')!);
    assert.equal(span, 7n * 24n * HOUR);
  } finally {
    await loki.close();
  }
});

test('exit codes: unknown options and bad values are both usage errors (2)', async () => {
  const cases = [
    ['query', '{app="a"}', '--no-such-flag'],
    ['pods', '--no-such-flag'],
    ['query', '{app="a"}', '--limit', 'lots'],
    ['query', '{app="a"}', '-o', 'yaml'],
    ['query', '{app="a"}', '--since', 'forever'],
    ['events', '-o', 'toml'],
    ['no-such-command'],
  ];
  for (const args of cases) {
    const r = await runCli([...args, '--server', 'http://127.0.0.1:9']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  // A server that cannot be reached is a failure (1), not a usage error.
  const down = await runCli(['events', '--server', 'http://127.0.0.1:9']);
  assert.equal(down.code, 1, down.stderr);
});

test('Ctrl-C ends every follow command with 130 (SIGTERM: 143)', async () => {
  const loki = await startFakeLoki();
  loki.onTail = (ws) =>
    ws.send(JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [['1', 'live']] }] }));
  const followers: [string[], string, NodeJS.Signals, number][] = [
    [['query', '{a="b"}', '-f', '-q', '--server', loki.url], 'live', 'SIGINT', 130],
    [['pods', '-n', 'shop', '-f', '--server', server.url], 'hello', 'SIGINT', 130],
    [['logs', '--node', 'n1', '-f', '--server', server.url], 'kubelet', 'SIGINT', 130],
    [['events', '-n', 'shop', '-w', '--server', server.url], 'Pulled', 'SIGINT', 130],
    [['get', 'clog', '-n', 'shop', '-w', '--server', server.url], 'hello', 'SIGTERM', 143],
  ];
  try {
    for (const [args, seen, signal, code] of followers) {
      // Interrupted once the listing is printed and the watch (or tail) has begun.
      const r = await runCli(args, {
        onOutput: (text, kill) => {
          if (text.includes(seen)) setTimeout(() => kill(signal), 500);
        },
      });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.includes('kjournal:'), false, r.stderr);
    }
  } finally {
    await loki.close();
  }
});

test('nothing matches: "No resources found" on stderr, the same way for pods, logs, events, audit and query', async () => {
  const loki = await startFakeLoki({
    '/loki/api/v1/query_range': () => ok({ resultType: 'streams', result: [] }),
  });
  try {
    const cases: [string[], string][] = [
      [
        ['pods', 'nothing-like-this', '-n', 'shop', '--server', server.url],
        'No resources found in shop namespace.',
      ],
      [['logs', '--node', 'no-node', '--server', server.url], 'No resources found'],
      [['events', '-n', 'quiet', '--server', server.url], 'No resources found in quiet namespace.'],
      [['audit', 'secrets', '--server', server.url], 'No resources found'],
      [['query', '{namespace="shop"}', '-q', '--server', loki.url], 'No resources found in shop namespace.'],
      [['query', '{app="x"}', '-q', '--server', loki.url], 'No resources found'],
    ];
    for (const [args, said] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      assert.equal(r.stderr.split('\n')[0], said, args.join(' '));
    }
    // Machine-readable output stays quiet, as kubectl's -o json is.
    const jsonl = await runCli(['query', '{app="x"}', '-q', '-o', 'jsonl', '--server', loki.url]);
    assert.equal(jsonl.stderr, '');
  } finally {
    await loki.close();
  }
});

test('logs shows the program of syslog and journal lines', async () => {
  const r = await runCli(['logs', '--server', server.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    'n1 syslog sshd: Accepted publickey for root\nn1 journal systemd: Started kubelet\nn2 kata no program\n',
  );
});

test('an import against a server that is down says so and exits 1, not "imported N files"', async () => {
  const files = join(dir, 'import');
  await import('node:fs/promises').then((fs) => fs.mkdir(files));
  for (let i = 1; i <= 4; i++)
    await writeFile(join(files, `f${i}.json`), `{"time":"2026-12-07T10:00:0${i}Z","msg":"m${i}"}\n`);
  const r = await runCli(['import', files, '--server', 'http://127.0.0.1:9'], { timeoutMs: 60_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /^imported /m);
  assert.match(r.stderr, /^stopped after reading 4 files: 4 lines, 0 entries sent/m);
  assert.match(
    r.stderr,
    /^kjournal: import stopped: cannot push to http:\/\/127\.0\.0\.1:9\/: .*ECONNREFUSED/m,
  );
});

test("the README's tables are whole: no table is split by a blank line", async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const lines = readme.split('\n');
  const broken: string[] = [];
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('```')) fenced = !fenced;
    if (fenced || !l.startsWith('|') || lines[i - 1]?.startsWith('|')) continue;
    // The first row of a table is its header, followed by the separator row.
    if (!/^\|(?:\s*:?-+:?\s*\|)+\s*$/.test(lines[i + 1] ?? ''))
      broken.push(`line ${i + 1}: ${l.slice(0, 60)}`);
  }
  assert.deepEqual(broken, []);
});

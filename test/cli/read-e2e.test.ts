/**
 * `kjournal labels`, `series`, `query log:…` (korrel8r) and `query --follow` end to end against the
 * real server process.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { runCli } from './fake-loki.js';

let server: ServerProcess;
const base = BigInt(Date.now() - 60_000) * 1_000_000n;
const at = (s: number): string => `${base + BigInt(s) * 1_000_000_000n}`;

before(async () => {
  server = await startServerProcess();
  const r = await pushJson(server.url, {
    streams: [
      { stream: { namespace: 'shop', pod: 'checkout-1', container: 'app' }, values: [[at(1), 'one']] },
      { stream: { namespace: 'shop', pod: 'checkout-2', container: 'app' }, values: [[at(2), 'two']] },
    ],
  });
  assert.equal(r.status, 204, r.text);
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

test('e2e: labels, label values and series', async () => {
  let r = await runCli(['labels', '--server', server.url, '-q']);
  assert.equal(r.code, 0, r.stderr);
  const names = r.stdout.trimEnd().split('\n');
  for (const n of ['container', 'namespace', 'pod']) assert.ok(names.includes(n), r.stdout);

  r = await runCli(['labels', 'pod', '--server', server.url, '-q']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split('\n').sort(), ['checkout-1', 'checkout-2']);

  r = await runCli(['series', '{namespace="shop"}', '--server', server.url, '-q']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n').sort();
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^\{.*pod="checkout-1".*\}$/);

  r = await runCli(['series', '{namespace="shop"}', '--server', server.url, '-q', '--analyze-labels']);
  assert.match(r.stdout, /^Total Streams: {2}2\n/);
  assert.match(r.stdout, /\npod +2 +2\n/);
});

test('e2e: a korrel8r log query', async () => {
  const r = await runCli([
    'query',
    'log:application:{"namespace":"shop"}',
    '--server',
    server.url,
    '-q',
    '-o',
    'raw',
    '--forward',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'one\ntwo\n');
});

test('e2e: --follow prints what is pushed while it runs, until interrupted', async () => {
  const running = runCli(
    ['query', '{namespace="shop"}', '--server', server.url, '-q', '-o', 'raw', '-f', '--since', '1s'],
    {
      onOutput: (text, kill) => {
        if (text.includes('live line')) kill('SIGINT');
      },
    },
  );
  // The command does not say when its socket is open: push until a line shows up.
  const timer = setInterval(() => {
    const now = `${BigInt(Date.now()) * 1_000_000n}`;
    void pushJson(server.url, {
      streams: [
        { stream: { namespace: 'shop', pod: 'checkout-1', container: 'app' }, values: [[now, 'live line']] },
      ],
    });
  }, 200);
  try {
    const r = await running;
    // Interrupted: 130, as every follow command ends on Ctrl-C (README "Exit codes").
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stdout, /^live line\n/);
  } finally {
    clearInterval(timer);
  }
});

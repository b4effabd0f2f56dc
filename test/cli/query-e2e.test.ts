/**
 * `kjournal query` end to end against the real server process: push, then read back in each format,
 * page through, and run an instant metric query.
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
      {
        stream: { namespace: 'shop', pod: 'checkout-1', container: 'app' },
        values: [
          [at(1), 'started'],
          [at(3), 'payment timeout after 3s', { trace_id: 'abc123' }],
          [at(5), 'payment timeout after 5s'],
        ],
      },
      {
        stream: { namespace: 'shop', pod: 'checkout-2', container: 'app' },
        values: [
          [at(2), 'second pod'],
          [at(4), 'payment timeout after 4s'],
        ],
      },
    ],
  });
  assert.equal(r.status, 204, r.text);
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

const q = (...args: string[]): string[] => ['query', '--server', server.url, '-q', '-z', 'UTC', ...args];

test('e2e: log queries in raw, default and jsonl', async () => {
  let r = await runCli(q('{namespace="shop"} |= "timeout"', '-o', 'raw'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'payment timeout after 5s\npayment timeout after 4s\npayment timeout after 3s\n');

  r = await runCli(q('{namespace="shop"}', '--forward', '--limit', '2'));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \{pod="checkout-1"\} started$/);
  assert.match(lines[1]!, /^\S+ \{pod="checkout-2"\} second pod$/);

  r = await runCli(q('{pod="checkout-1"} |= "3s"', '-o', 'jsonl'));
  const entry = JSON.parse(r.stdout) as { labels: Record<string, string>; line: string };
  assert.equal(entry.line, 'payment timeout after 3s');
  assert.equal(entry.labels.pod, 'checkout-1');
  assert.equal(
    entry.labels.trace_id ?? (entry as { metadata?: Record<string, string> }).metadata?.trace_id,
    'abc123',
  );
});

test('e2e: paging through the real server returns every entry once', async () => {
  for (const forward of [false, true]) {
    const r = await runCli(
      q('{namespace="shop"}', '-o', 'raw', '--batch', '2', '--limit', '0', ...(forward ? ['--forward'] : [])),
    );
    assert.equal(r.code, 0, r.stderr);
    const expected = [
      'started',
      'second pod',
      'payment timeout after 3s',
      'payment timeout after 4s',
      'payment timeout after 5s',
    ];
    assert.deepEqual(r.stdout.trimEnd().split('\n'), forward ? expected : expected.reverse());
  }
});

test('e2e: an instant metric query, and the server refusing a bad query', async () => {
  let r = await runCli(q('sum by (pod) (count_over_time({namespace="shop"}[1h]))', '--instant', '-o', 'raw'));
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.split(' ').slice(0, 2).join(' '))
    .sort();
  assert.deepEqual(rows, ['{pod="checkout-1"} 3', '{pod="checkout-2"} 2']);

  r = await runCli(q('{namespace="shop"'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^kjournal: query failed: HTTP 400: parse error/);
  assert.equal(r.stderr.split('\n').length, 2);
});

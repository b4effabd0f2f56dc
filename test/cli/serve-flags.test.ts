/**
 * The CLI refuses bad flags with a non-zero exit and a one-line reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { CLI } from '../helpers/server-process.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stderr: r.stderr.trim() };
}

test('serve: bad flags exit non-zero with one line that says why', () => {
  const cases: [string[], RegExp][] = [
    [['serve', '--listen', 'nowhere'], /^kjournal: --listen must be HOST:PORT, got "nowhere"$/],
    [
      ['serve', '--listen', '127.0.0.1:0', '--retention', 'forever'],
      /^kjournal: --retention must be a duration/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--max-body-size', 'lots'],
      /^kjournal: --max-body-size must be a size/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--max-entries-limit', '0'],
      /^kjournal: --max-entries-limit must be a positive integer, got "0"$/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--query-timeout', '0'],
      /^kjournal: --query-timeout must be longer than 0$/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--query-timeout', 'soon'],
      /^kjournal: --query-timeout must be a duration/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--max-query-series', '2.5'],
      /^kjournal: --max-query-series must be a positive integer, got "2.5"$/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--max-query-length', '-1h'],
      /^kjournal: --max-query-length must be a duration/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--query-memory-limit', '1MiB'],
      /^kjournal: --query-memory-limit must be at least 16MiB$/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.stderr.split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

test('serve: a port in use is a one-line error, not a stack trace', async () => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = run('serve', '--listen', `127.0.0.1:${port}`, '--data', `/tmp/kj-inuse-${port}`);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /EADDRINUSE|in use/);
  } finally {
    blocker.close();
    rmSync(`/tmp/kj-inuse-${port}`, { recursive: true, force: true });
  }
});

test('unknown commands and --help', () => {
  assert.notEqual(run('frobnicate').code, 0);
  const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /serve/);
  assert.match(help.stdout, /import/);
});

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
      ['serve', '--listen', '127.0.0.1:0', '--kube-list-max-items', 'all'],
      /^kjournal: --kube-list-max-items must be a non-negative integer, got "all"$/,
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
    [
      ['serve', '--listen', '127.0.0.1:0', '--max-concurrent-queries', '0'],
      /^kjournal: --max-concurrent-queries must be a positive integer, got "0"$/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--max-queued-queries', 'many'],
      /^kjournal: --max-queued-queries must be a non-negative integer, got "many"$/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--decode-workers', '-1'],
      /^kjournal: --decode-workers must be a non-negative integer, got "-1"$/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--decode-workers', '1.5'],
      /^kjournal: --decode-workers must be a non-negative integer, got "1.5"$/,
    ],
    [
      ['serve', '--listen', '127.0.0.1:0', '--tail-buffer-size', '1KiB'],
      /^kjournal: --tail-buffer-size must be at least 64KiB$/,
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

test('serve: an invalid --config or --audit-policy stops the start with where and why, exit 2', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'kj-serve-config-'));
  try {
    const file = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const badFilter = file(
      'filter.yaml',
      'flows:\n  - name: f\n    filters:\n      - parser: { format: xml }\n    outputs: [journal]\n',
    );
    const unknownOutput = file('output.yaml', 'flows:\n  - name: f\n    outputs: [nowhere]\n');
    const unknownKey = file('key.yaml', 'flow:\n  - name: f\n    outputs: [journal]\n');
    const emptyPolicy = file('policy.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n');
    const cases: [string[], RegExp][] = [
      [
        ['--config', badFilter],
        /filter\.yaml:4:\d+: flows\[0\]\.filters\[0\]\.parser\.format: must be one of/,
      ],
      [['--config', unknownOutput], /output\.yaml:3:\d+: flows\[0\]\.outputs\[0\]: .*nowhere/],
      [['--config', unknownKey], /key\.yaml:1:1: flow: unknown field "flow" \(did you mean "flows"\?\)$/],
      [['--config', join(dir, 'absent.yaml')], /absent\.yaml: cannot read \(no such file\)/],
      [['--audit-policy', emptyPolicy], /illegal policy with 0 rules/],
    ];
    for (const [args, re] of cases) {
      const r = run('serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'data'), ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exit codes come from main.ts: auth flags that contradict are 2, a client that cannot start is 1', () => {
  // The auth module throws its own AuthConfigError ('usage'), not a CLI error.
  const auth = run('serve', '--listen', '127.0.0.1:0', '--tls-cert-file', 'server.crt');
  assert.equal(auth.code, 2, auth.stderr);
  assert.match(auth.stderr, /^kjournal: --tls-cert-file and --tls-private-key-file must be given together$/);
  // The client library throws its own ClientError.
  const client = run('query', '{app="a"}', '--server', 'ftp://example.invalid');
  assert.equal(client.code, 1, client.stderr);
  assert.match(
    client.stderr,
    /^kjournal: server URL ftp:\/\/example\.invalid\/? \(--server\) must be http:\/\/ or https:\/\/$/,
  );
});

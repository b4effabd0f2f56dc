/**
 * Fault: two processes on one directory. A second `kjournal serve` on a data directory in use, or a
 * second `kjournal agent` on a state directory in use, is refused with one line naming the holder's
 * pid, while the first goes on; a `kill -9` of the holder leaves no stale lock (disk/dir-lock.ts).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acquireDirLock, DirLockError, LOCK_FILE } from '../../src/disk/dir-lock.js';
import { nowNs } from '../../src/model/time.js';
import { DEFAULT_SERVER_CONFIG, type RunningServer, startServer } from '../../src/server/app.js';
import { linesOf, tally, until } from '../helpers/agent-e2e.js';
import {
  allValues,
  CLI,
  pushJson,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const AGENT_CHILD = fileURLToPath(new URL('../helpers/agent-cli-child.js', import.meta.url));

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers) await s.stop('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

interface Run {
  readonly child: ChildProcess;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stderr: () => err, exited };
}

/** The refusal: exactly one line, naming the holder's pid and the directory. */
function assertRefusal(stderr: string, pid: number, dir: string): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${stderr}`);
  assert.match(lines[0]!, new RegExp(`\\(pid ${pid}\\b`), stderr);
  assert.ok(lines[0]!.includes(dir), stderr);
}

test('a second holder of the lock in the same process is refused with our pid; release lets it go', async () => {
  const dir = await tempDir('kj-lock-');
  const first = await acquireDirLock(dir, 'data directory');
  assert.equal(await readFile(join(dir, LOCK_FILE), 'utf8'), `${process.pid}\n`);
  await assert.rejects(acquireDirLock(dir, 'data directory'), (err: unknown) => {
    assert.ok(err instanceof DirLockError);
    assert.equal(err.holderPid, process.pid);
    assert.equal(err.code, 'DIR_LOCKED');
    return true;
  });
  await first.release();
  await first.release();
  const again = await acquireDirLock(dir, 'data directory');
  await again.release();
  // A command that only inspects a directory does not create it.
  await assert.rejects(acquireDirLock(join(dir, 'missing'), 'data directory', { create: false }), {
    code: 'ENOENT',
  });
});

test('two in-process servers on one data directory: the second is refused, the first keeps serving', async () => {
  const dataDir = await tempDir('kj-lock-inproc-');
  const cfg = { ...DEFAULT_SERVER_CONFIG, port: 0, dataDir, log: () => undefined };
  const first: RunningServer = await startServer(cfg);
  try {
    await assert.rejects(startServer(cfg), DirLockError);
    const ts = nowNs();
    const push = await pushJson(first.url, {
      streams: [{ stream: { job: 'inproc' }, values: [[String(ts), 'still here']] }],
    });
    assert.equal(push.status, 204);
  } finally {
    await first.close();
  }
  // Closed: the directory is free again, and what was pushed is there.
  const second = await startServer(cfg);
  try {
    const res = await queryRange(second.url, { query: '{job="inproc"}', limit: '10' });
    assert.deepEqual(
      allValues(res).map(([, l]) => l),
      ['still here'],
    );
  } finally {
    await second.close();
  }
});

test('a second kjournal serve on a data directory in use exits non-zero naming the pid; after kill -9 a new one starts at once', async () => {
  const dataDir = await tempDir('kj-lock-serve-');
  const first = await startServerProcess({ dataDir });
  servers.push(first);
  const second = run([CLI, 'serve', '--listen', '127.0.0.1:0', '--data', dataDir]);
  const code = await second.exited;
  assert.notEqual(code, 0, second.stderr());
  assert.notEqual(code, null, 'exited by itself, not killed');
  assertRefusal(second.stderr(), first.child.pid!, dataDir);
  assert.doesNotMatch(second.stderr(), /serving on/);

  // The first was not disturbed.
  const ts = nowNs();
  const values = Array.from({ length: 50 }, (_, i) => [String(ts + BigInt(i)), `line ${i}`]);
  const push = await pushJson(first.url, { streams: [{ stream: { job: 'lock' }, values }] });
  assert.equal(push.status, 204, push.text);

  // The kernel drops the lock with the process: no stale lock, no cleanup by hand.
  await first.stop('SIGKILL');
  const third = await startServerProcess({ dataDir });
  servers.push(third);
  const res = await queryRange(third.url, {
    query: '{job="lock"}',
    start: String(ts - 1n),
    end: String(ts + 100n),
    limit: '100',
  });
  assert.equal(allValues(res).length, 50, 'every acknowledged line survived');
  assert.equal(await readFile(join(dataDir, LOCK_FILE), 'utf8'), `${third.child.pid}\n`);
  await third.stop();
});

test('a second kjournal agent on a state directory in use exits non-zero naming the pid; after kill -9 a new one starts, nothing twice', async () => {
  const server = await startServerProcess();
  servers.push(server);
  dirs.push(server.dataDir);
  const state = join(await tempDir('kj-lock-agent-'), 'state');
  const base = nowNs() - 60_000_000_000n;
  // The child's counter source (as `pods`) emits `line 0`..`line 199`, job `cli`.
  const agentArgs = [
    AGENT_CHILD,
    String(base),
    '--server',
    server.url,
    '--state-dir',
    state,
    '--batch-max-wait',
    '20ms',
    '--pods-dir',
    '/nowhere',
  ];
  const first = run(agentArgs);
  await until(`the first agent ships (${first.stderr()})`, () => first.stderr().includes('shipping'));
  await until(
    'all lines stored',
    async () => (await linesOf(server.url, 'cli', base, base + 200_000n)).length >= 200,
  );

  const second = run(agentArgs);
  const code = await second.exited;
  assert.notEqual(code, 0, second.stderr());
  assert.notEqual(code, null, 'exited by itself, not killed');
  assertRefusal(second.stderr(), first.child.pid!, state);
  assert.equal(first.child.exitCode, null, 'the first agent still runs');

  first.child.kill('SIGKILL');
  await first.exited;
  const third = run(agentArgs);
  await until(`the new agent ships (${third.stderr()})`, () => third.stderr().includes('shipping'));
  assert.doesNotMatch(third.stderr(), /in use/);
  third.child.kill('SIGTERM');
  assert.equal(await third.exited, 0, third.stderr());
  // One agent at a time on the state: each line once.
  const { missing, repeated } = tally(await linesOf(server.url, 'cli', base, base + 200_000n), 200);
  assert.deepEqual(missing, []);
  assert.deepEqual(repeated, []);
  await removeDir(state);
});

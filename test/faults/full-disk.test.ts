/**
 * Fault: a full disk. A small tmpfs is the server's data directory or the agent's state directory;
 * a dummy file fills it. The server's writes answer 507 with Retry-After (under the watermark, and
 * when a write really meets ENOSPC), it keeps serving reads and resumes by itself once the file is
 * deleted, with every acknowledged line kept and nothing refused stored. The agent pauses its
 * sources, says not ready, and ships every line exactly once after space returns.
 *
 * A positions write that meets ENOSPC is tried again rather than ending shipping for good.
 *
 * Mounting needs root (CI runs as root); elsewhere the tmpfs tests are skipped, saying so.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { Agent } from '../../src/agent/agent.js';
import { type MetricsServer, serveMetrics } from '../../src/agent/metrics.js';
import { sampleDisk } from '../../src/disk/disk-space.js';
import { nowNs } from '../../src/model/time.js';
import { DEFAULT_SERVER_CONFIG, type RunningServer, startServer } from '../../src/server/app.js';
import { clientFor, linesOf, tally, until } from '../helpers/agent-e2e.js';
import { CounterSource } from '../helpers/agent-sources.js';
import {
  allValues,
  http,
  pushJson,
  queryRange,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const run = promisify(execFile);
const MiB = 1 << 20;
const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'mounting a tmpfs as a small full disk needs root (CI runs these as root)';

let root: string | undefined;
let mnt: string | undefined;
let mounted = false;
type Undo = (() => Promise<unknown>)[];

/** What a test undoes when it ends, pass or fail, newest first (a full tmpfs must not outlive it). */
function undoList(t: TestContext): Undo {
  const undo: Undo = [];
  t.after(async () => {
    for (const f of undo.reverse()) await f().catch(() => undefined);
  });
  return undo;
}

before(async () => {
  if (!isRoot) return;
  root = await mkdtemp(join(tmpdir(), 'kj-full-disk-'));
  mnt = join(root, 'mnt');
  await mkdir(mnt);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);
  mounted = true;
});

after(async () => {
  if (mounted) await run('umount', ['-l', mnt!]);
  if (root) await rm(root, { recursive: true, force: true });
});

/** Writes a dummy file until only about `leave` bytes are free on the volume of `dir`. */
async function fillLeaving(dir: string, file: string, leave: number): Promise<void> {
  const fh = await open(file, 'w');
  try {
    const chunk = Buffer.alloc(MiB, 0x61);
    for (;;) {
      const want = (await sampleDisk(dir)).free - leave;
      if (want <= 0) break;
      await fh.write(chunk, 0, Math.min(chunk.length, want));
    }
  } finally {
    await fh.close();
  }
}

/** Writes a dummy file until the volume is full (ENOSPC even for 512 bytes). */
async function fillCompletely(file: string): Promise<void> {
  const fh = await open(file, 'w');
  try {
    for (const size of [MiB, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x62);
      for (;;) {
        try {
          const { bytesWritten } = await fh.write(chunk);
          if (bytesWritten < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    await fh.close();
  }
}

function lines(job: string, from: bigint, first: number, count: number, pad = 200) {
  const values: [string, string][] = [];
  for (let i = first; i < first + count; i++) {
    values.push([String(from + BigInt(i)), `line ${i} ${'x'.repeat(pad)}`]);
  }
  return { streams: [{ stream: { job }, values }] };
}

async function metric(url: string, name: string): Promise<number> {
  const text = (await http(`${url}/metrics`)).text;
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

async function storedLines(url: string, job: string, from: bigint, to: bigint): Promise<string[]> {
  const res = await queryRange(url, {
    query: `{job="${job}"}`,
    start: String(from),
    end: String(to),
    limit: '5000',
    direction: 'forward',
  });
  return allValues(res).map(([, l]) => l.split(' ').slice(0, 2).join(' '));
}

function event(name: string): string {
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name, namespace: 'disk', uid: `u-${name}`, resourceVersion: '1' },
    involvedObject: { kind: 'Pod', namespace: 'disk', name: 'p' },
    reason: 'Test',
    message: name,
    type: 'Normal',
    firstTimestamp: stamp,
    lastTimestamp: stamp,
    count: 1,
  });
}

test('under --min-free-disk pushes and ingest answer 507 with Retry-After, reads go on, writes resume by themselves', {
  skip,
}, async (t) => {
  const cleanup = undoList(t);
  const dataDir = join(mnt!, 'watermark');
  const dummy = join(mnt!, 'dummy-watermark');
  const server: ServerProcess = await startServerProcess({ dataDir, args: ['--min-free-disk', '16MiB'] });
  cleanup.push(
    () => server.stop('SIGKILL'),
    () => rm(dummy, { force: true }),
    () => rm(dataDir, { recursive: true }),
  );
  const t0 = nowNs();
  let r = await pushJson(server.url, lines('wm', t0, 0, 100));
  assert.equal(r.status, 204, r.text);
  assert.equal(await metric(server.url, 'kjournal_disk_writes_paused'), 0);

  await fillLeaving(mnt!, dummy, 8 * MiB);
  // Probes go to another stream: those taken before the next sample are not part of the count.
  await until(
    'writes pause',
    async () => (await pushJson(server.url, lines('probe', t0, 0, 10))).status === 507,
    5000,
  );
  const freeWhenPaused = (await sampleDisk(mnt!)).free;
  r = await pushJson(server.url, lines('wm', t0, 100, 100));
  assert.equal(r.status, 507, r.text);
  assert.equal(r.headers.get('retry-after'), '10');
  assert.match(
    r.text,
    /insufficient storage: free space on the data volume .* is under --min-free-disk \(16\.0MiB\)/,
  );
  for (const path of ['/ingest/events', '/ingest/audit']) {
    const ing = await http(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: event('paused'),
    });
    assert.equal(ing.status, 507, `${path}: ${ing.text}`);
    assert.equal(ing.headers.get('retry-after'), '10');
  }
  // The bound: refused writes take no space (the body is never read into the store).
  for (let i = 0; i < 20; i++)
    assert.equal((await pushJson(server.url, lines('wm', t0, 100, 500))).status, 507);
  assert.ok((await sampleDisk(mnt!)).free >= freeWhenPaused - MiB, 'refused pushes wrote nothing');
  // Reads go on, the server is up.
  assert.equal((await http(`${server.url}/ready`)).status, 200);
  assert.equal((await storedLines(server.url, 'wm', t0, t0 + 10_000n)).length, 100);
  assert.equal(await metric(server.url, 'kjournal_disk_writes_paused'), 1);
  assert.ok((await metric(server.url, 'kjournal_disk_free_bytes')) < 16 * MiB);
  assert.equal(await metric(server.url, 'kjournal_disk_min_free_bytes'), 16 * MiB);

  await rm(dummy);
  await until(
    'writes resume',
    async () => (await pushJson(server.url, lines('wm', t0, 100, 100))).status === 204,
    5000,
  );
  r = await pushJson(server.url, lines('wm', t0, 200, 100));
  assert.equal(r.status, 204, r.text);
  const ev = await http(`${server.url}/ingest/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: event('resumed'),
  });
  assert.equal(ev.status, 200, ev.text);
  assert.equal(await metric(server.url, 'kjournal_disk_writes_paused'), 0);
  assert.match(server.stderr(), /writes answer 507 until space is freed/);
  assert.match(server.stderr(), /writes resume/);
  // Every acknowledged line once: 0..299.
  const stored = await storedLines(server.url, 'wm', t0, t0 + 10_000n);
  const { missing, repeated } = tally(stored, 300);
  assert.deepEqual(missing, []);
  assert.deepEqual(repeated, []);
  assert.equal(stored.length, 300);
});

test('a push that meets ENOSPC in the write-ahead log answers 507, stores nothing of it, and the server recovers', {
  skip,
}, async (t) => {
  const cleanup = undoList(t);
  const dataDir = join(mnt!, 'enospc');
  const dummy = join(mnt!, 'dummy-enospc');
  // No watermark: the write itself meets the full disk.
  let server: ServerProcess = await startServerProcess({ dataDir, args: ['--min-free-disk', '0'] });
  cleanup.push(
    () => server.stop('SIGKILL'),
    () => rm(dummy, { force: true }),
    () => rm(dataDir, { recursive: true }),
  );
  const t0 = nowNs();
  let r = await pushJson(server.url, lines('ns', t0, 0, 100));
  assert.equal(r.status, 204, r.text);

  await fillCompletely(dummy);
  // 300 lines of ~230 bytes: far more than the last page of the log segment can take.
  r = await pushJson(server.url, lines('ns', t0, 1000, 300));
  assert.equal(r.status, 507, r.text);
  assert.equal(r.headers.get('retry-after'), '10');
  assert.match(r.text, /insufficient storage: the data volume is full/);
  // Until space returns, writes are refused before they reach the store.
  r = await pushJson(server.url, lines('ns', t0, 2000, 10));
  assert.equal(r.status, 507, r.text);
  assert.match(r.text, /a write met ENOSPC/);
  assert.equal(await metric(server.url, 'kjournal_disk_writes_paused'), 1);
  assert.equal(server.child.exitCode, null, 'the server keeps running');
  assert.equal((await http(`${server.url}/ready`)).status, 200);
  assert.equal((await storedLines(server.url, 'ns', t0, t0 + 10_000n)).length, 100);
  assert.doesNotMatch(server.stderr(), /request failed|internal error/, 'no 500 logged');

  await rm(dummy);
  await until(
    'writes resume',
    async () => (await pushJson(server.url, lines('ns', t0, 100, 100))).status === 204,
    5000,
  );
  r = await pushJson(server.url, lines('ns', t0, 200, 100));
  assert.equal(r.status, 204, r.text);
  const check = async (url: string) => {
    const stored = await storedLines(url, 'ns', t0, t0 + 10_000n);
    const { missing, repeated } = tally(stored, 300);
    assert.deepEqual(missing, []);
    assert.deepEqual(repeated, []);
    // The refused lines (1000.., 2000..) were cut off again: 0..299 and nothing else.
    assert.equal(stored.length, 300, stored.filter((l) => Number(l.split(' ')[1]) >= 300).join(', '));
  };
  await check(server.url);
  // And the same after a kill -9 and a restart: the log holds nothing torn or refused.
  await server.stop('SIGKILL');
  server = await startServerProcess({ dataDir, args: ['--min-free-disk', '0'] });
  await check(server.url);
  await server.stop();
});

/**
 * An agent with its state on the tmpfs ships 100 lines, the disk is filled, 2,900 more lines are let
 * out: paused, not ready, nothing taken; then the dummy goes and every line arrives once.
 * `watermark`: the agent sees the disk low by itself (so the lines are let out only once it says not
 * ready: a sample is taken every second); else the first append meets ENOSPC.
 */
async function agentOnFullDisk(
  cleanup: Undo,
  name: string,
  minFree: number,
  fill: (dir: string, file: string) => Promise<void>,
  watermark: boolean,
) {
  const serverDir = await mkdtemp(join(tmpdir(), 'kj-full-disk-srv-'));
  const server: RunningServer = await startServer({
    ...DEFAULT_SERVER_CONFIG,
    port: 0,
    dataDir: serverDir,
    log: () => undefined,
  });
  cleanup.push(
    () => server.close(),
    () => rm(serverDir, { recursive: true, force: true }),
  );
  const stateDir = join(mnt!, `agent-${name}`);
  const dummy = join(mnt!, `dummy-agent-${name}`);
  cleanup.push(
    () => rm(dummy, { force: true }),
    () => rm(stateDir, { recursive: true, force: true }),
  );
  const base = nowNs() - 60_000_000_000n;
  const total = 3000;
  const source = new CounterSource({
    name: 'pods',
    total,
    perBatch: 50,
    baseNs: base,
    labels: { job: `disk-${name}` },
    // Bodies snappy cannot shrink much, so the buffer needs real space.
    body: (i) => `line ${i} ${randomBytes(120).toString('base64')}`,
  });
  source.allow = 100;
  const log: string[] = [];
  const agent = new Agent({
    sources: [source],
    client: clientFor(server.url),
    stateDir,
    batchMaxWaitMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    minFreeDisk: { bytes: minFree },
    log: (m) => log.push(m),
  });
  const metricsServer: MetricsServer = await serveMetrics(
    '127.0.0.1:0',
    agent.metrics.registry,
    () => agent.ready,
  );
  cleanup.push(
    () => metricsServer.close(),
    () => agent.stop(),
  );
  await agent.start();
  const ready = async () => (await http(`${metricsServer.url}/ready`)).status;
  const job = `disk-${name}`;
  await until(
    'the first lines arrive',
    async () => (await linesOf(server.url, job, base, base + 10_000_000n)).length === 100,
  );
  assert.equal(await ready(), 200);

  await fill(mnt!, dummy);
  if (!watermark) source.allow = total;
  await until('the agent says not ready', async () => (await ready()) === 503, 5000);
  source.allow = total;
  assert.equal(await metric(metricsServer.url, 'kjournal_agent_disk_paused'), 1);
  // Paused, alive: the source waits in emit and nothing more is taken.
  await new Promise((r) => setTimeout(r, 1500));
  const taken = source.taken;
  assert.ok(taken < total, `the source is held back (${taken} taken)`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(source.taken, taken, 'nothing taken while the disk is full');
  assert.ok(source.waiting, 'the source waits in emit');
  assert.equal(await ready(), 503);

  await rm(dummy);
  await until('ready again', async () => (await ready()) === 200, 5000);
  await until(
    'every line arrives',
    async () => (await linesOf(server.url, job, base, base + 10_000_000n)).length >= total,
    30_000,
  );
  const got = (await linesOf(server.url, job, base, base + 10_000_000n)).map((l) =>
    l.split(' ').slice(0, 2).join(' '),
  );
  const { missing, repeated } = tally(got, total);
  assert.deepEqual(missing, []);
  assert.deepEqual(repeated, []);
  assert.equal(await metric(metricsServer.url, 'kjournal_agent_disk_paused'), 0);
  assert.ok(
    log.some((m) => /sources pause/.test(m)),
    log.join('\n'),
  );
  assert.ok(
    log.some((m) => /sources resume/.test(m)),
    log.join('\n'),
  );
  await agent.stop();
  return log;
}

test('the agent under --min-free-disk pauses its sources, says not ready, and ships every line once space returns', {
  skip,
}, async (t) => {
  const cleanup = undoList(t);
  await agentOnFullDisk(cleanup, 'watermark', 8 * MiB, (dir, file) => fillLeaving(dir, file, 4 * MiB), true);
});

test('the agent whose state volume is full (ENOSPC) pauses, stays alive, and ships every line once space returns', {
  skip,
}, async (t) => {
  const cleanup = undoList(t);
  const log = await agentOnFullDisk(cleanup, 'enospc', 0, (_dir, file) => fillCompletely(file), false);
  assert.ok(!log.some((m) => /stopped/.test(m)), `no source or shipping stopped: ${log.join('\n')}`);
  assert.ok(
    log.some((m) => /the state volume is full \(ENOSPC\)/.test(m)),
    `the append met ENOSPC: ${log.join('\n')}`,
  );
});

test('a positions write that meets ENOSPC is tried again: shipping never stops for good, nothing is sent twice', async (t) => {
  const cleanup = undoList(t);
  const serverDir = await mkdtemp(join(tmpdir(), 'kj-full-disk-srv-'));
  const stateDir = await mkdtemp(join(tmpdir(), 'kj-full-disk-state-'));
  const server = await startServer({
    ...DEFAULT_SERVER_CONFIG,
    port: 0,
    dataDir: serverDir,
    log: () => undefined,
  });
  cleanup.push(
    () => rm(serverDir, { recursive: true, force: true }),
    () => rm(stateDir, { recursive: true, force: true }),
    () => server.close(),
  );
  const base = nowNs() - 60_000_000_000n;
  const total = 500;
  const source = new CounterSource({
    name: 'pods',
    total,
    perBatch: 25,
    delayMs: 5,
    baseNs: base,
    labels: { job: 'posfull' },
  });
  const log: string[] = [];
  const agent = new Agent({
    sources: [source],
    client: clientFor(server.url),
    stateDir,
    batchMaxWaitMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    log: (m) => log.push(m),
  });
  cleanup.push(() => agent.stop());
  // The first three positions writes find the disk full, as writeFileAtomic reports it.
  const commit = agent.positions.commit.bind(agent.positions);
  let failures = 3;
  let notReadySeen = false;
  agent.positions.commit = async (...args) => {
    if (failures > 0) {
      failures--;
      // Once the shipper has taken the failure (the same turn of the event loop), the agent
      // says not ready.
      setImmediate(() => {
        notReadySeen ||= !agent.ready;
      });
      throw Object.assign(new Error("ENOSPC: no space left on device, open 'positions.json.tmp'"), {
        code: 'ENOSPC',
      });
    }
    return commit(...args);
  };
  await agent.start();
  await until(
    'every line arrives',
    async () => (await linesOf(server.url, 'posfull', base, base + 10_000_000n)).length >= total,
    20_000,
  );
  const { missing, repeated } = tally(await linesOf(server.url, 'posfull', base, base + 10_000_000n), total);
  assert.deepEqual(missing, []);
  assert.deepEqual(repeated, []);
  assert.equal(failures, 0);
  assert.ok(notReadySeen, 'not ready while the positions could not be saved');
  await until('ready again', () => agent.ready, 5000);
  assert.ok(
    log.some((m) => /cannot save positions, the state volume is full/.test(m)),
    log.join('\n'),
  );
  assert.ok(!log.some((m) => /shipping stopped/.test(m)), log.join('\n'));
  await agent.stop();
  const saved = JSON.parse(await readFile(join(stateDir, 'positions.json'), 'utf8')) as {
    sources: { pods: { next: number } };
  };
  assert.equal(saved.sources.pods.next, total);
});

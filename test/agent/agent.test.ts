/**
 * End-to-end: the Agent with a test source against the real `kjournal serve` process: lines arrive
 * exactly once, positions only move after the server acknowledged, a server killed and restarted
 * loses nothing, a full buffer holds the source back, a rejected push is counted and skipped.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Agent } from '../../src/agent/agent.js';
import { PositionsStore } from '../../src/agent/positions.js';
import { nowNs } from '../../src/model/time.js';
import { clientFor, freePort, linesOf, tally, until } from '../helpers/agent-e2e.js';
import { CounterSource } from '../helpers/agent-sources.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

async function setup(serverArgs: string[] = []) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'kj-agent-state-'));
  const dataDir = await mkdtemp(join(tmpdir(), 'kj-agent-data-'));
  let server: ServerProcess | undefined;
  cleanup.push(async () => {
    await server?.stop('SIGKILL');
    await rm(stateDir, { recursive: true, force: true });
    await removeDir(dataDir);
  });
  return {
    url,
    stateDir,
    async startServer() {
      server = await startServerProcess({ dataDir, args: ['--listen', `127.0.0.1:${port}`, ...serverArgs] });
      return server;
    },
    async stopServer(signal: NodeJS.Signals = 'SIGKILL') {
      await server?.stop(signal);
      server = undefined;
    },
  };
}

const savedNext = (a: Agent, source = 'counter') => (a.positions.get(source).next as number | undefined) ?? 0;

test('ships exactly once; positions move only after the ack; a killed server loses nothing', async () => {
  const env = await setup();
  const total = 1500;
  const base = nowNs() - 60_000_000_000n;
  const source = new CounterSource({ total, perBatch: 10, delayMs: 4, baseNs: base, labels: { job: 'e2e' } });
  const agent = new Agent({
    sources: [source],
    client: clientFor(env.url),
    stateDir: env.stateDir,
    batchMaxWaitMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 150 },
    log: () => undefined,
  });
  cleanup.push(() => agent.stop());
  // No server yet: the source is read into the buffer, nothing is acknowledged.
  source.allow = 300;
  await agent.start();
  await until('some batches buffered', () => source.taken === 300);
  assert.equal(savedNext(agent), 0, 'no position saved before any ack');
  assert.equal(agent.positions.ackedBatch, 0);
  assert.ok((await agent.metrics.retries.get()).values[0]!.value > 0, 'pushes were retried');
  const onDisk = new PositionsStore(env.stateDir);
  await onDisk.load();
  assert.deepEqual(onDisk.get('counter'), {});

  await env.startServer();
  source.allow = total;
  await until('positions past 400', () => savedNext(agent) >= 400);
  // Kill the server mid-stream; the source goes on into the buffer.
  await env.stopServer('SIGKILL');
  const atKill = savedNext(agent);
  const takenAtKill = source.taken;
  await until('more read while the server is down', () => source.taken >= takenAtKill + 200);
  assert.ok(takenAtKill < total - 200, `the server was killed mid-stream (${takenAtKill} read)`);
  assert.ok(savedNext(agent) <= atKill + 70, 'positions barely move without a server (only in-flight acks)');
  assert.ok(agent.buffer.pending.length > 0);

  await env.startServer();
  await until('everything acknowledged', () => savedNext(agent) === total, 15_000);
  assert.equal(agent.buffer.pending.length, 0);
  const { missing, repeated } = tally(
    await linesOf(env.url, 'e2e', base, base + BigInt(total) * 1000n),
    total,
  );
  assert.deepEqual(missing, [], 'no line lost');
  assert.deepEqual(repeated, [], 'no line repeated');
  // Restarting the agent on the same state repeats nothing.
  await agent.stop();
  const again = new Agent({
    sources: [new CounterSource({ total, baseNs: base, labels: { job: 'e2e' } })],
    client: clientFor(env.url),
    stateDir: env.stateDir,
    batchMaxWaitMs: 20,
    log: () => undefined,
  });
  await again.start();
  await new Promise((r) => setTimeout(r, 200));
  await again.stop();
  assert.equal((await again.metrics.shippedRecords.get()).values[0]?.value ?? 0, 0);
  assert.equal(
    (await linesOf(env.url, 'e2e', base, base + BigInt(total) * 1000n)).length,
    total,
    'still exactly once after a restart',
  );
});

test('a full buffer holds the source back, says so in the metrics, and drains when the server is back', async () => {
  const env = await setup();
  const base = nowNs() - 60_000_000_000n;
  const source = new CounterSource({
    total: Number.POSITIVE_INFINITY,
    perBatch: 20,
    baseNs: base,
    labels: { job: 'full' },
  });
  const max = 8192;
  const agent = new Agent({
    sources: [source],
    client: clientFor(env.url),
    stateDir: env.stateDir,
    bufferMaxBytes: max,
    batchMaxWaitMs: 20,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    stopGraceMs: 1000,
    log: () => undefined,
  });
  cleanup.push(() => agent.stop());
  await agent.start();
  await until('the buffer is full', () => agent.buffer.full);
  await new Promise((r) => setTimeout(r, 150));
  const held = source.taken;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(source.taken, held, 'the source reads nothing more while the buffer is full');
  assert.equal(source.waiting, true, 'the source waits in emit');
  assert.ok(agent.buffer.bytes <= max, `buffer ${agent.buffer.bytes} <= ${max}`);
  const segs = await readdir(join(env.stateDir, 'buffer'));
  let disk = 0;
  for (const s of segs) disk += (await stat(join(env.stateDir, 'buffer', s))).size;
  assert.ok(disk <= max, `on disk ${disk} <= ${max}`);
  const text = await agent.metrics.registry.metrics();
  assert.match(text, /^kjournal_agent_buffer_full 1$/m);
  const fullSeconds = Number(/^kjournal_agent_buffer_full_seconds_total (\S+)$/m.exec(text)?.[1]);
  assert.ok(fullSeconds > 0.3, `full for ${fullSeconds}s`);

  await env.startServer();
  await until('the source reads again', () => source.taken > held + 500);
  assert.ok((await agent.metrics.shippedRecords.get()).values[0]!.value >= held);
  await agent.stop();
  const lines = await linesOf(env.url, 'full', base, base + BigInt(source.taken) * 1000n);
  const next = agent.positions.get('counter').next as number;
  const { missing, repeated } = tally(lines, next);
  assert.deepEqual(missing, []);
  assert.deepEqual(repeated, []);
});

test('a push the server rejects (4xx) is counted and skipped; later lines still arrive', async () => {
  const env = await setup(['--max-line-size', '100']);
  await env.startServer();
  const base = nowNs() - 60_000_000_000n;
  const total = 40;
  const source = new CounterSource({
    total,
    perBatch: 5,
    delayMs: 5,
    baseNs: base,
    labels: { job: 'reject' },
    body: (i) => (i === 12 ? `line ${i} ${'x'.repeat(500)}` : `line ${i}`),
  });
  const logs: string[] = [];
  const agent = new Agent({
    sources: [source],
    client: clientFor(env.url),
    stateDir: env.stateDir,
    batchMaxWaitMs: 10,
    log: (m) => logs.push(m),
  });
  cleanup.push(() => agent.stop());
  await agent.start();
  await until('everything done', () => savedNext(agent) === total);
  await agent.stop();
  const rejected = (await agent.metrics.pushes.get()).values.find((v) => v.labels.result === 'rejected');
  assert.ok(rejected && rejected.value >= 1, 'the rejected push is counted');
  assert.ok((await agent.metrics.dropped.get()).values[0]!.value >= 1);
  assert.ok(
    logs.some((l) => /server rejected batches .*HTTP 400/.test(l)),
    logs.join('\n'),
  );
  const { missing, repeated } = tally(
    await linesOf(env.url, 'reject', base, base + BigInt(total) * 1000n),
    total,
  );
  assert.deepEqual(missing, [12], 'only the line that is too long is missing');
  assert.deepEqual(repeated, []);
});

/**
 * Three batches of ten lines buffered with no server; then the server "stores" lines `stored` behind
 * the agent's back (pushes whose answers the agent never committed), and a second agent ships the rest.
 */
async function restartWithStored(job: string, stored: { from: number; count: number }) {
  const env = await setup();
  const base = nowNs() - 60_000_000_000n;
  const total = 30;
  const make = () =>
    new Agent({
      sources: [new CounterSource({ total, perBatch: 10, baseNs: base, labels: { job } })],
      client: clientFor(env.url),
      stateDir: env.stateDir,
      batchMaxWaitMs: 10,
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      stopGraceMs: 200,
      log: () => undefined,
    });
  // No server: all three batches stay buffered.
  const first = make();
  await first.start();
  await until('three batches buffered', () => first.buffer.pending.length === 3);
  await first.stop();
  await env.startServer();
  const values = Array.from({ length: stored.count }, (_, i) => [
    String(base + BigInt(stored.from + i) * 1000n),
    `line ${stored.from + i}`,
  ]);
  const r = await pushJson(env.url, { streams: [{ stream: { job }, values }] });
  assert.equal(r.status, 204, r.text);

  const second = make();
  await second.start();
  await until('everything acknowledged', () => savedNext(second) === total);
  await second.stop();
  const lines = await linesOf(env.url, job, base, base + BigInt(total) * 1000n);
  return { metrics: second.metrics, ...tally(lines, total) };
}

test('after a crash between the ack and the commit, batches the server already stored are not sent again', async () => {
  // The server "stored" the first two batches (lines 0..19) but the agent never committed them.
  const { metrics, missing, repeated } = await restartWithStored('window', { from: 0, count: 20 });
  assert.equal((await metrics.recovered.get()).values[0]!.value, 2, 'two batches recognised');
  assert.equal((await metrics.shippedRecords.get()).values[0]!.value, 10, 'only the third was sent');
  assert.deepEqual(missing, []);
  assert.deepEqual(repeated, []);
});

test('with pushes in flight at a crash, a later batch the server stored is not sent again, an earlier one is', async () => {
  // The second push (lines 10..19) was stored, the first (0..9) was not: both were in flight.
  const { metrics, missing, repeated } = await restartWithStored('inflight', { from: 10, count: 10 });
  assert.equal((await metrics.recovered.get()).values[0]!.value, 1, 'the stored batch recognised');
  assert.equal((await metrics.shippedRecords.get()).values[0]!.value, 20, 'the other two were sent');
  assert.deepEqual(missing, []);
  assert.deepEqual(repeated, []);
});

/**
 * BufferedOutput: retries until a flaky peer recovers (no loss, order kept), a rejected batch in the
 * dead-letter file with its reason, a full buffer drops (counted) without blocking, one output down
 * does not delay another, close flushes within its deadline and leaves the rest for the next start.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { BufferedOutput, type BufferedOutputOptions } from '../../../src/pipeline/outputs/buffered.js';
import { down, MemoryOutput, metricValue, rec, rejected, until } from '../helpers.js';

let root: string;
let n = 0;
const opened: BufferedOutput[] = [];
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kj-buffered-'));
});
after(async () => {
  // Outputs a failed test left open would keep the process alive.
  await Promise.all(opened.map((b) => b.close(100)));
  await rm(root, { recursive: true, force: true });
});

async function open(opts: BufferedOutputOptions): Promise<BufferedOutput> {
  const b = await BufferedOutput.open(opts);
  opened.push(b);
  return b;
}

function options(output: MemoryOutput, over: Partial<BufferedOutputOptions> = {}): BufferedOutputOptions {
  return {
    output,
    dir: join(root, `t${++n}`),
    maxBytes: 1 << 20,
    batch: { maxRecords: 10, maxBytes: 1 << 20, maxWaitMs: 20 },
    retry: { minBackoffMs: 5, maxBackoffMs: 40 },
    registry: new Registry(),
    log: () => undefined,
    ...over,
  };
}

const bodies = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

test('a flaky output: batches are retried until it recovers, nothing lost, order kept', async () => {
  const out = new MemoryOutput('flaky');
  out.fail = (_r, attempt) => (attempt <= 4 ? down() : undefined);
  const logs: string[] = [];
  const opts = options(out, { log: (m) => logs.push(m) });
  const b = await open(opts);
  const want = bodies('r', 25);
  await b.enqueue(want.slice(0, 7).map((x) => rec({}, x)));
  await b.enqueue(want.slice(7).map((x) => rec({}, x)));
  await b.idle();
  assert.deepEqual(out.bodies, want);
  assert.ok(out.batches.every((batch) => batch.length <= 10));
  assert.equal(
    await metricValue(opts.registry, 'kjournal_output_sent_records_total', { output: 'flaky' }),
    25,
  );
  assert.equal(
    await metricValue(opts.registry, 'kjournal_output_failed_sends_total', {
      output: 'flaky',
      retryable: 'true',
    }),
    4,
  );
  assert.equal(await metricValue(opts.registry, 'kjournal_output_buffer_bytes', { output: 'flaky' }), 0);
  assert.ok(logs.some((l) => /send of \d+ records failed \(attempt 1\).*connection refused/.test(l)));
  assert.ok(logs.some((l) => /sent again after 4 failed attempts/.test(l)));
  await b.close();
  assert.equal(out.closed, true);
  await assert.rejects(stat(join(opts.dir, 'flaky.deadletter.ndjson')), { code: 'ENOENT' });
});

test('a rejected batch goes to the dead-letter file with the reason; the others are sent', async () => {
  const out = new MemoryOutput('picky');
  out.fail = (records) => (records.some((r) => r.body === 'bad') ? rejected() : undefined);
  const opts = options(out, { batch: { maxRecords: 2, maxBytes: 1 << 20, maxWaitMs: 10 } });
  const b = await open(opts);
  await b.enqueue(['a', 'b', 'bad', 'c', 'd', 'e'].map((x) => rec({ app: 'x' }, x)));
  await b.idle();
  assert.deepEqual(out.bodies, ['a', 'b', 'd', 'e']);
  const lines = (await readFile(join(opts.dir, 'picky.deadletter.ndjson'), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!);
  assert.equal(first.output, 'picky');
  assert.equal(first.reason, 'peer answered 400: bad record');
  assert.ok(!Number.isNaN(Date.parse(first.time)));
  assert.equal(first.record.body, 'bad');
  assert.equal(typeof first.record.timestamp, 'string');
  assert.deepEqual(first.record.labels, { kind: 'log', class: 'application', app: 'x' });
  assert.equal(JSON.parse(lines[1]!).record.body, 'c');
  assert.equal(
    await metricValue(opts.registry, 'kjournal_output_dead_letter_records_total', { output: 'picky' }),
    2,
  );
  assert.equal(
    await metricValue(opts.registry, 'kjournal_output_failed_sends_total', {
      output: 'picky',
      retryable: 'false',
    }),
    1,
  );
  await b.close();
});

test('a full buffer drops new records, counts them, logs once, and never blocks the caller', async () => {
  const out = new MemoryOutput('full');
  let peerUp = false;
  out.fail = () => (peerUp ? undefined : down());
  const logs: string[] = [];
  const opts = options(out, { maxBytes: 4000, log: (m) => logs.push(m) });
  const b = await open(opts);
  const records = bodies('x', 100).map((x) => rec({}, `${x} ${'.'.repeat(150)}`));
  const t0 = Date.now();
  const done = b.enqueue(records.slice(0, 50));
  b.enqueue(records.slice(50));
  assert.ok(Date.now() - t0 < 200, 'enqueue returned at once');
  await done;
  const dropped = await metricValue(opts.registry, 'kjournal_output_dropped_records_total', {
    output: 'full',
    reason: 'buffer_full',
  });
  const kept = 100 - dropped;
  assert.ok(kept > 5 && kept < 30, `kept ${kept}`);
  assert.ok(b.bufferedBytes <= 4000);
  assert.equal(logs.filter((l) => /buffer full/.test(l)).length, 1);
  peerUp = true;
  await b.idle();
  assert.deepEqual(
    out.bodies,
    records.slice(0, kept).map((r) => r.body),
  );
  // Room again: taken again, and the log says how many were dropped.
  await b.enqueue([rec({}, 'after')]);
  await b.idle();
  assert.equal(out.bodies.at(-1), 'after');
  assert.ok(
    logs.some((l) => l.includes(`has room again; ${dropped} records were dropped`)),
    logs.join('\n'),
  );
  await b.close();
});

test('one output down does not delay another', async () => {
  const hung = new MemoryOutput('hung');
  hung.delayMs = 60_000; // a peer that never answers
  const fine = new MemoryOutput('fine');
  const registry = new Registry();
  const a = await open(options(hung, { registry, sendTimeoutMs: 30_000 }));
  const b = await open(options(fine, { registry }));
  const t0 = Date.now();
  for (let i = 0; i < 5; i++) {
    const batch = bodies(`b${i}-`, 3).map((x) => rec({}, x));
    a.enqueue(batch);
    b.enqueue(batch);
  }
  await b.idle(5000);
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(fine.bodies.length, 15);
  assert.equal(hung.batches.length, 0);
  await b.close();
  const t1 = Date.now();
  await a.close(200);
  assert.ok(Date.now() - t1 < 2000, 'close keeps its deadline with a hung peer');
});

test('close sends what waits (not waiting out maxWait); what it cannot send is sent at the next start', async () => {
  const out = new MemoryOutput('late');
  const opts = options(out, { batch: { maxRecords: 1000, maxBytes: 1 << 20, maxWaitMs: 60_000 } });
  const b = await open(opts);
  b.enqueue(bodies('c', 5).map((x) => rec({}, x)));
  const t0 = Date.now();
  await b.close(5000);
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(out.bodies, bodies('c', 5));

  const downOut = new MemoryOutput('late');
  downOut.fail = () => down();
  const b2 = await open({ ...opts, output: downOut });
  await b2.enqueue(bodies('d', 4).map((x) => rec({}, x)));
  await b2.close(100);
  assert.ok(downOut.attempts > 0);
  b2.enqueue([rec({}, 'after close')]); // dropped: closed
  assert.equal(
    await metricValue(opts.registry, 'kjournal_output_dropped_records_total', {
      output: 'late',
      reason: 'closed',
    }),
    1,
  );

  const upOut = new MemoryOutput('late');
  const b3 = await open({ ...opts, output: upOut, registry: new Registry() });
  await until(() => upOut.bodies.length === 4, 5000, 'the leftovers');
  assert.deepEqual(upOut.bodies, bodies('d', 4));
  await b3.close();
});

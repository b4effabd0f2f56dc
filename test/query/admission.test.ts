/**
 * Query admission: the concurrency limit, the per-tenant queue and its bound, round-robin across
 * tenants, deadlines that pass in the queue, and DuckDB's out-of-memory error made clear.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lokiErrorReply } from '../../src/api/loki/errors.js';
import {
  defaultMaxConcurrentQueries,
  QueryAdmission,
  QueryMemoryLimitError,
  TooManyOutstandingQueriesError,
} from '../../src/query/admission.js';
import { StoreMemoryError } from '../../src/store/store.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('QueryAdmission', () => {
  test('runs at most maxConcurrent at once; the others wait and run in order', async () => {
    const a = new QueryAdmission({ maxConcurrent: 2, maxQueued: 10 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const jobs = Array.from({ length: 6 }, (_, i) =>
      a.run('t', undefined, async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise<void>((r) => gates.push(r));
        running--;
        return i;
      }),
    );
    await tick();
    assert.equal(a.running, 2);
    assert.equal(a.queued, 4);
    while (gates.length > 0 || order.length < 6) {
      gates.shift()?.();
      await tick();
    }
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3, 4, 5]);
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.equal(a.running, 0);
    assert.equal(a.queued, 0);
  });

  test('a full tenant queue refuses at once with Retry-After; other tenants still queue', async () => {
    const a = new QueryAdmission({ maxConcurrent: 1, maxQueued: 2 });
    const hold = await a.acquire('t');
    const queued = [a.acquire('t'), a.acquire('t')];
    await assert.rejects(a.acquire('t'), (err: unknown) => {
      assert.ok(err instanceof TooManyOutstandingQueriesError);
      assert.equal(err.message, 'too many outstanding requests');
      assert.ok(err.retryAfterSeconds >= 1);
      return true;
    });
    const other = a.acquire('u');
    assert.equal(a.queued, 3);
    assert.equal(a.rejected, 1);
    const admitted: string[] = [];
    void queued[0]!.then(() => admitted.push('t1'));
    void queued[1]!.then(() => admitted.push('t2'));
    void other.then(() => admitted.push('u1'));
    hold();
    await tick();
    (await queued[0]!)();
    await tick();
    // Round-robin across tenants: u's query before t's second.
    assert.deepEqual(admitted, ['t1', 'u1']);
    (await other)();
    await tick();
    (await queued[1]!)();
    assert.deepEqual(admitted, ['t1', 'u1', 't2']);
    assert.equal(a.running, 0);
  });

  test('a deadline that passes in the queue is a 429 (it never ran), and leaves the queue', async () => {
    const a = new QueryAdmission({ maxConcurrent: 1, maxQueued: 5 });
    const hold = await a.acquire('t');
    const controller = new AbortController();
    const waiting = a.acquire('t', controller.signal);
    controller.abort(new DOMException('timeout', 'TimeoutError'));
    await assert.rejects(waiting, TooManyOutstandingQueriesError);
    assert.equal(a.queued, 0);
    assert.equal(a.expired, 1);
    hold();
    hold(); // a second release is ignored
    assert.equal(a.running, 0);
    // An already passed deadline is the deadline's own error (504), not a queue refusal.
    await assert.rejects(a.acquire('t', AbortSignal.abort(new Error('gone'))), /gone/);
  });

  test("the store's memory error becomes a 503 that names the limit, other errors pass", async () => {
    const a = new QueryAdmission({ maxConcurrent: 1, maxQueued: 0, memoryLimit: '16MiB' });
    const oom = new StoreMemoryError(
      'Out of Memory Error: could not allocate block of size 4.0 MiB (15.7 MiB/16.0 MiB used)',
    );
    const err = await a.run('t', undefined, () => Promise.reject(oom)).catch((e: unknown) => e);
    assert.ok(err instanceof QueryMemoryLimitError);
    const reply = lokiErrorReply(err);
    assert.equal(reply.status, 503);
    assert.match(String(reply.body), /needs more memory than --query-memory-limit \(16MiB\)/);
    assert.match(String(reply.body), /could not allocate block/);
    await assert.rejects(
      a.run('t', undefined, () => Promise.reject(new Error('other'))),
      /^Error: other$/,
    );
    assert.equal(a.running, 0);
  });

  test('a 429 from the queue carries Retry-After on the Loki API', () => {
    const reply = lokiErrorReply(new TooManyOutstandingQueriesError(3));
    assert.equal(reply.status, 429);
    assert.equal(reply.headers?.['retry-after'], '3');
    assert.equal(reply.body, 'too many outstanding requests\n');
  });

  test('the default concurrency: one per CPU, at most one per 32 MiB of query memory, at least one', () => {
    assert.equal(defaultMaxConcurrentQueries(192 << 20, 2), 2);
    assert.equal(defaultMaxConcurrentQueries(192 << 20, 64), 6);
    assert.equal(defaultMaxConcurrentQueries(16 << 20, 8), 1);
  });
});

/**
 * The embedded appender at one timestamp (src/store/dedupe.ts Top): entries at a stream's greatest
 * time are decided without a lookup in the store (the cause of 200,000 lines at one second storing
 * at 2.5k lines/s: a lookup per append over ever more rows), and a failed write never leaves a line
 * believed stored: sent again, alone or by a concurrent append, it is stored.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { LogRecord } from '../../../src/model/record.js';
import { entryKey, StreamHeads } from '../../../src/store/dedupe.js';
import { Appender } from '../../../src/store/duckdb/appender.js';
import { StreamCatalog } from '../../../src/store/duckdb/catalog.js';
import type { WriteAheadLog } from '../../../src/store/duckdb/wal/wal.js';
import { rec } from '../contract.js';

const T = 1_800_000_000_000_000_000n;

const lines = (from: number, n: number, ts = T): LogRecord[] =>
  Array.from({ length: n }, (_, i) => rec({ app: 'same-second' }, ts, `line ${from + i}`));

/**
 * An appender over a log whose writes the test decides (`next`: how the next write ends) and a
 * store whose lookups answer from what was durably written, counted.
 */
async function withAppender(
  fn: (a: {
    appender: Appender;
    lookups: () => number;
    stored: () => number;
    /** The next write waits for this and fails if it rejects. */
    next: (outcome: Promise<void>) => void;
  }) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-appender-'));
  try {
    const catalog = new StreamCatalog(join(dir, 'catalog.ndjson'));
    await catalog.open();
    const durable = new Set<string>();
    let lookups = 0;
    const outcomes: Promise<void>[] = [];
    const wal = {
      append: () => outcomes.shift() ?? Promise.resolve(),
      activeInfo: undefined,
    } as unknown as WriteAheadLog;
    const appender = new Appender({
      catalog,
      wal,
      heads: new StreamHeads(),
      segmentBytes: 1 << 30,
      onSegmentFull: () => {},
      onDurable: (ti, result) => {
        for (const r of result.stored) {
          const key = entryKey(catalog.ensureStream(ti, r.labels).id, r.timestamp, r.body);
          assert.ok(!durable.has(key), `stored twice: ${r.body}`);
          durable.add(key);
        }
      },
      storedKeys: async (_ti, streams, times) => {
        lookups++;
        const found = new Set<string>();
        for (const key of durable) {
          const [s, ts] = key.split('\u0000');
          if (streams.includes(Number(s)) && times.includes(BigInt(ts!))) found.add(key);
        }
        return found;
      },
    });
    await fn({ appender, lookups: () => lookups, stored: () => durable.size, next: (o) => outcomes.push(o) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('appender: appends at one timestamp, and their retries, are decided without lookups', () =>
  withAppender(async ({ appender, lookups, stored }) => {
    for (let b = 0; b < 50; b++) {
      const r = await appender.append(0, lines(b * 100, 100));
      assert.equal(r.stored.length, 100);
    }
    assert.equal(lookups(), 0, 'no lookup for entries at the stream greatest time');
    // A retry of the latest batch: duplicates known at once.
    assert.equal((await appender.append(0, lines(4900, 100))).duplicates, 100);
    assert.equal(lookups(), 0);
    // Of an early one (beyond the newest lines kept exactly, kept as hashes): looked up.
    assert.equal((await appender.append(0, lines(0, 100))).duplicates, 100);
    assert.equal(lookups(), 1);
    // New lines are still decided without a lookup.
    assert.equal((await appender.append(0, lines(5000, 100))).stored.length, 100);
    assert.equal(lookups(), 1);
    assert.equal(stored(), 5100);
    // Before every stored time (outside the stream's interval): new without a lookup, as before;
    // and again, now inside it: looked up.
    assert.equal((await appender.append(0, lines(0, 10, T - 1n))).stored.length, 10);
    assert.equal(lookups(), 1);
    assert.equal((await appender.append(0, lines(0, 10, T - 1n))).duplicates, 10);
    assert.equal(lookups(), 2);
  }));

test('appender: a failed write leaves no line believed stored; sent again, it is stored', () =>
  withAppender(async ({ appender, lookups, stored, next }) => {
    await appender.append(0, lines(0, 100));
    next(Promise.reject(new Error('disk full')));
    await assert.rejects(appender.append(0, lines(100, 100)), /disk full/);
    const again = await appender.append(0, lines(100, 100));
    assert.equal(again.stored.length, 100, 'nothing of the failed append is dropped');
    assert.ok(lookups() >= 1, 'the set is unknown after the failure: looked up');
    // What was stored before the failure is still found (by lookup).
    assert.equal((await appender.append(0, lines(0, 100))).duplicates, 100);
    assert.equal(stored(), 200);
    // The time moves forward: decided without lookups again.
    const before = lookups();
    await appender.append(0, lines(0, 100, T + 1n));
    assert.equal((await appender.append(0, lines(0, 100, T + 1n))).duplicates, 100);
    assert.equal(lookups(), before);
  }));

test('appender: two appends of the same lines at once store them once; if the first fails, the second stores them', () =>
  withAppender(async ({ appender, stored, next }) => {
    await appender.append(0, lines(0, 10));
    // Both succeed: the second waits for the first's write, then finds its lines.
    let release!: () => void;
    next(new Promise<void>((resolve) => (release = resolve)));
    const a = appender.append(0, lines(10, 100));
    const b = appender.append(0, lines(10, 100));
    release();
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.stored.length, 100);
    assert.equal(rb.duplicates, 100);
    // The first fails while the second waits: the second stores them, none is lost.
    let fail!: (err: Error) => void;
    next(new Promise<void>((_, reject) => (fail = reject)));
    const c = appender.append(0, lines(200, 100));
    const d = appender.append(0, lines(200, 100));
    fail(new Error('disk full'));
    await assert.rejects(c, /disk full/);
    assert.equal((await d).stored.length, 100);
    assert.equal(stored(), 210);
  }));

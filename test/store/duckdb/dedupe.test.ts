/**
 * Identical entries (stream, timestamp, line) are stored once, whichever way they come again: a
 * retried append, the same append twice at once, after a restart, after conversion, out of order.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StreamHeads, Verdict } from '../../../src/store/dedupe.js';
import { DuckDbStore } from '../../../src/store/duckdb/duckdb-store.js';
import { collect, rec } from '../contract.js';

const T = 1_800_000_000_000_000_000n;

async function withStore(fn: (open: () => Promise<DuckDbStore>) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-dedupe-'));
  const opened: DuckDbStore[] = [];
  try {
    await fn(async () => {
      const s = new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000, sealAfterMs: 3_600_000 });
      await s.open();
      opened.push(s);
      return s;
    });
  } finally {
    for (const s of opened) await s.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const batch = (from: number, n: number, app = 'a') =>
  Array.from({ length: n }, (_, i) => rec({ app }, T + BigInt(from + i) * 1000n, `line ${from + i}`));

const bodies = async (s: DuckDbStore) => (await collect(s, { tenant: 't' })).map((e) => e.body);

test('dedupe: the same append twice stores it once, and says how many were duplicates', () =>
  withStore(async (open) => {
    const s = await open();
    const first = await s.append('t', batch(0, 100));
    assert.equal(first?.stored.length, 100);
    assert.equal(first?.duplicates, 0);
    const again = await s.append('t', batch(0, 100));
    assert.equal(again?.stored.length, 0);
    assert.equal(again?.duplicates, 100);
    // Half old, half new.
    const mixed = await s.append('t', batch(50, 100));
    assert.equal(mixed?.stored.length, 50);
    assert.equal(mixed?.duplicates, 50);
    assert.deepEqual(
      mixed?.stored.map((r) => r.body),
      batch(100, 50).map((r) => r.body),
    );
    assert.equal((await bodies(s)).length, 150);
  }));

test('dedupe: concurrent appends of the same entries store them once', () =>
  withStore(async (open) => {
    const s = await open();
    await s.append('t', batch(0, 10));
    const results = await Promise.all(Array.from({ length: 8 }, () => s.append('t', batch(5, 200))));
    const stored = results.reduce((n, r) => n + (r?.stored.length ?? 0), 0);
    assert.equal(stored, 195, 'each new entry stored by exactly one append');
    const got = await bodies(s);
    assert.equal(got.length, 205);
    assert.equal(new Set(got).size, 205);
  }));

test('dedupe: equal lines at different times, and different lines at the same time, are all kept', () =>
  withStore(async (open) => {
    const s = await open();
    await s.append('t', [
      rec({ app: 'a' }, T, 'same'),
      rec({ app: 'a' }, T + 1n, 'same'),
      rec({ app: 'a' }, T + 1n, 'other'),
      rec({ app: 'b' }, T + 1n, 'other'),
    ]);
    const r = await s.append('t', [rec({ app: 'a' }, T + 1n, 'third'), rec({ app: 'a' }, T + 1n, 'other')]);
    assert.equal(r?.stored.length, 1);
    assert.deepEqual(await bodies(s), ['same', 'same', 'other', 'other', 'third']);
  }));

test('dedupe: out-of-order entries that are new are stored; a repeat inside one append is dropped', () =>
  withStore(async (open) => {
    const s = await open();
    await s.append('t', batch(100, 10));
    const older = await s.append('t', batch(0, 10));
    assert.equal(older?.stored.length, 10, 'older but new');
    const between = await s.append('t', [
      rec({ app: 'a' }, T + 50_000n, 'in a gap'),
      rec({ app: 'a' }, T + 50_000n, 'in a gap'),
      rec({ app: 'a' }, T + 3000n, 'line 3'),
    ]);
    assert.equal(between?.stored.length, 1);
    assert.equal(between?.duplicates, 2);
    assert.equal((await bodies(s)).length, 21);
  }));

test('dedupe: after a restart and after conversion, a re-sent batch is still found', () =>
  withStore(async (open) => {
    let s = await open();
    await s.append('t', batch(0, 100));
    await s.close();
    s = await open(); // from the log
    assert.equal((await s.append('t', batch(90, 20)))?.stored.length, 10);
    await s.settle();
    await s.close();
    s = await open(); // from the parts and the state file
    assert.equal((await s.append('t', batch(0, 110)))?.stored.length, 0);
    assert.equal((await s.append('t', batch(0, 120)))?.stored.length, 10);
    assert.equal((await bodies(s)).length, 120);
  }));

test('dedupe heads: intervals cover what was appended; only entries inside them are checked', () => {
  const h = new StreamHeads();
  h.cover(1, 100n, 200n);
  assert.equal(h.verdict(1, 201n), Verdict.New);
  assert.equal(h.verdict(1, 99n), Verdict.New);
  assert.equal(h.verdict(1, 150n), Verdict.Check);
  assert.equal(h.verdict(2, 150n), Verdict.New, 'another stream');
  h.cover(1, 300n, 400n);
  assert.equal(h.verdict(1, 250n), Verdict.New, 'a gap between pushes');
  for (let i = 0; i < 10; i++) h.cover(1, 1000n + BigInt(i) * 100n, 1010n + BigInt(i) * 100n);
  // Merged to a few intervals: wider, never narrower.
  for (const ts of [100n, 200n, 300n, 400n, 1000n, 1905n, 1910n])
    assert.equal(h.verdict(1, ts), Verdict.Check);
  h.load(3, 500n);
  assert.equal(h.verdict(3, 0n), Verdict.Check, 'everything on disk is at or before its greatest time');
  assert.equal(h.verdict(3, 501n), Verdict.New);
  assert.deepEqual(h.snapshot(), { 1: '1910', 3: '500' });
});

test('dedupe: repeats anywhere in one append are dropped without a lookup, in and out of time order', () =>
  withStore(async (open) => {
    const s = await open();
    const r = await s.append('t', [
      rec({ app: 'a' }, T + 1n, 'one'),
      rec({ app: 'a' }, T + 2n, 'two'),
      rec({ app: 'a' }, T + 2n, 'two, again at the same time'),
      rec({ app: 'a' }, T + 2n, 'two'),
      rec({ app: 'a' }, T + 1n, 'one'),
      rec({ app: 'a' }, T + 3n, 'three'),
      rec({ app: 'a' }, T + 1n, 'one'),
      rec({ app: 'b' }, T + 1n, 'one'),
    ]);
    assert.equal(r?.duplicates, 3);
    assert.deepEqual(
      r?.stored.map((e) => e.body),
      ['one', 'two', 'two, again at the same time', 'three', 'one'],
    );
    assert.equal((await bodies(s)).length, 5);
  }));

/**
 * minePatterns over a real store: Loki's counting (10 s resolution, steps aligned on the epoch,
 * [start, end) on the truncated times), merging across streams, pruning (30 lines, 300 patterns,
 * most frequent first), and kjournal's bounds (lines and patterns), which fail the query rather
 * than answer from part of the range.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LogRecord } from '../../../src/model/record.js';
import {
  MAX_PATTERNS,
  minePatterns,
  PatternLimitError,
  type PatternLimits,
  type PatternQuery,
} from '../../../src/query/patterns/mine.js';
import type { Store } from '../../../src/store/store.js';
import { describeEachStore } from '../../store/factories.js';
import { m, rec, SEC, tempStore } from '../helpers.js';

/** A minute boundary (so 10 s and 60 s steps align on it), in nanoseconds. */
const T0 = 1_700_000_040n * SEC;
const LIMITS: PatternLimits = { maxLines: 100_000, maxClusters: 10_000 };

function query(tenant: string, extra: Partial<PatternQuery> = {}): PatternQuery {
  return { tenant, matchers: [m('app', 'web')], start: T0, end: T0 + 600n * SEC, stepMs: 60_000, ...extra };
}

/** Letters only, so that templates differ by a token the miner keeps. */
function word(i: number): string {
  const a = 'abcdefghijklmn';
  return `${a[i % 14]}${a[Math.floor(i / 14) % 14]}${a[Math.floor(i / 196) % 14]}`;
}

describeEachStore('minePatterns', (factory) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ store, cleanup } = await tempStore(factory));
    const web = { app: 'web', pod: 'a' };
    const recs: LogRecord[] = [];
    // 40 logins, one every 7 s from T0 + 3 s, in pod a.
    for (let i = 0; i < 40; i++)
      recs.push(rec(web, T0 + BigInt(3 + 7 * i) * SEC, `user ${i} logged in from 10.0.0.${i}`));
    // 29 of a rare kind: under Loki's 30, left out.
    for (let i = 0; i < 29; i++)
      recs.push(rec(web, T0 + BigInt(5 + 10 * i) * SEC, `cache miss for key k${i} now`));
    // 20 + 20 of one kind in two pods: 40 once merged.
    for (let i = 0; i < 20; i++) {
      recs.push(rec(web, T0 + BigInt(1 + 10 * i) * SEC, `request ${i} took ${i}ms ok`));
      recs.push(rec({ app: 'web', pod: 'b' }, T0 + BigInt(2 + 10 * i) * SEC, `request ${i} took ${i}ms ok`));
    }
    await store.append('t1', recs);
    // Tenant t2: 301 patterns of 30 lines each, in two streams (Loki keeps 300 per stream).
    const many: LogRecord[] = [];
    for (let p = 0; p < 301; p++) {
      const pod = p < 150 ? 'x' : 'y';
      // Pattern p has 30 + (p % 7) lines: totals differ, so the order is by count.
      for (let k = 0; k < 30 + (p % 7); k++)
        many.push(
          rec(
            { app: 'web', pod },
            T0 + BigInt(k) * SEC,
            `${word(p)} ${word(p + 1)} ${word(p + 2)} done ${p * 100 + k}`,
          ),
        );
    }
    many.sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
    await store.append('t2', many);
  });
  after(async () => cleanup());

  test('templates with their lines per step; rare ones left out; streams merged', async () => {
    const { patterns, linesRead } = await minePatterns(store, query('t1'), LIMITS);
    assert.equal(linesRead, 109);
    const byPattern = Object.fromEntries(patterns.map((p) => [p.pattern, p.samples]));
    assert.deepEqual(Object.keys(byPattern).sort(), [
      'request <_> took <_> ok',
      'user <_> logged in from <_>',
    ]);
    // Logins at T0+3, +10, +17, ...: per minute, counted at the 10 s mark they fall in.
    const t0 = Number(T0 / SEC);
    const logins = byPattern['user <_> logged in from <_>']!;
    assert.deepEqual(
      logins.map(([t]) => t),
      [t0, t0 + 60, t0 + 120, t0 + 180, t0 + 240],
    );
    assert.equal(
      logins.reduce((n, [, c]) => n + c, 0),
      40,
    );
    assert.deepEqual(logins[0], [t0, 9]); // 3, 10, ..., 59
    const requests = byPattern['request <_> took <_> ok']!;
    assert.equal(
      requests.reduce((n, [, c]) => n + c, 0),
      40,
    );
    // Most frequent first (equal totals: by text).
    assert.deepEqual(
      patterns.map((p) => p.pattern),
      ['request <_> took <_> ok', 'user <_> logged in from <_>'],
    );
  });

  test("steps: at least 10 s; a line counts at its 10 s mark, then the step's", async () => {
    const t0 = Number(T0 / SEC);
    const small = await minePatterns(store, query('t1', { stepMs: 1000 }), LIMITS);
    const logins = small.patterns.find((p) => p.pattern.startsWith('user'))!.samples;
    // 10 s resolution: T0+3 -> T0, T0+10 -> T0+10, T0+17 -> T0+10, T0+24 -> T0+20, ...
    assert.deepEqual(logins.slice(0, 3), [
      [t0, 1],
      [t0 + 10, 2],
      [t0 + 20, 1],
    ]);
    // A 15 s step over the 10 s marks: the login at T0+45 s has its mark at T0+40 s, so it counts
    // in the step at T0+30 s (with those at +31 and +38), not in the one at T0+45 s (+52 and +59).
    const odd = await minePatterns(store, query('t1', { stepMs: 15_000 }), LIMITS);
    const samples = odd.patterns.find((p) => p.pattern.startsWith('user'))!.samples;
    assert.deepEqual(
      samples.slice(0, 4).map(([t, n]) => [t - t0, n]),
      [
        [0, 3],
        [15, 1],
        [30, 3],
        [45, 2],
      ],
    );
  });

  test('the range is [start, end) on the 10 s marks, in milliseconds', async () => {
    // From T0 + 5 s: the login at T0 + 3 s is not read; the one at T0 + 10 s is.
    const later = await minePatterns(store, query('t1', { start: T0 + 5n * SEC, stepMs: 10_000 }), LIMITS);
    const t0 = Number(T0 / SEC);
    const first = later.patterns.find((p) => p.pattern.startsWith('user'))!.samples[0];
    assert.deepEqual(first, [t0 + 10, 2]);
    // From T0 + 12 s: the login at T0 + 17 s is read but its mark, T0 + 10 s, is before the start.
    const mid = await minePatterns(store, query('t1', { start: T0 + 12n * SEC, stepMs: 10_000 }), LIMITS);
    assert.deepEqual(mid.patterns.find((p) => p.pattern.startsWith('user'))?.samples[0], [t0 + 20, 1]);
  });

  test('at most 300 patterns, the most frequent first', async () => {
    const { patterns } = await minePatterns(store, query('t2'), LIMITS);
    assert.equal(patterns.length, MAX_PATTERNS);
    const totals = patterns.map((p) => p.samples.reduce((n, [, c]) => n + c, 0));
    for (let i = 1; i < totals.length; i++) assert.ok(totals[i - 1]! >= totals[i]!);
    assert.equal(totals[0], 36);
    assert.equal(totals.at(-1), 30);
  });

  test('more lines than maxLines: refused before mining', async () => {
    await assert.rejects(
      minePatterns(store, query('t1'), { ...LIMITS, maxLines: 108 }),
      (err: unknown) => err instanceof PatternLimitError && /at most 108 lines/.test(err.message),
    );
    const ok = await minePatterns(store, query('t1'), { ...LIMITS, maxLines: 109 });
    assert.equal(ok.linesRead, 109);
  });

  test('more patterns at once than maxClusters: refused', async () => {
    await assert.rejects(
      minePatterns(store, query('t2'), { ...LIMITS, maxClusters: 100 }),
      (err: unknown) => err instanceof PatternLimitError && /at most 100 patterns/.test(err.message),
    );
  });

  test('a cancelled query stops', async () => {
    const signal = AbortSignal.abort(new Error('gone'));
    await assert.rejects(minePatterns(store, query('t2', { signal }), LIMITS));
  });
});

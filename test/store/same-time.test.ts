/**
 * Many entries of one stream at one timestamp (whole-second senders: fluent-logger, RFC 3164
 * syslog), over many appends, on every backend: each stored once, an equal one dropped, also when
 * sent twice at once and after a reopen (src/store/dedupe.ts keeps the lines at a stream's
 * greatest time).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LogRecord } from '../../src/model/record.js';
import { collect, rec } from './contract.js';
import { describeEachStore, type TestStore } from './factories.js';

const T = 1_800_000_000_000_000_000n;

const lines = (from: number, n: number, ts = T): LogRecord[] =>
  Array.from({ length: n }, (_, i) => rec({ app: 'same-second' }, ts, `line ${from + i}`));

describeEachStore('entries at one timestamp', (factory) => {
  let t: TestStore;
  before(async () => {
    t = await factory.create();
  });
  after(() => t.cleanup());

  const count = async (ts = T) => (await collect(t.store, { tenant: 't', start: ts, end: ts + 1n })).length;

  test('many appends at one timestamp are each stored once; equal entries are dropped', async () => {
    for (let b = 0; b < 20; b++) {
      const r = await t.store.append('t', lines(b * 100, 100));
      assert.equal(r.stored.length, 100, `append ${b}`);
      assert.equal(r.duplicates, 0);
    }
    // Sent again (a retry): all duplicates, an early batch and the latest.
    const early = await t.store.append('t', lines(0, 100));
    assert.equal(early.stored.length, 0);
    assert.equal(early.duplicates, 100);
    const late = await t.store.append('t', lines(1900, 100));
    assert.equal(late.duplicates, 100);
    // Half old, half new.
    const mixed = await t.store.append('t', lines(1950, 100));
    assert.equal(mixed.stored.length, 50);
    assert.equal(mixed.duplicates, 50);
    assert.deepEqual(
      mixed.stored.map((r) => r.body),
      lines(2000, 50).map((r) => r.body),
    );
    assert.equal(await count(), 2050);
  });

  test('the same entries at that timestamp appended twice at once are stored once', async () => {
    const batch = lines(3000, 200);
    const [a, b] = await Promise.all([t.store.append('t', batch), t.store.append('t', batch)]);
    assert.equal(a.stored.length + b.stored.length, 200);
    assert.equal(a.duplicates + b.duplicates, 200);
    // And, overlapping, with some new lines each.
    const [c, d] = await Promise.all([
      t.store.append('t', lines(3200, 200)),
      t.store.append('t', lines(3300, 200)),
    ]);
    assert.equal(c.stored.length + d.stored.length, 300);
    assert.equal(await count(), 2050 + 200 + 300);
  });

  test('after a reopen, equal entries at that timestamp are still dropped and new ones stored', async () => {
    await t.reopen();
    const again = await t.store.append('t', lines(1000, 100));
    assert.equal(again.duplicates, 100);
    const next = await t.store.append('t', lines(5000, 100));
    assert.equal(next.stored.length, 100);
    const retry = await t.store.append('t', lines(5000, 100));
    assert.equal(retry.duplicates, 100);
    assert.equal(await count(), 2550 + 100);
    // The time moves forward: known again, and the old time still de-duplicated.
    const later = await t.store.append('t', lines(0, 100, T + 1_000_000_000n));
    assert.equal(later.stored.length, 100);
    assert.equal((await t.store.append('t', lines(0, 100, T + 1_000_000_000n))).duplicates, 100);
    assert.equal((await t.store.append('t', lines(0, 100))).duplicates, 100);
    assert.equal(await count(), 2650);
  });
});

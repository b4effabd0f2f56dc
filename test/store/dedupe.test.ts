/**
 * The lines kept at a stream's greatest time (src/store/dedupe.ts Top): an entry at that time is
 * decided without a lookup only while the set is known complete; a line counts as stored only once
 * its append is durable; a failed append, a start, another server's append at that time, a
 * deletion or the bounds make the set unknown (lookups), never a line wrongly believed stored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newDeletion, StreamHeads, topVerdict, Verdict } from '../../src/store/dedupe.js';

const T = 1_800_000_000_000_000_000n;

/** What an entry of stream 1 at `ts` gets, taking it as an append would when new. */
function classify(heads: StreamHeads, ts: bigint, body: string): Verdict {
  return heads.verdict(1, ts, body);
}

test('dedupe heads: lines at the greatest time are pending until durable, then duplicates; others new', () => {
  const heads = new StreamHeads();
  heads.known(1);
  const a = heads.claims();
  heads.advance(1, T - 10n, T, ['one', 'two'], a);
  // Being written: an equal entry is looked up (after that write), never dropped at once.
  assert.equal(classify(heads, T, 'one'), Verdict.Check);
  assert.equal(classify(heads, T, 'three'), Verdict.New);
  a.stored();
  assert.equal(classify(heads, T, 'one'), Verdict.Duplicate);
  assert.equal(classify(heads, T, 'two'), Verdict.Duplicate);
  assert.equal(classify(heads, T, 'three'), Verdict.New);
  // A later append at the same time takes its new lines into the same set.
  const b = heads.claims();
  heads.take(heads.top(1)!, 'three', b);
  heads.advance(1, T, T, [], b);
  assert.equal(classify(heads, T, 'three'), Verdict.Check);
  b.stored();
  assert.equal(classify(heads, T, 'three'), Verdict.Duplicate);
  // Before the greatest time: inside the interval, looked up as before; after it: new.
  assert.equal(classify(heads, T - 1n, 'one'), Verdict.Check);
  assert.equal(classify(heads, T + 1n, 'one'), Verdict.New);
  // The time moves forward: the new time's set is this append's lines, the old one's is gone.
  const c = heads.claims();
  heads.advance(1, T + 5n, T + 5n, ['four'], c);
  c.stored();
  assert.equal(classify(heads, T + 5n, 'four'), Verdict.Duplicate);
  assert.equal(classify(heads, T + 5n, 'one'), Verdict.New);
  assert.equal(classify(heads, T, 'one'), Verdict.Check);
});

test('dedupe heads: a failed append makes the set unknown, so its lines are looked up, not dropped', () => {
  const heads = new StreamHeads();
  heads.known(1);
  const ok = heads.claims();
  heads.advance(1, T, T, ['one'], ok);
  ok.stored();
  const failing = heads.claims();
  heads.take(heads.top(1)!, 'two', failing);
  failing.failed();
  assert.equal(classify(heads, T, 'two'), Verdict.Check);
  assert.equal(classify(heads, T, 'one'), Verdict.Check, 'the whole set is unknown');
  assert.equal(classify(heads, T, 'new'), Verdict.Check);
  // Settling the other claims later changes nothing.
  ok.stored();
  assert.equal(classify(heads, T, 'one'), Verdict.Check);
  // Known again once the time moves forward.
  const next = heads.claims();
  heads.advance(1, T + 1n, T + 1n, ['x'], next);
  next.stored();
  assert.equal(classify(heads, T + 1n, 'x'), Verdict.Duplicate);
  assert.equal(classify(heads, T + 1n, 'y'), Verdict.New);
});

test('dedupe heads: after a load, or another server appending at that time, the set is unknown', () => {
  const heads = new StreamHeads();
  heads.load(1, T);
  assert.equal(classify(heads, T, 'anything'), Verdict.Check);
  const a = heads.claims();
  heads.advance(1, T, T, ['one'], a);
  a.stored();
  assert.equal(classify(heads, T, 'one'), Verdict.Check, 'what was on disk at T is not known');
  const b = heads.claims();
  heads.advance(1, T + 1n, T + 1n, ['two'], b);
  b.stored();
  assert.equal(classify(heads, T + 1n, 'two'), Verdict.Duplicate);
  // Another server's append reaching that time.
  heads.cover(1, T, T + 1n);
  assert.equal(classify(heads, T + 1n, 'two'), Verdict.Check);
  assert.equal(classify(heads, T + 1n, 'three'), Verdict.Check);
  // Another server's append past it: the new greatest time is unknown too.
  heads.cover(1, T + 2n, T + 9n);
  assert.equal(classify(heads, T + 9n, 'three'), Verdict.Check);
  assert.equal(heads.snapshot()['1'], String(T + 9n));
});

test('dedupe heads: a deletion forgets every set', () => {
  const heads = new StreamHeads();
  heads.known(1);
  const a = heads.claims();
  heads.advance(1, T, T, ['one'], a);
  a.stored();
  heads.forgetLines();
  assert.equal(classify(heads, T, 'one'), Verdict.Check);
  assert.equal(newDeletion([{ id: 'a' }], [{ id: 'a' }]), false);
  assert.equal(newDeletion([{ id: 'a' }], []), false);
  assert.equal(newDeletion([{ id: 'a' }], [{ id: 'a' }, { id: 'b' }]), true);
});

test('dedupe heads: beyond the exact lines, hashes keep entries new without a lookup; beyond the budget, lookups', () => {
  const heads = new StreamHeads();
  heads.known(1);
  const a = heads.claims();
  const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
  heads.advance(1, T, T, lines, a);
  a.stored();
  const top = heads.top(1)!;
  assert.ok(top.lines !== undefined && top.lines.size < lines.length, 'some lines are kept as hashes');
  assert.ok(top.hashes !== undefined && top.hashes.size > 0);
  // The newest kept exactly: a duplicate; older ones kept as hashes: looked up; never kept: new.
  assert.equal(topVerdict(top, 'line 19999'), Verdict.Duplicate);
  assert.equal(topVerdict(top, 'line 0'), Verdict.Check);
  let fresh = 0;
  for (let i = 0; i < 1000; i++) if (topVerdict(top, `other ${i}`) === Verdict.New) fresh++;
  assert.ok(fresh >= 990, `new lines decided without lookups: ${fresh}/1000`);

  // A small budget for all streams: past it the growing set is unknown, and its memory released.
  const small = new StreamHeads(100_000);
  small.known(1);
  const b = small.claims();
  small.advance(1, T, T, lines, b);
  b.stored();
  assert.equal(small.top(1)!.lines, undefined);
  assert.equal(small.top(1)!.bytes, 0);
  assert.equal(small.verdict(1, T, 'line 19999'), Verdict.Check);
  assert.equal(small.verdict(1, T, 'never seen'), Verdict.Check);
});

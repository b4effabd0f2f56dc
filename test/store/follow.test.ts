/**
 * feedTails: the adapter that feeds a tail hub from Store.watchAppends. Its announcements come
 * from a stub store here, so that runs of non-consecutive sequence numbers (a shared backend's
 * poll batch) can be made.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { feedTails, followAppends } from '../../src/store/follow.js';
import type { AppendedEntries, Store, StoredEntry } from '../../src/store/store.js';

function entry(seq: bigint, body: string): StoredEntry {
  return {
    stream: { id: 1n, labels: { app: 'a' } },
    timestamp: 10n + seq,
    observedTimestamp: 20n + seq,
    attributes: { k: 'v' },
    body,
    seq,
  };
}

test('feedTails publishes announced entries as records, one call per run of consecutive sequence numbers', () => {
  let listener: ((a: AppendedEntries) => void) | undefined;
  const store = {
    watchAppends(l: (a: AppendedEntries) => void) {
      listener = l;
      return () => {
        listener = undefined;
      };
    },
  } as unknown as Store;
  const calls: [string, string[], bigint][] = [];
  const stop = feedTails(store, (tenant, records, firstSeq) =>
    calls.push([tenant, records.map((r) => r.body), firstSeq]),
  );
  listener!({ tenant: 't', entries: [entry(5n, 'a'), entry(6n, 'b'), entry(9n, 'c')] });
  listener!({ tenant: 'u', entries: [entry(10n, 'd')] });
  assert.deepEqual(calls, [
    ['t', ['a', 'b'], 5n],
    ['t', ['c'], 9n],
    ['u', ['d'], 10n],
  ]);
  stop();
  assert.equal(listener, undefined);
});

test('feedTails keeps labels, metadata and both timestamps', () => {
  let listener: ((a: AppendedEntries) => void) | undefined;
  const store = {
    watchAppends(l: (a: AppendedEntries) => void) {
      listener = l;
      return () => {};
    },
  } as unknown as Store;
  const got: unknown[] = [];
  feedTails(store, (_t, records) => got.push(...records));
  listener!({ tenant: 't', entries: [entry(1n, 'x')] });
  assert.deepEqual(got, [
    { timestamp: 11n, observedTimestamp: 21n, labels: { app: 'a' }, attributes: { k: 'v' }, body: 'x' },
  ]);
});

test('followAppends replays only up to lastSeq(): an entry a read finds above it comes with its announcement, after those in flight below it', async () => {
  // A shared store (ClickHouse, several servers): lastSeq() is 10; another server's entry 30 is
  // acknowledged and readable, while this server's entry 20 is still in flight. The announcer
  // announces 20 then 30; a replay that delivered 30 first would move past 20 and lose it.
  let listener: ((a: AppendedEntries) => void) | undefined;
  const store = {
    watchAppends(l: (a: AppendedEntries) => void) {
      listener = l;
      return () => {};
    },
    lastSeq: () => 10n,
    async *entries() {
      yield [entry(8n, 'old'), entry(30n, 'other server')];
    },
  } as unknown as Store;
  const delivered: bigint[] = [];
  const follow = followAppends(store, {
    query: { tenant: 't', start: 0n, end: 1000n, matchers: [], lineFilters: [] },
    afterSeq: 5n,
    deliver: (entries) => delivered.push(...entries.map((e) => e.seq)),
  });
  await follow.ready;
  listener!({ tenant: 't', entries: [entry(20n, 'in flight')] });
  listener!({ tenant: 't', entries: [entry(30n, 'other server')] });
  assert.deepEqual(delivered, [8n, 20n, 30n]);
  follow.close();
});

/**
 * The journal service (src/journal/journal.ts, records.ts): the one way in for records, with a
 * stand-in store, so that what each step does is seen on its own: refusals in the journal's own
 * errors, ENOSPC pausing writes, the audit policy and the flows-or-not decision, the tails and the
 * counters.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import type { DiskSpaceWatch } from '../../src/disk/disk-space.js';
import { DiskFullError } from '../../src/journal/disk-full.js';
import { RefusedRecordsError } from '../../src/journal/errors.js';
import { Journal, type JournalMetrics } from '../../src/journal/journal.js';
import { storedRecords } from '../../src/journal/records.js';
import type { RawRecord } from '../../src/model/normalize.js';
import type { LogRecord } from '../../src/model/record.js';
import type { Pipeline } from '../../src/pipeline/runtime.js';
import { openStore } from '../../src/store/open.js';
import { type AppendedEntries, InvalidEntryError, type Store } from '../../src/store/store.js';

const rec = (body: string, labels: Record<string, string> = { namespace: 'a' }): LogRecord => ({
  timestamp: 1n,
  observedTimestamp: 1n,
  labels,
  attributes: {},
  body,
});

function metrics(): JournalMetrics & { registry: Registry } {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    ingestedLines: new Counter({ name: 'l', help: 'l', labelNames: ['tenant'], registers }),
    ingestedBytes: new Counter({ name: 'b', help: 'b', labelNames: ['tenant'], registers }),
    discardedLines: new Counter({ name: 'd', help: 'd', labelNames: ['reason'], registers }),
  };
}

async function value(c: Counter<string>, labels: Record<string, string>): Promise<number> {
  const { values } = await c.get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

/**
 * A store that keeps what it is given, numbered from 10, and announces it to its watchers, or
 * fails every append with `fail`.
 */
function fakeStore(fail?: () => Error): Store & { appended: LogRecord[][] } {
  const appended: LogRecord[][] = [];
  const watchers = new Set<(a: AppendedEntries) => void>();
  let next = 10n;
  return {
    appended,
    watchAppends(listener: (a: AppendedEntries) => void) {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
    async append(tenant: string, records: readonly LogRecord[]) {
      if (fail) throw fail();
      appended.push([...records]);
      const firstSeq = next;
      next += BigInt(records.length);
      const entries = records.map((r, i) => ({
        ...r,
        stream: { id: 1n, labels: r.labels },
        seq: firstSeq + BigInt(i),
      }));
      for (const w of watchers) w({ tenant, entries });
      return { firstSeq, stored: records, duplicates: 0 };
    },
  } as unknown as Store & { appended: LogRecord[][] };
}

/** A disk watch that is low or not, and remembers a noted ENOSPC. */
function fakeDisk(low = false): DiskSpaceWatch {
  const disk = {
    low,
    metNoSpace: false,
    free: 0,
    threshold: 0,
    noteNoSpace() {
      disk.low = true;
      disk.metNoSpace = true;
    },
  };
  return disk as unknown as DiskSpaceWatch;
}

describe('Journal', () => {
  test('append stores, publishes to the tenant’s tails with sequence numbers, and counts', async () => {
    const store = fakeStore();
    const m = metrics();
    const journal = new Journal({ store, metrics: m });
    const seen: [string, bigint | undefined][] = [];
    journal.tails.subscribe({
      tenant: 't',
      accepts: () => true,
      deliver: (es) => seen.push(...es.map((e) => [e.body, e.seq] as [string, bigint | undefined])),
    });
    const got = await journal.append('t', [rec('one'), rec('two')]);
    assert.deepEqual(got, { stored: 2, duplicates: 0, firstSeq: 10n });
    assert.deepEqual(seen, [
      ['one', 10n],
      ['two', 11n],
    ]);
    assert.equal(await value(m.ingestedLines, { tenant: 't' }), 2);
    assert.equal(await value(m.ingestedBytes, { tenant: 't' }), 6);
  });

  test('tails learn of appends from the store: also of those another writer made, once each', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kj-journal-'));
    const store = await openStore({ dataDir: dir, log: () => {} });
    try {
      const journal = new Journal({ store, metrics: metrics() }).withFlows({
        process: (rs: LogRecord[]) => rs,
      } as unknown as Pipeline);
      const seen: [string, bigint | undefined][] = [];
      journal.tails.subscribe({
        tenant: 't',
        accepts: () => true,
        deliver: (es) => seen.push(...es.map((e) => [e.body, e.seq] as [string, bigint | undefined])),
      });
      const labels = { namespace: 'a', kind: 'log', class: 'application' };
      const one = await journal.write('t', [{ ...rec('through the journal'), labels }]);
      // Not through this journal: a store shared by replicas is written by others too.
      const other = await store.append('t', [{ ...rec('by another writer', labels), timestamp: 2n }]);
      await store.append('u', [{ ...rec('another tenant', labels), timestamp: 3n }]);
      assert.deepEqual(seen, [
        ['through the journal', one.firstSeq],
        ['by another writer', other.firstSeq],
      ]);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a record the store refuses is the journal’s RefusedRecordsError, not an HTTP error', async () => {
    const journal = new Journal({
      store: fakeStore(() => new InvalidEntryError('bad entry')),
      metrics: metrics(),
    });
    await assert.rejects(journal.write('t', [rec('x')]), (err: unknown) => {
      assert.ok(err instanceof RefusedRecordsError);
      assert.equal(err.code, 'INVALID_ENTRY');
      assert.equal(err.message, 'bad entry');
      return true;
    });
  });

  test('ENOSPC is a DiskFullError, and the next write is refused before it reaches the store', async () => {
    const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    const disk = fakeDisk();
    const journal = new Journal({ store: fakeStore(() => enospc), metrics: metrics(), disk });
    journal.admitWrite();
    await assert.rejects(journal.write('t', [rec('x')]), DiskFullError);
    assert.throws(() => journal.admitWrite(), DiskFullError);
  });

  test('the audit policy applies only when given; the flows decide what is stored', async () => {
    const store = fakeStore();
    const journal = new Journal({ store, metrics: metrics() });
    const records = [rec('a'), rec('b')];
    await journal.write('t', records, { auditPolicy: null });
    assert.deepEqual(
      store.appended[0]?.map((r) => r.body),
      ['a', 'b'],
    );
    const flows = { process: (rs: LogRecord[]) => rs.filter((r) => r.body === 'b') } as unknown as Pipeline;
    const m = metrics();
    const routed = new Journal({ store, metrics: m }).withFlows(flows);
    // knownBytes is the bytes of what arrived; with flows the stored records are counted instead.
    const got = await routed.write('t', [rec('a'), rec('b')], { knownBytes: 1000 });
    assert.equal(got.stored, 1);
    assert.deepEqual(
      store.appended[1]?.map((r) => r.body),
      ['b'],
    );
    assert.equal(await value(m.ingestedBytes, { tenant: 't' }), 1);
  });
});

describe('storedRecords', () => {
  const raw = (labels: Record<string, string>): RawRecord => ({
    timestamp: 1n,
    observedTimestamp: 1n,
    labels,
    body: 'x',
  });

  test('labels normalised once per stream, attributes always present, the path’s class taken', () => {
    const labels = { namespace: 'ns', pod: 'p', container: 'c' };
    const records = storedRecords([raw(labels), raw(labels)], 'application');
    assert.equal(records[0]?.labels, records[1]?.labels);
    assert.equal(records[0]?.labels.class, 'application');
    assert.deepEqual(records[0]?.attributes, {});
  });

  test('a stream of another class than the path’s is refused with STREAM_CLASS', () => {
    assert.throws(
      () => storedRecords([raw({ namespace: 'ns', class: 'audit' })], 'application'),
      (err: unknown) => err instanceof RefusedRecordsError && err.code === 'STREAM_CLASS',
    );
  });
});

/**
 * Crash recovery of the embedded store, by setting up on disk what each kind of interrupted work
 * leaves behind and reopening.
 */
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mergeParts } from '../../../src/store/duckdb/compact.js';
import { DuckDbStore } from '../../../src/store/duckdb/duckdb-store.js';
import { DuckDbEngine } from '../../../src/store/duckdb/engine.js';
import { PartSet, partFileName } from '../../../src/store/duckdb/parts.js';
import { collect, rec } from '../contract.js';

const T0 = 1_763_900_000_123_456_789n;

async function withStore<T>(dir: string, fn: (s: DuckDbStore) => Promise<T>): Promise<T> {
  // No compaction of its own: the tests set up what interrupted work leaves behind themselves.
  const s = new DuckDbStore({
    dir,
    maintenanceIntervalMs: 3_600_000,
    compaction: { smallBytes: 0, minRun: 2, maxMergeBytes: 0 },
  });
  await s.open();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

function onlyDay(parts: PartSet) {
  const days = [...parts.days()];
  assert.equal(days.length, 1);
  return days[0]!;
}

const bodies = async (s: DuckDbStore) => (await collect(s, { tenant: 't' })).map((e) => e.body);

test('a torn last line in the write-ahead log is cut off on open', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-rec-'));
  await withStore(dir, (s) =>
    s.append('t', [rec({ app: 'a' }, T0, 'one'), rec({ app: 'a' }, T0 + 1n, 'two')]),
  );
  const [seg] = await readdir(join(dir, 'wal'));
  await appendFile(join(dir, 'wal', seg!), '{"g":0,"s":1,"n":99,"t":1763900000');
  await withStore(dir, async (s) => {
    assert.deepEqual(await bodies(s), ['one', 'two']);
    await s.append('t', [rec({ app: 'a' }, T0 + 2n, 'three')]);
    assert.deepEqual(await bodies(s), ['one', 'two', 'three']);
  });
  await rm(dir, { recursive: true, force: true });
});

test('an interrupted compaction (merged part written, inputs not yet deleted) leaves no duplicates', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-rec-'));
  await withStore(dir, async (s) => {
    await s.append('t', [rec({ app: 'a' }, T0, 'first')]);
    await s.settle();
    await s.append('t', [rec({ app: 'a' }, T0 + 1n, 'second')]);
    await s.settle();
  });
  const parts = new PartSet(join(dir, 'parts'));
  await parts.open(Number.MAX_SAFE_INTEGER);
  const { tenantIndex, day, parts: list } = onlyDay(parts);
  assert.equal(list.length, 2);
  const engine = await DuckDbEngine.create({
    threads: 1,
    memoryLimit: '128MB',
    tempDirectory: join(dir, 'tmp'),
  });
  await mergeParts(engine, parts.dayDir(tenantIndex, day), list);
  engine.close();
  assert.equal((await readdir(parts.dayDir(tenantIndex, day))).length, 3, 'merged part beside both inputs');
  await withStore(dir, async (s) => assert.deepEqual(await bodies(s), ['first', 'second']));
  assert.deepEqual(await readdir(parts.dayDir(tenantIndex, day)), [
    partFileName(list[0]!.first, list[1]!.last),
  ]);
  await rm(dir, { recursive: true, force: true });
});

test('an interrupted conversion (part written, not recorded) is redone from the log once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-rec-'));
  await withStore(dir, async (s) => {
    await s.append('t', [rec({ app: 'a' }, T0, 'converted')]);
    await s.settle();
  });
  const parts = new PartSet(join(dir, 'parts'));
  await parts.open(Number.MAX_SAFE_INTEGER);
  const { tenantIndex, day, parts: list } = onlyDay(parts);
  const dayDir = parts.dayDir(tenantIndex, day);
  // A part from segments that state.json does not record as converted, and a leftover temp file.
  await copyFile(list[0]!.path, join(dayDir, partFileName(50, 50)));
  await writeFile(join(dayDir, `${partFileName(51, 51)}.tmp`), 'partial');
  await withStore(dir, async (s) => assert.deepEqual(await bodies(s), ['converted']));
  assert.deepEqual(await readdir(dayDir), [list[0]!.path.split('/').pop()]);
  await rm(dir, { recursive: true, force: true });
});

/**
 * Faults in the embedded store's files: damaged and torn write-ahead-log records, a segment DuckDB
 * cannot convert, truncated and damaged Parquet parts, and times the store cannot hold. Each test
 * checks the answer (right, or an error that names what is damaged) and that nothing else is lost.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { WalLines } from '../../src/store/duckdb/wal/encode.js';
import { DamagedDataError, InvalidEntryError, type Store } from '../../src/store/store.js';
import { collect, rec } from '../store/contract.js';

const DAY = 86_400_000_000_000n;
const T = 1_800_000_000_000_000_000n;

interface Opened {
  store: DuckDbStore;
  logs: string[];
}

async function openStore(dir: string): Promise<Opened> {
  const logs: string[] = [];
  const store = new DuckDbStore({
    dir,
    maintenanceIntervalMs: 3_600_000,
    sealAfterMs: 3_600_000,
    log: (l) => logs.push(l),
  });
  await store.open();
  return { store, logs };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-integrity-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const bodies = async (s: Store, q: Parameters<typeof collect>[1] = {}) =>
  (await collect(s, { tenant: 't', ...q })).map((e) => e.body);

async function segmentPath(dir: string): Promise<string> {
  const names = (await readdir(join(dir, 'wal'))).filter((n) => n.endsWith('.wal2'));
  assert.equal(names.length, 1, `one log segment: ${names.join(', ')}`);
  return join(dir, 'wal', names[0]!);
}

test('a damaged log record is found at replay, never served, and set aside; the other records stay', () =>
  withDir(async (dir) => {
    let { store } = await openStore(dir);
    await store.append('t', [rec({ app: 'a' }, T, 'first record')]);
    await store.append('t', [rec({ app: 'a' }, T + 1n, 'second record, to be damaged')]);
    await store.append('t', [rec({ app: 'a' }, T + 2n, 'third record')]);
    await store.close();
    const seg = await segmentPath(dir);
    const text = await readFile(seg, 'latin1');
    const at = text.indexOf('to be damaged');
    const fh = await open(seg, 'r+');
    await fh.write(Buffer.from('TO BE DAMAGED'), 0, 13, at); // same length, different bytes
    await fh.close();

    const reopened = await openStore(dir);
    store = reopened.store;
    try {
      assert.deepEqual(await bodies(store), ['first record', 'third record']);
      assert.ok(
        reopened.logs.some((l) => /1 damaged region\(s\).*failed their checksum.*2 good record/.test(l)),
        reopened.logs.join('\n'),
      );
      assert.equal((await store.stats()).quarantinedFiles, 1);
      const aside = await readdir(join(dir, 'quarantine'));
      assert.equal(aside.length, 1);
      assert.match(await readFile(join(dir, 'quarantine', aside[0]!), 'latin1'), /TO BE DAMAGED/);
      // The store goes on: new appends, conversion, and reads after it.
      await store.append('t', [rec({ app: 'a' }, T + 3n, 'fourth record')]);
      await store.settle();
      assert.deepEqual(await bodies(store), ['first record', 'third record', 'fourth record']);
    } finally {
      await store.close();
    }
  }));

test('a torn last record is dropped with a warning that says how many bytes', () =>
  withDir(async (dir) => {
    let { store } = await openStore(dir);
    await store.append('t', [rec({ app: 'a' }, T, 'kept')]);
    await store.close();
    const seg = await segmentPath(dir);
    const torn =
      '0\u001f1\u001f2\u001f1800000000000000001\u001f0\u001f\u001f0\u001fnever acknowledged\n0\u001f1';
    await writeFile(seg, torn, { flag: 'a' });
    const reopened = await openStore(dir);
    store = reopened.store;
    try {
      assert.deepEqual(await bodies(store), ['kept']);
      const bytes = Buffer.byteLength(torn);
      assert.ok(
        reopened.logs.some((l) => l.includes(`dropped a torn last record of ${bytes} bytes`)),
        reopened.logs.join('\n'),
      );
      assert.equal((await store.stats()).quarantinedFiles, 0, 'a torn write is not damage');
    } finally {
      await store.close();
    }
  }));

test('times the store cannot hold (before 1970, after 2262) are refused whole, and nothing of the append is stored', () =>
  withDir(async (dir) => {
    const { store } = await openStore(dir);
    try {
      for (const ts of [1n << 63n, 99_999_999_999_999_999_999n, -1n]) {
        await assert.rejects(
          store.append('t', [rec({ app: 'a' }, T, 'fine'), rec({ app: 'a' }, ts, 'out of range')]),
          (err) => err instanceof InvalidEntryError && /cannot keep/.test(err.message),
        );
      }
      // The last nanoseconds a signed 64-bit integer holds (the record's observed time is 5 ns later).
      await store.append('t', [rec({ app: 'a' }, (1n << 63n) - 6n, 'at the end of 2262-04-11')]);
      await store.settle();
      assert.deepEqual(await bodies(store, { end: (1n << 63n) - 1n }), ['at the end of 2262-04-11']);
    } finally {
      await store.close();
    }
  }));

/** Rewrites a segment so that its second line has a time past the signed 64-bit range, in a valid record. */
async function plantUnreadableLine(seg: string): Promise<void> {
  const raw = await readFile(seg, 'latin1');
  const bad = raw.replace('1800000000000000001', '99999999999999999999');
  const lines = bad.split('\n').filter((l) => l && !l.startsWith('-1\u001f'));
  const w = new WalLines(0, 4096);
  w.raw(Buffer.from(`${lines.join('\n')}\n`, 'latin1'));
  w.finish(2);
  await writeFile(seg, w.bytes);
}

test('a log segment DuckDB cannot read is salvaged at start: the bad line set aside, the rest served at once', () =>
  withDir(async (dir) => {
    let { store } = await openStore(dir);
    await store.append('t', [rec({ app: 'a' }, T, 'before'), rec({ app: 'a' }, T + 1n, 'after')]);
    await store.close();
    // A line an older store let in: a time past the signed 64-bit range.
    await plantUnreadableLine(await segmentPath(dir));
    const reopened = await openStore(dir);
    store = reopened.store;
    try {
      assert.deepEqual(await bodies(store), ['before']);
      assert.equal((await store.stats()).quarantinedFiles, 1);
      assert.ok(
        reopened.logs.some((l) =>
          /could not be converted.*1 malformed line\(s\) set aside.*line 2: time.*1 kept/.test(l),
        ),
        reopened.logs.join('\n'),
      );
      await store.append('t', [rec({ app: 'a' }, T + 5n, 'later')]);
      await store.settle();
      assert.deepEqual(await bodies(store), ['before', 'later']);
    } finally {
      await store.close();
    }
  }));

test('a sealed segment that turns unreadable while running: reads fail (never partial), conversion salvages it and goes on', () =>
  withDir(async (dir) => {
    const { store, logs } = await openStore(dir);
    try {
      await store.append('t', [rec({ app: 'a' }, T, 'before'), rec({ app: 'a' }, T + 1n, 'after')]);
      assert.deepEqual(await bodies(store), ['before', 'after'], 'the read seals the segment');
      await plantUnreadableLine(await segmentPath(dir));
      await assert.rejects(bodies(store));
      await assert.rejects(
        store.count({ tenant: 't', start: 0n, end: T * 2n, matchers: [], lineFilters: [] }),
      );
      // Conversion halves, tries unsorted, then salvages: a few rounds, never for ever.
      for (let i = 0; i < 4 && (await store.stats()).pendingBytes > 0; i++) {
        await store.convert().catch(() => undefined);
      }
      assert.equal((await store.stats()).pendingBytes, 0, 'the log is converted');
      assert.deepEqual(await bodies(store), ['before']);
      assert.equal((await store.stats()).quarantinedFiles, 1);
      assert.ok(
        logs.some((l) => /1 malformed line\(s\) set aside/.test(l)),
        logs.join('\n'),
      );
    } finally {
      await store.close();
    }
  }));

async function twoDays(dir: string): Promise<string> {
  const { store } = await openStore(dir);
  await store.append('t', [rec({ app: 'a' }, T, 'day one a'), rec({ app: 'a' }, T + 1n, 'day one b')]);
  await store.append('t', [rec({ app: 'a' }, T + 2n * DAY, 'day three')]);
  await store.settle();
  await store.close();
  const day = new Date(Number(T / 1_000_000n)).toISOString().slice(0, 10);
  const dayDir = join(dir, 'parts', 't0', day);
  const [part] = await readdir(dayDir);
  assert.ok(part);
  return join(dayDir, part);
}

const dayOne = { start: T - 1n, end: T + DAY / 2n };
const dayThree = { start: T + DAY, end: T + 3n * DAY };

test('a truncated part does not stop the start; reads of its day fail naming it, other days answer', () =>
  withDir(async (dir) => {
    const part = await twoDays(dir);
    await truncate(part, Math.floor((await stat(part)).size / 2));
    const { store, logs } = await openStore(dir);
    try {
      assert.equal((await store.stats()).damagedFiles, 1);
      assert.ok(
        logs.some((l) => /part t0\/.*\.parquet is damaged/.test(l)),
        logs.join('\n'),
      );
      const damaged = (err: unknown) =>
        err instanceof DamagedDataError && /part t0\/\d{4}-\d\d-\d\d\/\d+-\d+\.parquet/.test(err.message);
      await assert.rejects(bodies(store, dayOne), damaged);
      await assert.rejects(store.count({ tenant: 't', ...dayOne, matchers: [], lineFilters: [] }), damaged);
      await assert.rejects(
        store.countByBucket(
          { tenant: 't', ...dayOne, matchers: [], lineFilters: [] },
          T - 1n,
          60_000_000_000n,
        ),
        damaged,
      );
      assert.deepEqual(await bodies(store, dayThree), ['day three']);
    } finally {
      await store.close();
    }
  }));

test('a part damaged inside (its ends intact) fails every read that needs it, counts included: never a smaller number', () =>
  withDir(async (dir) => {
    const part = await twoDays(dir);
    const size = (await stat(part)).size;
    const fh = await open(part, 'r+');
    // Overwrite the column data between the leading magic and the footer.
    const footerLength = (await fh.read(Buffer.alloc(4), 0, 4, size - 8)).buffer.readUInt32LE(0);
    const dataEnd = size - 8 - footerLength;
    await fh.write(Buffer.alloc(dataEnd - 4, 0xa5), 0, dataEnd - 4, 4);
    await fh.close();
    const { store } = await openStore(dir);
    try {
      assert.equal((await store.stats()).damagedFiles, 0, 'its ends look right at start');
      const sel = { tenant: 't', ...dayOne, matchers: [], lineFilters: [] };
      await assert.rejects(
        store.countByBucket(sel, T - 1n, 60_000_000_000n),
        (err) => err instanceof DamagedDataError,
      );
      assert.equal((await store.stats()).damagedFiles, 1, 'found by the failed read');
      await assert.rejects(store.count(sel), DamagedDataError);
      await assert.rejects(bodies(store, dayOne), DamagedDataError);
      assert.deepEqual(await bodies(store, dayThree), ['day three']);
    } finally {
      await store.close();
    }
  }));

test('a deleted or damaged state file loses nothing: what was converted is worked out from the files', () =>
  withDir(async (dir) => {
    let { store } = await openStore(dir);
    await store.append('t', [rec({ app: 'a' }, T, 'converted')]);
    await store.settle();
    await store.append('t', [rec({ app: 'a' }, T + 1n, 'in the log')]);
    await store.close();
    for (const damage of ['delete', 'garbage']) {
      if (damage === 'delete') await rm(join(dir, 'state.json'));
      else await writeFile(join(dir, 'state.json'), '{"convertedThrough": 3, "maxSe');
      const reopened = await openStore(dir);
      store = reopened.store;
      try {
        const before = damage === 'delete' ? [] : ['after delete'];
        assert.deepEqual(await bodies(store), ['converted', 'in the log', ...before], damage);
        const want =
          damage === 'delete' ? /no state file; parts through log segment 1 count/ : /state.json is damaged/;
        assert.ok(
          reopened.logs.some((l) => want.test(l)),
          reopened.logs.join('\n'),
        );
        // Sequence numbers go on after the greatest one on disk.
        const r = await store.append('t', [rec({ app: 'a' }, T + 2n, `after ${damage}`)]);
        assert.ok(r && r.firstSeq > 2n, `first sequence number ${r?.firstSeq}`);
      } finally {
        await store.close();
      }
    }
    const last = (await openStore(dir)).store;
    try {
      assert.equal((await bodies(last)).length, 4);
    } finally {
      await last.close();
    }
  }));

test('a damaged catalog line: its stream is left out (never served under other labels), the rest answers, new ids do not collide', () =>
  withDir(async (dir) => {
    let { store } = await openStore(dir);
    await store.append('t', [rec({ app: 'first' }, T, 'one'), rec({ app: 'second' }, T + 1n, 'two')]);
    await store.close();
    const path = join(dir, 'catalog.ndjson');
    const text = await readFile(path, 'utf8');
    assert.match(text, /"app":"first"/);
    await writeFile(path, text.replace('"app":"first"', '"app":"fir5t"'));
    const reopened = await openStore(dir);
    store = reopened.store;
    try {
      assert.ok(
        reopened.logs.some((l) =>
          /catalog\.ndjson: line 2 failed their check.*1 stream\(s\) are lost/.test(l),
        ),
        reopened.logs.join('\n'),
      );
      assert.equal((await store.stats()).damagedFiles, 1);
      const all = await collect(store, { tenant: 't' });
      assert.deepEqual(
        all.map((e) => [e.stream.labels.app, e.body]),
        [['second', 'two']],
        'the lost stream is not served with empty or wrong labels',
      );
      await store.append('t', [rec({ app: 'third' }, T + 2n, 'three')]);
      const got = await collect(store, { tenant: 't', matchers: [{ name: 'app', op: '=', value: 'third' }] });
      assert.deepEqual(
        got.map((e) => e.body),
        ['three'],
      );
    } finally {
      await store.close();
    }
  }));

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDbStore } from '../../../src/store/duckdb/duckdb-store.js';
import { collect, rec } from '../contract.js';

/** A store in a fresh directory whose background work runs only when a test settles it. */
async function withQuietStore(prefix: string, fn: (store: DuckDbStore, dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const store = new DuckDbStore({ dir, maintenanceIntervalMs: 60_000, sealAfterMs: 60_000 });
  await store.open();
  try {
    await fn(store, dir);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('duckdb: a content hint skips entries that cannot pass it', () =>
  withQuietStore('kj-hint-', async (store) => {
    const t = 1_800_000_000_000_000_000n;
    await store.append('t', [
      rec({ app: 'a' }, t, '{"level":"info","msg":"x"}'),
      rec({ app: 'a' }, t + 1n, '{"level":"error","msg":"y"}'),
      rec({ app: 'a' }, t + 2n, '{"level":"info","msg":"say \\"hi\\""}'),
      rec({ app: 'b', level: 'error' }, t + 3n, 'z'),
    ]);
    for (const settled of [false, true]) {
      if (settled) await store.settle();
      const got = await collect(store, { tenant: 't', hints: [{ label: 'level', literal: 'error' }] });
      assert.deepEqual(
        got.map((e) => e.body),
        ['{"level":"error","msg":"y"}', 'z'],
        settled ? 'from Parquet parts' : 'from the write-ahead log',
      );
    }
  }));

test('duckdb: during an ingest burst sealed segments wait for conversion, then catch up', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-burst-'));
  let clock = 1_800_000_000_000;
  const store = new DuckDbStore({
    dir,
    maintenanceIntervalMs: 20,
    sealAfterMs: 60_000,
    segmentBytes: 64 << 10,
    now: () => clock,
  });
  await store.open();
  const waitFor = async (what: string, ok: () => Promise<boolean>) => {
    for (const t0 = Date.now(); !(await ok()); ) {
      if (Date.now() - t0 > 15_000) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await new Promise((r) => setTimeout(r, 100));
    const t = 1_800_000_000_000_000_000n;
    const body = 'x'.repeat(1000);
    for (let b = 0; b < 6; b++) {
      await store.append(
        't',
        Array.from({ length: 1000 }, (_, i) => rec({ app: 'burst' }, t + BigInt(b * 1000 + i), body)),
      );
    }
    // 6 MiB within one second of the store's clock: a burst.
    clock += 1000;
    await new Promise((r) => setTimeout(r, 400));
    const during = await store.stats();
    assert.ok(during.pendingBytes > 5 << 20, `still in the log during the burst: ${during.pendingBytes}`);
    const got = await collect(store, { tenant: 't' });
    assert.equal(got.length, 6000, 'queryable from the log meanwhile');
    // Ten seconds later with nothing appended, the burst is over: the log is converted.
    clock += 11_000;
    await waitFor('the log converted', async () => (await store.stats()).pendingBytes < 64 << 10);
    assert.equal((await collect(store, { tenant: 't' })).length, 6000);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('duckdb: lines written after a query sealed the log ahead of them are seen by the next query', () =>
  withQuietStore('kj-seal-race-', async (store) => {
    const t = 1_800_000_000_000_000_000n;
    // `first` is being written when `second` queues behind it; the query's seal goes first, so
    // `second` lands in the next segment.
    const first = store.append('t', [rec({ app: 'a' }, t, 'first')]);
    const second = store.append('t', [rec({ app: 'a' }, t + 1n, 'second')]);
    const during = collect(store, { tenant: 't' });
    await Promise.all([first, second, during]);
    const got = await collect(store, { tenant: 't' });
    assert.deepEqual(got.map((e) => e.body).sort(), ['first', 'second']);
  }));

test('duckdb: conversion splits segments by the days their appends spanned, with no part for an empty day', () =>
  withQuietStore('kj-spans-', async (store, dir) => {
    const day = 86_400_000_000_000n;
    const d0 = 20_000n * day; // a day boundary
    // One append spans three days for tenant a but holds nothing on the middle one.
    await store.append('a', [
      rec({ app: 'x' }, d0 + 5n, 'first day'),
      rec({ app: 'x' }, d0 + 2n * day + 7n, 'third day'),
    ]);
    await store.append('b', [rec({ app: 'y' }, d0 + day + 1n, 'b, second day')]);
    await store.settle();
    const parts = (await readdir(join(dir), { recursive: true }))
      .filter((p) => p.endsWith('.parquet'))
      .sort();
    assert.equal(parts.length, 3, `parts: ${parts.join(', ')}`);
    for (const [tenant, bodies] of [
      ['a', ['first day', 'third day']],
      ['b', ['b, second day']],
    ] as const) {
      const got = await collect(store, { tenant, start: d0 - day, end: d0 + 3n * day });
      assert.deepEqual(
        got.map((e) => e.body),
        bodies,
      );
    }
  }));

/** Bodies and attributes that the log's format has to carry exactly. */
const awkward: [string, Record<string, string>][] = [
  ['plain text', {}],
  ['{"level":"info","msg":"say \\"hi\\"","path":"C:\\\\temp"}', { pod_uid: 'u-1' }],
  ['two\nlines', { note: 'ünïcode ✓ 😀' }],
  ['carriage\rreturn', {}],
  ['unit\u001fseparator and NUL\u0000 inside', {}],
  ['', {}],
  ['\t"quoted", with, commas\t', { empty: '' }],
  ['ünïcode ✓ 😀', {}],
  ['lone \ud800 surrogate', {}],
  ['\\n is a backslash and an n, not a newline', {}],
];

test('duckdb: bodies and attributes come back exactly from the log and from parts', () =>
  withQuietStore('kj-format-', async (store) => {
    const t = 1_800_000_000_000_000_000n;
    await store.append(
      't',
      awkward.map(([body, attrs], i) => rec({ app: 'fmt' }, t + BigInt(i), body, attrs)),
    );
    const want = awkward.map(([body, attrs]) => ({ body: body.toWellFormed(), attributes: attrs }));
    for (const settled of [false, true]) {
      if (settled) await store.settle();
      const got = await collect(store, { tenant: 't' });
      assert.deepEqual(
        got.map((e) => ({ body: e.body, attributes: e.attributes })),
        want,
        settled ? 'from Parquet parts' : 'from the write-ahead log',
      );
    }
  }));

test('duckdb: log segments in the NDJSON format of earlier versions are still read and converted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-legacy-'));
  const t = 1_800_000_000_000_000_000n;
  const make = async () => {
    const s = new DuckDbStore({ dir, maintenanceIntervalMs: 60_000, sealAfterMs: 60_000 });
    await s.open();
    return s;
  };
  let store = await make();
  try {
    await store.append(
      't',
      awkward.map(([body, attrs], i) => rec({ app: 'old' }, t + BigInt(i), body, attrs)),
    );
    await store.close();
    // Rewrite the segment as the NDJSON lines earlier versions wrote.
    const walDir = join(dir, 'wal');
    const [name] = (await readdir(walDir)).filter((n) => n.endsWith('.wal2'));
    assert.ok(name, 'a .wal2 segment');
    // Without the record trailers (tenant -1), which that format did not have.
    const lines = (await readFile(join(walDir, name), 'utf8'))
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('-1\u001f'));
    const ndjson = lines.map((line) => {
      const [g, s, n, ts, o, a, e, ...rest] = line.split('\u001f');
      const raw = rest.join('\u001f');
      const b = e === '1' ? (JSON.parse(raw) as string) : raw;
      return `{"g":${g},"s":${s},"n":${n},"t":${ts},"o":${o},"a":${JSON.stringify(a)},"b":${JSON.stringify(b)}}\n`;
    });
    await writeFile(join(walDir, name.replace(/\.wal2$/, '.ndjson')), ndjson.join(''));
    await rm(join(walDir, name));
    store = await make();
    const want = awkward.map(([body]) => body.toWellFormed());
    for (const settled of [false, true]) {
      if (settled) await store.settle();
      const got = await collect(store, { tenant: 't' });
      assert.deepEqual(
        got.map((e) => e.body),
        want,
        settled ? 'converted' : 'from the legacy segment',
      );
    }
    // New appends go to a .wal segment beside it.
    await store.append('t', [rec({ app: 'old' }, t + 100n, 'new format')]);
    assert.equal((await collect(store, { tenant: 't' })).length, awkward.length + 1);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

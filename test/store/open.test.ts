/**
 * openStore, createStore and checkStore: configuration in, a working store out, with the embedded
 * backend when the configuration names none.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkStore, createStore, openStore } from '../../src/store/open.js';
import { collect, rec } from './contract.js';

const T = 1_800_000_000_000_000_000n;

test('openStore without a backend opens the embedded store in the data directory; checkStore checks it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-open-'));
  try {
    const store = await openStore({ dataDir: dir, queryMemoryLimit: '64MB', log: () => {} });
    const r = await store.append('t', [rec({ app: 'a' }, T, 'one')]);
    assert.equal(store.lastSeq(), r.firstSeq);
    assert.deepEqual(
      (await collect(store, { tenant: 't' })).map((e) => e.body),
      ['one'],
    );
    await store.close();
    assert.ok((await readdir(dir)).includes('wal'), 'its files are in the data directory');
    const report = await checkStore({ dataDir: dir });
    assert.deepEqual(report.problems, []);
    assert.ok(report.segments >= 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('createStore builds the store that the caller opens, with the backend options given', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-open-'));
  try {
    const store = createStore({ dataDir: dir, backend: { kind: 'duckdb', threads: 1, memoryLimit: '32MB' } });
    await store.open();
    await store.append('t', [rec({ app: 'a' }, T, 'x')]);
    assert.equal((await collect(store, { tenant: 't' })).length, 1);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

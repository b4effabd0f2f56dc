import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { collect, rec, storeContract } from './contract.js';

storeContract('duckdb', {
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'kj-store-'));
    const make = async () => {
      const s = new DuckDbStore({ dir, maintenanceIntervalMs: 50, sealAfterMs: 100 });
      await s.open();
      return s;
    };
    let store = await make();
    return {
      store,
      async reopen() {
        await store.close();
        store = await make();
        return store;
      },
      settle: () => store.settle(),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

test('duckdb: a content hint skips entries that cannot pass it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-hint-'));
  const store = new DuckDbStore({ dir, maintenanceIntervalMs: 60_000, sealAfterMs: 60_000 });
  await store.open();
  try {
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
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

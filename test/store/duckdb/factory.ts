/**
 * @module The embedded backend's test store: a fresh data directory, opened through `openStore`,
 * whose background work runs only when a test settles it (so that a test decides whether its reads
 * go to the write-ahead log or to Parquet parts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDbStore } from '../../../src/store/duckdb/duckdb-store.js';
import { openStore, type StoreConfig } from '../../../src/store/open.js';
import type { TestStoreFactory } from '../factories.js';

export const duckdbFactory: TestStoreFactory = {
  name: 'duckdb',
  async create(options = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'kj-store-'));
    const config: StoreConfig = {
      dataDir: dir,
      backend: {
        kind: 'duckdb',
        maintenanceIntervalMs: options.backgroundMs ?? 60_000,
        sealAfterMs: options.backgroundMs ? options.backgroundMs * 2 : 60_000,
      },
      log: options.log ?? (() => {}),
    };
    let store = await openStore(config);
    return {
      get store() {
        return store;
      },
      config,
      settle: () => (store as DuckDbStore).settle(),
      async reopen() {
        await store.close();
        store = await openStore(config);
        return store;
      },
      async cleanup() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

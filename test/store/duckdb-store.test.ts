import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { storeContract } from './contract.js';

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

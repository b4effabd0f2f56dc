/**
 * @module The ClickHouse backend's test store: one private clickhouse-server per test process
 * (test/helpers/clickhouse.ts), started at the first store a suite asks for and killed when the
 * process exits; each store gets its own database on it, dropped at cleanup.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type StoreConfig } from '../../../src/store/open.js';
import { type ClickHouseProcess, startClickHouse } from '../../helpers/clickhouse.js';
import type { TestStoreFactory } from '../factories.js';

let server: Promise<ClickHouseProcess> | undefined;
let databases = 0;

/** The process's ClickHouse server, started on first use. */
export function sharedClickHouse(): Promise<ClickHouseProcess> {
  if (!server) {
    server = startClickHouse();
    server.then(
      (ch) => {
        // The server must not keep the test process alive once its tests are done.
        ch.child.unref();
        (ch.child.stderr as { unref?: () => void } | null)?.unref?.();
        process.once('exit', () => {
          // Synchronous: an exit handler cannot wait.
          ch.child.kill('SIGKILL');
          rmSync(ch.dir, { recursive: true, force: true });
        });
      },
      () => {},
    );
  }
  return server;
}

export const clickhouseFactory: TestStoreFactory = {
  name: 'clickhouse',
  async create(options = {}) {
    const ch = await sharedClickHouse();
    const dir = await mkdtemp(join(tmpdir(), 'kj-chstore-'));
    const database = `kj_test_${process.pid}_${++databases}`;
    const config: StoreConfig = {
      dataDir: dir,
      backend: { kind: 'clickhouse', url: ch.url, database, pollMs: 50 },
      log: options.log ?? (() => {}),
    };
    let store = await openStore(config);
    return {
      get store() {
        return store;
      },
      config,
      settle: async () => {},
      async reopen() {
        await store.close();
        store = await openStore(config);
        return store;
      },
      async cleanup() {
        await store.close();
        await fetch(`${ch.url}/`, { method: 'POST', body: `DROP DATABASE IF EXISTS ${database}` });
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

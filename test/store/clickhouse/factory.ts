/**
 * @module The ClickHouse backend's test store: one private clickhouse-server per test process
 * (test/helpers/clickhouse.ts), started at the first store a suite asks for and killed when the
 * process exits; each store gets its own database on it, dropped at cleanup.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type StoreConfig } from '../../../src/store/open.js';
import {
  type ClickHouseCluster,
  type ClickHouseProcess,
  startClickHouse,
  startClickHouseCluster,
} from '../../helpers/clickhouse.js';
import type { TestStoreFactory } from '../factories.js';

let server: Promise<ClickHouseProcess> | undefined;
let cluster: Promise<ClickHouseCluster> | undefined;
let databases = 0;

/** Lets the process exit while `child` runs, and kills it (and removes `dir`) when it does. */
function detach(child: ChildProcess, dir: string): void {
  child.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  process.once('exit', () => {
    // Synchronous: an exit handler cannot wait.
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
}

/** The process's two-shard cluster (with ZooKeeper, for ON CLUSTER DDL), started on first use. */
export function sharedCluster(): Promise<ClickHouseCluster> {
  if (!cluster) {
    cluster = startClickHouseCluster();
    cluster.then(
      (c) => {
        for (const n of c.nodes) detach(n.child, n.dir);
        if (c.zooKeeper) detach(c.zooKeeper.child, c.zooKeeper.dir);
      },
      () => {},
    );
  }
  return cluster;
}

/** The process's ClickHouse server, started on first use. */
export function sharedClickHouse(): Promise<ClickHouseProcess> {
  if (!server) {
    server = startClickHouse();
    server.then(
      // The server must not keep the test process alive once its tests are done.
      (ch) => detach(ch.child, ch.dir),
      () => {},
    );
  }
  return server;
}

function factory(name: string, target: () => Promise<{ url: string; cluster?: string }>): TestStoreFactory {
  return {
    name,
    async create(options = {}) {
      const ch = await target();
      const dir = await mkdtemp(join(tmpdir(), 'kj-chstore-'));
      const database = `kj_test_${process.pid}_${++databases}`;
      const config: StoreConfig = {
        dataDir: dir,
        backend: {
          kind: 'clickhouse',
          url: ch.url,
          database,
          pollMs: 50,
          ...(ch.cluster ? { cluster: ch.cluster } : {}),
        },
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
          const on = ch.cluster ? ` ON CLUSTER ${ch.cluster}` : '';
          await fetch(`${ch.url}/`, { method: 'POST', body: `DROP DATABASE IF EXISTS ${database}${on}` });
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** One ClickHouse server. */
export const clickhouseFactory = factory('clickhouse', sharedClickHouse);

/** Two shards: Distributed tables over MergeTree tables on each, sharded by stream. */
export const clickhouseClusterFactory = factory('clickhouse two-shard cluster', async () => {
  const c = await sharedCluster();
  return { url: c.url, cluster: c.cluster };
});

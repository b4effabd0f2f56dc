/**
 * @module `openStore(config)`: the one place that turns configuration into a Store. The server,
 * `kjournal check` and the tests' helpers build their store here, so that nothing outside
 * src/store/<backend>/ names a backend; a second backend (ClickHouse) is one more case below.
 */

import type { LineLog } from '../util/log.js';
import { type ClickHouseBackendConfig, ClickHouseStore } from './clickhouse/clickhouse-store.js';
import { checkDataDir } from './duckdb/check.js';
import { type DuckDbBackendConfig, DuckDbStore } from './duckdb/duckdb-store.js';
import type { CheckReport, Store } from './store.js';

/** A backend and its own options; `kind` names it. */
export type StoreBackendConfig = DuckDbBackendConfig | ClickHouseBackendConfig;

/** The backend that serves when the configuration names none: the embedded one. */
export const DEFAULT_BACKEND = 'duckdb' as const;

export interface StoreConfig {
  /** The data directory: the embedded backend's files; another backend's local state. */
  readonly dataDir: string;
  /**
   * Memory one query may use in the embedded store (e.g. `192MB`): DuckDB's memory_limit (beyond
   * it DuckDB spills or fails the query). A backend's own `memoryLimit` wins over it; ClickHouse's
   * queries run in ClickHouse's memory, bounded by its own profile unless its `memoryLimit` says.
   */
  readonly queryMemoryLimit?: string;
  /** The backend and its options; absent: the embedded backend with its defaults. */
  readonly backend?: StoreBackendConfig;
  /** Background work that failed and will be retried. */
  readonly onError?: (err: unknown) => void;
  /** Warnings: damaged or torn files found, files set aside. */
  readonly log?: LineLog;
}

/** Builds the store that `config` describes, not yet opened (a caller may wrap it first). */
export function createStore(config: StoreConfig): Store {
  const backend: StoreBackendConfig = config.backend ?? { kind: DEFAULT_BACKEND };
  const hooks = {
    ...(config.onError ? { onError: config.onError } : {}),
    ...(config.log ? { log: config.log } : {}),
  };
  switch (backend.kind) {
    case 'duckdb': {
      const { kind: _, ...options } = backend;
      return new DuckDbStore({
        dir: config.dataDir,
        ...(config.queryMemoryLimit === undefined ? {} : { memoryLimit: config.queryMemoryLimit }),
        ...options,
        ...hooks,
      });
    }
    case 'clickhouse': {
      const { kind: _, ...options } = backend;
      // --query-memory-limit bounds the embedded engine inside this process; ClickHouse's
      // memory is its own server's (its profile's max_memory_usage, or the backend's memoryLimit).
      return new ClickHouseStore({ ...options, ...hooks });
    }
  }
}

/** Builds the store that `config` describes and opens it. */
export async function openStore(config: StoreConfig): Promise<Store> {
  const store = createStore(config);
  await store.open();
  return store;
}

/**
 * Verifies the stored data file by file (`kjournal check`); with `repair`, damaged files are moved
 * aside. The store must not be open: the caller holds the data directory's lock.
 */
export function checkStore(
  config: StoreConfig,
  options: { readonly repair?: boolean } = {},
): Promise<CheckReport> {
  const kind = config.backend?.kind ?? DEFAULT_BACKEND;
  switch (kind) {
    case 'duckdb':
      return checkDataDir(config.dataDir, options);
    case 'clickhouse':
      // ClickHouse checks its own parts (CHECK TABLE); there is no local data to verify.
      return Promise.resolve({
        parts: 0,
        segments: 0,
        problems: [],
        notes: ['the ClickHouse backend keeps no local data; ClickHouse checks its own parts'],
        quarantined: 0,
      });
  }
}

/**
 * @module The backends every store-level suite runs against: the Store contract
 * (test/store/contract.ts) and the query conformance suites (LogQL pipeline, metric engine,
 * bucketed counting) take their stores from here, so that a second backend joins them all by
 * adding its factory to `storeFactories`.
 */
import { describe } from 'node:test';
import type { StoreConfig } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { clickhouseClusterFactory, clickhouseFactory } from './clickhouse/factory.js';
import { duckdbFactory } from './duckdb/factory.js';

export interface TestStore {
  /** The open store (after `reopen`, the new one). */
  readonly store: Store;
  /** What `openStore` was given: a second process opening the same store uses it. */
  readonly config: StoreConfig;
  /** Waits until background work has caught up: reads then go to the store's long-term form. */
  settle(): Promise<void>;
  /** Closes the store and opens it again on the same data. */
  reopen(): Promise<Store>;
  /** Closes the store and removes its data. */
  cleanup(): Promise<void>;
}

export interface TestStoreOptions {
  /** Background work every this many ms; absent: only when the test settles the store. */
  readonly backgroundMs?: number;
  readonly log?: (line: string) => void;
}

export interface TestStoreFactory {
  /** The backend's name in test titles. */
  readonly name: string;
  /** A new, empty, opened store. */
  create(options?: TestStoreOptions): Promise<TestStore>;
}

export const storeFactories: readonly TestStoreFactory[] = [
  duckdbFactory,
  clickhouseFactory,
  clickhouseClusterFactory,
];

/**
 * A describe block once per backend, titled with the backend's name: the suite's body gets the
 * factory and takes its store from it, so it runs unchanged against every backend.
 */
export function describeEachStore(title: string, body: (factory: TestStoreFactory) => void): void {
  for (const factory of storeFactories) describe(`${title} (${factory.name})`, () => body(factory));
}

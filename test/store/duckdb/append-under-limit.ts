/**
 * @module Run as a child process under `ulimit -f`: appends entries of ~100 KB one by one to a store
 * in the given directory and prints, as JSON, which appends were acknowledged.
 */

import { normalizeLabels } from '../../../src/model/normalize.js';
import { DuckDbStore } from '../../../src/store/duckdb/duckdb-store.js';

const dir = process.argv[2]!;
const store = new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000 });
await store.open();
const labels = normalizeLabels({ app: 'limit' });
const acked: number[] = [];
const failed: number[] = [];
for (let i = 0; i < 6; i++) {
  const ts = 1_763_900_000_000_000_000n + BigInt(i);
  try {
    await store.append('t', [
      { timestamp: ts, observedTimestamp: ts, labels, attributes: {}, body: `${i}:${'x'.repeat(100_000)}` },
    ]);
    acked.push(i);
  } catch {
    failed.push(i);
  }
}
process.stdout.write(JSON.stringify({ acked, failed }));
await store.close().catch(() => undefined);

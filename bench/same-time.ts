/**
 * @module Appends at one timestamp: many entries of one stream with the same time (fluent-logger's
 * whole seconds, RFC 3164's one-second syslog) must store about as fast as entries with distinct
 * times, since de-duplication decides an entry at the stream's greatest time without a lookup
 * (store/dedupe.ts). `npm run bench` prints it as an info line; alone:
 * `node dist/bench/same-time.js [lines] [batch]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { normalizeLabels } from '../src/model/normalize.js';
import type { LogRecord } from '../src/model/record.js';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.js';

export interface SameTimeResult {
  readonly lines: number;
  readonly batch: number;
  /** Lines per second with every line at one timestamp. */
  readonly sameRate: number;
  /** Lines per second with distinct timestamps, for comparison. */
  readonly distinctRate: number;
  /** Lines stored (each line is distinct, so all of them). */
  readonly stored: number;
}

const T0 = 1_800_000_000_000_000_000n;

async function appendAll(
  lines: number,
  batch: number,
  sameTime: boolean,
): Promise<{ rate: number; stored: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-bench-same-time-'));
  const store = new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000, sealAfterMs: 3_600_000 });
  await store.open();
  try {
    const labels = normalizeLabels({ app: 'same-time', namespace: 'bench' });
    let stored = 0;
    const start = performance.now();
    for (let from = 0; from < lines; from += batch) {
      const records: LogRecord[] = [];
      for (let i = from; i < Math.min(lines, from + batch); i++) {
        const ts = sameTime ? T0 : T0 + BigInt(i);
        records.push({
          timestamp: ts,
          observedTimestamp: ts,
          labels,
          attributes: {},
          body: `line ${i} of the same second`,
        });
      }
      stored += (await store.append('bench', records)).stored.length;
    }
    const seconds = (performance.now() - start) / 1000;
    return { rate: lines / seconds, stored };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runSameTime(lines = 200_000, batch = 1000): Promise<SameTimeResult> {
  const same = await appendAll(lines, batch, true);
  const distinct = await appendAll(lines, batch, false);
  return { lines, batch, sameRate: same.rate, distinctRate: distinct.rate, stored: same.stored };
}

/** The info line `npm run bench` prints. */
export function sameTimeLine(r: SameTimeResult): string {
  return `same timestamp: ${r.lines} lines of one stream at one timestamp in batches of ${r.batch}: ${Math.round(r.sameRate)} lines/s (${r.stored} stored); with distinct timestamps ${Math.round(r.distinctRate)} lines/s`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const lines = Number(process.argv[2] ?? 200_000);
  const batch = Number(process.argv[3] ?? 1000);
  process.stdout.write(`${sameTimeLine(await runSameTime(lines, batch))}\n`);
}

/**
 * @module The rows the ClickHouse store inserts, encoded as RowBinary (rowbinary.ts) in the column
 * order of its INSERT statements (schema.ts): new streams, entries, and one `appends` row per
 * append (what other servers read to learn of it).
 */
import type { LogRecord } from '../../model/record.js';
import type { StreamRef } from '../store.js';
import { RowBinaryWriter } from './rowbinary.js';

/** One append's kept records, with their streams and first sequence number. */
export interface AppendRows {
  readonly tenant: string;
  readonly first: bigint;
  readonly records: readonly LogRecord[];
  readonly refs: readonly StreamRef[];
  readonly newStreams: readonly StreamRef[];
  /** About the encoded size, to size the buffer. */
  readonly bytes: number;
  readonly minTs: bigint;
  readonly maxTs: bigint;
}

export const STREAMS_COLUMNS = '(tenant, stream, label_names, label_values, created)';
export const ENTRIES_COLUMNS = '(tenant, stream, ts, seq, observed, attr_names, attr_values, body)';
export const APPENDS_COLUMNS = '(at, writer, tenant, first, count, streams, min_ts, max_ts)';

/** The `streams` rows of the appends' new streams; undefined when there are none. */
export function streamRows(jobs: readonly AppendRows[], now: number): Buffer | undefined {
  if (!jobs.some((j) => j.newStreams.length > 0)) return undefined;
  const w = new RowBinaryWriter();
  for (const j of jobs) {
    for (const s of j.newStreams) {
      w.string(j.tenant);
      w.uint64(s.id);
      const names = Object.keys(s.labels);
      w.strings(names);
      w.strings(names.map((n) => s.labels[n]!));
      w.uint64(BigInt(now));
    }
  }
  return w.bytes();
}

/** The `entries` rows and the `appends` rows of the appends. */
export function entryRows(
  jobs: readonly AppendRows[],
  writer: string,
  now: number,
  maxBytes: number,
): { entries: Buffer; appends: Buffer } {
  const entries = new RowBinaryWriter(
    Math.min(
      maxBytes,
      jobs.reduce((a, j) => a + j.bytes, 0),
    ) + 1024,
  );
  const appends = new RowBinaryWriter();
  for (const j of jobs) {
    const streams = new Set<bigint>();
    for (let i = 0; i < j.records.length; i++) {
      const r = j.records[i]!;
      const id = j.refs[i]!.id;
      streams.add(id);
      entries.string(j.tenant);
      entries.uint64(id);
      entries.uint64(r.timestamp);
      entries.uint64(j.first + BigInt(i));
      entries.uint64(r.observedTimestamp);
      const names = Object.keys(r.attributes);
      entries.strings(names);
      entries.strings(names.map((n) => r.attributes[n]!));
      entries.string(r.body);
    }
    appends.uint64(BigInt(now));
    appends.string(writer);
    appends.string(j.tenant);
    appends.uint64(j.first);
    appends.uint32(j.records.length);
    appends.uint64s([...streams]);
    appends.uint64(j.minTs);
    appends.uint64(j.maxTs);
  }
  return { entries: entries.bytes(), appends: appends.bytes() };
}

/** Labels or structured metadata read back from their parallel name and value arrays. */
export function pairsRecord(names: readonly string[], values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = values[i] ?? '';
  return out;
}

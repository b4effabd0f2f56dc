/**
 * @module Conversion: sealed write-ahead-log segments become one Parquet part per (tenant, day),
 * sorted by (stream, ts) so that compression is high and row-group statistics skip whole streams.
 * DuckDB parses the NDJSON and writes the Parquet; Node never touches the rows.
 */
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, fsyncPath, mkdirDurable } from '../../disk/fsync.js';
import { dayOf } from '../../model/time.js';
import type { DuckDbEngine } from './engine.js';
import { type Part, type PartSet, partFileName } from './parts.js';
import { readWal } from './sql.js';
import { type Segment, widenSpan } from './wal/wal.js';

export const NS_PER_DAY = 86_400_000_000_000n;

/**
 * Measured on the benchmark's data (130k lines, one thread): zstd level 3 converts in 260 ms at a
 * peak RSS of 227 MB with 16k-row groups; level 9 takes twice as long for 13% less. New parts are
 * written fast: level 1 took a quarter less time than level 3 and wrote no more bytes (330k lines
 * of the agent phase's pod logs: 540 against 704 ms, 10.4 against 10.9 MB). Compaction, which
 * writes the parts that stay, spends the time on level 9.
 */
export const PARQUET_OPTIONS = 'FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 16384';
export const COMPACTED_PARQUET_OPTIONS =
  'FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 16384';

/** Spans over more days than this are split by reading the segments instead. */
const MAX_SPAN_DAYS = 31n;

/** Floor division: days before 1970 are negative. */
function dayIndex(ts: bigint): bigint {
  const d = ts / NS_PER_DAY;
  return ts < d * NS_PER_DAY ? d - 1n : d;
}

/**
 * The (tenant, day) pairs that may hold rows, from the segments' spans: every day between a
 * tenant's least and greatest time. Undefined when a segment has no spans (found at startup) or a
 * span is too long to walk day by day.
 */
function groupsFromSpans(
  segments: readonly Pick<Segment, 'spans'>[],
): (readonly [number, bigint])[] | undefined {
  const merged = new Map<number, { min: bigint; max: bigint }>();
  for (const seg of segments) {
    if (!seg.spans) return undefined;
    for (const [ti, span] of seg.spans) widenSpan(merged, ti, span.min, span.max);
  }
  const groups: (readonly [number, bigint])[] = [];
  for (const [ti, { min, max }] of merged) {
    const first = dayIndex(min);
    const last = dayIndex(max);
    if (last - first >= MAX_SPAN_DAYS) return undefined;
    for (let d = first; d <= last; d++) groups.push([ti, d]);
  }
  return groups;
}

export async function convertSegments(
  engine: DuckDbEngine,
  parts: PartSet,
  segments: readonly Pick<Segment, 'seq' | 'path' | 'spans'>[],
  /** Days before this (retention) are not written. */
  retainFrom = 0n,
  /** Sort by (stream, ts); without it the conversion streams in little memory. */
  sorted = true,
): Promise<Part[]> {
  const first = segments[0]!.seq;
  const last = segments[segments.length - 1]!.seq;
  const name = partFileName(first, last);
  const source = readWal(segments.map((s) => s.path));
  return engine.with(async (conn) => {
    // Which tenants and days the segments hold: from what their appends said, else by reading them
    // once more (not staged in a table: the NDJSON scan is cheap, a staging table's memory is not).
    const groups =
      groupsFromSpans(segments) ??
      (await conn.runAndReadAll(`SELECT g, t // ${NS_PER_DAY} AS d FROM ${source} WHERE g >= 0 GROUP BY ALL`))
        .getRows()
        .map(([g, d]) => [Number(g), BigInt(d as bigint)] as const);
    const staged: { tmp: string; path: string; dir: string; ti: number; day: string }[] = [];
    const renamed: string[] = [];
    try {
      // Every part is written under a temporary name first; only when all are written do they take
      // their final names, so a failure leaves no part that a later, differently-sized batch overlaps.
      for (const [ti, d] of groups) {
        const dayStart = d * NS_PER_DAY;
        if (dayStart < retainFrom) continue;
        const day = dayOf(dayStart);
        const dir = parts.dayDir(ti, day);
        await mkdirDurable(dir);
        const tmp = join(dir, `${name}.tmp`);
        staged.push({ tmp, path: join(dir, name), dir, ti, day });
        const copied = await conn.runAndReadAll(
          `COPY (SELECT s AS stream, n, t AS ts, o AS observed, a AS attrs, b AS body FROM ${source}
                 WHERE g = ${ti} AND t >= ${dayStart} AND t < ${dayStart + NS_PER_DAY}${sorted ? ' ORDER BY s, t, n' : ''})
           TO '${tmp}' (${PARQUET_OPTIONS})`,
        );
        // A day inside a span may hold nothing: no part for it.
        if (Number(copied.getRows()[0]?.[0] ?? 1) === 0) {
          staged.pop();
          await rm(tmp, { force: true });
          continue;
        }
        await fsyncPath(tmp);
      }
      const written: Part[] = [];
      for (const p of staged) {
        await rename(p.tmp, p.path);
        renamed.push(p.path);
        await fsyncDir(p.dir);
        const { size } = await stat(p.path);
        written.push({ tenantIndex: p.ti, day: p.day, first, last, path: p.path, bytes: size });
      }
      return written;
    } catch (err) {
      await Promise.all([
        ...staged.map((p) => rm(p.tmp, { force: true })),
        ...renamed.map((p) => rm(p, { force: true })),
      ]);
      throw err;
    }
  });
}

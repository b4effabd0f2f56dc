/**
 * @module Compaction: runs of adjacent small parts in one (tenant, day) are merged into one part
 * named for the whole range. Only adjacent parts are merged, so that "a part contained in another"
 * always means "an input of a finished merge" during crash recovery.
 */
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, fsyncPath } from '../../disk/fsync.js';
import { COMPACTED_PARQUET_OPTIONS } from './convert.js';
import type { DuckDbEngine } from './engine.js';
import { type Part, partFileName } from './parts.js';
import { fileList } from './sql.js';

export interface CompactionPolicy {
  /** Parts at least this large are left alone. */
  readonly smallBytes: number;
  /** Merge once this many adjacent small parts exist (2 for days that are over). */
  readonly minRun: number;
  /** A merge takes adjacent small parts up to this many bytes in all. */
  readonly maxMergeBytes: number;
}

/** While ingest is busy, a day's parts are merged only once it has this many. */
export const DEFERRED_PARTS = 64;

/**
 * Whether ingest is busy, from the bytes appended between maintenance ticks: busy at
 * `bytesPerSecond` or more, and until `holdMs` after the rate fell below it (a burst's pauses are
 * part of the burst).
 */
export class IngestGauge {
  private last = { at: 0, bytes: 0 };
  private busyUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly bytesPerSecond = 4 << 20,
    private readonly holdMs = 10_000,
  ) {}

  /** Called at each tick with the bytes appended since the start. */
  busy(nowMs: number, totalBytes: number): boolean {
    const elapsed = nowMs - this.last.at;
    const bytes = totalBytes - this.last.bytes;
    // Bytes that came in no time at all (a clock that did not move) are a burst too.
    if (elapsed > 0 ? (bytes * 1000) / elapsed >= this.bytesPerSecond : bytes > 0) {
      this.busyUntil = nowMs + this.holdMs;
    }
    this.last = { at: nowMs, bytes: totalBytes };
    return nowMs < this.busyUntil;
  }
}

/** Size class of a part: parts within a factor of 4 of each other share a class. */
function sizeClass(bytes: number): number {
  return Math.floor(Math.log(Math.max(1, bytes / 65_536)) / Math.log(4));
}

/**
 * The run of adjacent small parts to merge next, if any. While a day is being written, only parts
 * of one size class merge (size-tiered: each line is rewritten about log4 times, not once per
 * merge); once the day is over, any adjacent small parts merge.
 */
export function pickRun(
  parts: readonly Part[],
  policy: CompactionPolicy,
  dayIsOver: boolean,
): Part[] | undefined {
  const need = dayIsOver ? 2 : policy.minRun;
  let best: Part[] = [];
  let run: Part[] = [];
  let runBytes = 0;
  for (const p of parts) {
    const fits =
      p.bytes < policy.smallBytes &&
      (dayIsOver || run.length === 0 || sizeClass(run[0]!.bytes) === sizeClass(p.bytes));
    if (!fits) {
      run = p.bytes < policy.smallBytes ? [p] : [];
      runBytes = run.length ? p.bytes : 0;
      continue;
    }
    run.push(p);
    runBytes += p.bytes;
    while (runBytes > policy.maxMergeBytes && run.length > 1) runBytes -= run.shift()!.bytes;
    if (run.length > best.length) best = [...run];
  }
  return best.length >= need ? best : undefined;
}

export async function mergeParts(engine: DuckDbEngine, dir: string, run: readonly Part[]): Promise<Part> {
  const first = run[0]!;
  const last = run[run.length - 1]!;
  const name = partFileName(first.first, last.last);
  const tmp = join(dir, `${name}.tmp`);
  try {
    await engine.with((conn) =>
      conn.run(
        `COPY (SELECT * FROM read_parquet(${fileList(run.map((p) => p.path))}) ORDER BY stream, ts, n)
         TO '${tmp}' (${COMPACTED_PARQUET_OPTIONS})`,
      ),
    );
    await fsyncPath(tmp);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const path = join(dir, name);
  await rename(tmp, path);
  await fsyncDir(dir);
  return {
    tenantIndex: first.tenantIndex,
    day: first.day,
    first: first.first,
    last: last.last,
    path,
    bytes: (await stat(path)).size,
  };
}

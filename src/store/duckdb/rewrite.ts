/**
 * @module Taking rows out of a part for good (a deletion, a retention rule): the part is written
 * again without the rows a condition selects, under the next generation's name (parts.ts), and the
 * old file retired once no reader holds it. A part left with no rows is retired without a successor.
 * Both names hold the same range of log segments, so a crash between writing the new file and
 * retiring the old one is mended at the next start (the newer generation wins).
 */
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir, fsyncPath } from '../../disk/fsync.js';
import { COMPACTED_PARQUET_OPTIONS } from './convert.js';
import type { DuckDbEngine } from './engine.js';
import { type Part, partFileName } from './parts.js';
import { fileList } from './sql.js';

export interface Rewritten {
  /** Rows taken out. */
  readonly removed: number;
  /** The part that replaces the old one; undefined when no row is left (or none was taken out: then it is the old one). */
  readonly part: Part | undefined;
}

/**
 * Writes `part` again without the rows `condition` selects (SQL over the part's columns, with
 * `params` bound). A part with no such row is left as it is.
 */
export async function rewritePart(
  engine: DuckDbEngine,
  part: Part,
  condition: string,
  params: readonly unknown[],
): Promise<Rewritten> {
  const source = `read_parquet(${fileList([part.path])})`;
  const [[count] = []] = await engine.all(
    `SELECT count(*) FROM ${source} WHERE ${condition}`,
    params as never[],
  );
  const removed = Number(count ?? 0);
  if (removed === 0) return { removed, part };
  const gen = (part.gen ?? 0) + 1;
  const path = join(dirname(part.path), partFileName(part.first, part.last, gen));
  const tmp = `${path}.tmp`;
  let kept: number;
  try {
    const [[n] = []] = await engine.all(
      `COPY (SELECT * FROM ${source} WHERE NOT ${condition} ORDER BY stream, ts, n) TO '${tmp}' (${COMPACTED_PARQUET_OPTIONS})`,
      params as never[],
    );
    kept = Number(n ?? 0);
    if (kept > 0) await fsyncPath(tmp);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (kept === 0) {
    await rm(tmp, { force: true });
    return { removed, part: undefined };
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
  return { removed, part: { ...part, path, gen, bytes: (await stat(path)).size } };
}

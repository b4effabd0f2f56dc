/**
 * @module Salvaging a write-ahead-log segment that DuckDB cannot convert: every line is checked in
 * Node against the format (encode.ts: eight fields, integers that fit a signed 64-bit column, a
 * body that is text or a JSON string), the lines that pass are kept, and the original is moved to
 * the quarantine directory. One bad line (a time past year 2262 that a store before this check
 * took in, say) then costs that line, not the segment, and never blocks conversion of the rest.
 */
import { readFile, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fsyncDir, mkdirDurable, writeFileAtomic } from '../../../disk/fsync.js';
import { TRAILER_TENANT, WalLines } from './encode.js';

const MAX_INT64 = (1n << 63n) - 1n;
const UINT = /^\d{1,19}$/;

/** Undefined when a `.wal`/`.wal2` line's fields are well-formed, else what is wrong. */
export function lineProblem(fields: readonly string[]): string | undefined {
  if (fields.length !== 8) return `${fields.length} fields, not 8`;
  const [g, s, n, t, o, a, e, b] = fields as [string, string, string, string, string, string, string, string];
  if (!/^\d{1,9}$/.test(g)) return `tenant field ${JSON.stringify(g.slice(0, 20))} is not an index`;
  for (const [name, v] of [
    ['stream', s],
    ['sequence', n],
    ['time', t],
    ['observed time', o],
  ] as const) {
    if (!UINT.test(v) || BigInt(v) > MAX_INT64) {
      return `${name} ${JSON.stringify(v.slice(0, 24))} is not a non-negative 64-bit integer`;
    }
  }
  if (e !== '0' && e !== '1') return `escape flag ${JSON.stringify(e.slice(0, 8))} is not 0 or 1`;
  try {
    if (a !== '' && (typeof JSON.parse(a) !== 'object' || a[0] !== '{'))
      return 'attributes are not a JSON object';
    if (e === '1' && typeof JSON.parse(b) !== 'string') return 'escaped body is not a JSON string';
  } catch {
    return 'attributes or escaped body are not valid JSON';
  }
  return undefined;
}

export interface Salvage {
  /** Lines kept and dropped (trailers not counted). */
  readonly kept: number;
  readonly dropped: number;
  /** The first few reasons, with line numbers. */
  readonly reasons: readonly string[];
  /** Bytes of the segment afterwards (0: nothing was left, and the file is gone). */
  readonly bytes: number;
  /** Where the original now is. */
  readonly quarantined: string;
}

/**
 * Rewrites a `.wal2` or `.wal` segment with only its well-formed lines (a `.wal2` one as one record
 * with a new trailer) and moves the original into `quarantineDir`. `.ndjson` segments and segments
 * where every line is well-formed (the fault is elsewhere) are moved aside whole.
 */
export async function salvageSegment(path: string, quarantineDir: string): Promise<Salvage> {
  const name = basename(path);
  const buf = await readFile(path);
  const kept: Buffer[] = [];
  const reasons: string[] = [];
  let dropped = 0;
  let keptLines = 0;
  let maxN = 0;
  if (!name.endsWith('.ndjson')) {
    let start = 0;
    let lineNo = 0;
    while (start < buf.length) {
      let nl = buf.indexOf(0x0a, start);
      if (nl < 0) nl = buf.length;
      lineNo++;
      const line = buf.toString('utf8', start, nl);
      const fields = line.split('\x1f');
      if (fields[0] !== String(TRAILER_TENANT)) {
        const problem = lineProblem(fields);
        if (problem) {
          dropped++;
          if (reasons.length < 5) reasons.push(`line ${lineNo}: ${problem}`);
        } else {
          kept.push(buf.subarray(start, Math.min(nl + 1, buf.length)));
          keptLines++;
          maxN = Math.max(maxN, Number(fields[2]));
        }
      }
      start = nl + 1;
    }
  }
  await mkdirDurable(quarantineDir);
  const quarantined = join(quarantineDir, `${name}.${Date.now()}`);
  const salvageable = dropped > 0 && keptLines > 0;
  let body: Buffer = Buffer.alloc(0);
  if (salvageable) {
    body = Buffer.concat(kept);
    if (body[body.length - 1] !== 0x0a) body = Buffer.concat([body, Buffer.from('\n')]);
    if (name.endsWith('.wal2')) body = withTrailer(body, maxN);
  }
  await rename(path, quarantined);
  if (salvageable) await writeFileAtomic(path, body);
  else await fsyncDir(quarantineDir);
  return {
    kept: salvageable ? keptLines : 0,
    dropped: salvageable ? dropped : keptLines + dropped,
    reasons,
    bytes: body.length,
    quarantined,
  };
}

/** `lines` (whole lines) followed by the trailer that vouches for them. */
function withTrailer(lines: Buffer, maxN: number): Buffer {
  const w = new WalLines(0, lines.length + 64);
  w.raw(lines);
  w.finish(maxN);
  return Buffer.from(w.bytes);
}

/**
 * @module The `file` output: records appended to a local file as NDJSON, one line each:
 * `{"timestamp":"<RFC 3339, nanoseconds>","labels":{…},"attributes":{…},"body":"…"}`.
 *
 * Options: `path` (relative to the configuration's directory; may hold `%Y`, `%m`, `%d` and `%H`,
 * filled from each record's UTC time, and `%%` for a percent sign, so that a file per day is
 * written). Parent directories are created. A batch is done when every file it touched is written
 * and fsynced; a failure (disk full, permissions) is retryable, since the data is not at fault.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { LogRecord } from '../../../model/record.js';
import { NS_PER_MS } from '../../../model/time.js';
import { getOrCreate } from '../../../util/maps.js';
import { recordJsonLine } from '../http/record-json.js';
import { type Output, OutputError, type OutputFactory } from '../output.js';
import { abortedError } from './stream.js';

/** The path for a record's time: `%Y`, `%m`, `%d`, `%H` from its UTC time; `%%` is `%`. */
export function expandPath(pattern: string, ns: bigint): string {
  if (!pattern.includes('%')) return pattern;
  const iso = new Date(Number(ns / NS_PER_MS)).toISOString();
  const parts: Record<string, string> = {
    Y: iso.slice(0, 4),
    m: iso.slice(5, 7),
    d: iso.slice(8, 10),
    H: iso.slice(11, 13),
    '%': '%',
  };
  return pattern.replace(/%([YmdH%])/g, (_, c: string) => parts[c]!);
}

async function appendSynced(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, 'a');
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export const fileOutput: OutputFactory = (name, opts, ctx): Output => {
  const pattern = opts.string('path');
  if (pattern.trim() === '') throw opts.error('path', 'must not be empty');
  const bad = /%[^YmdH%]|%$/.exec(pattern);
  if (bad) throw opts.error('path', `unknown placeholder ${JSON.stringify(bad[0])} (use %Y, %m, %d, %H, %%)`);
  opts.done();
  const base = resolve(ctx.baseDir, pattern);
  return {
    name,
    type: 'file',
    async send(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw abortedError(signal);
      // Lines grouped by file, each file's lines in batch order.
      const byPath = new Map<string, string[]>();
      for (const r of records) {
        getOrCreate(byPath, expandPath(base, r.timestamp), () => []).push(recordJsonLine(r));
      }
      for (const [p, lines] of byPath) {
        if (signal.aborted) throw abortedError(signal);
        try {
          await appendSynced(p, lines.join(''));
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new OutputError(`file ${p}: ${msg}`, true, { cause: err });
        }
      }
    },
    async close(): Promise<void> {},
  };
};

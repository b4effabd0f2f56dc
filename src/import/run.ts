/**
 * @module The import: files found, each read line by line through its format's parser, entries
 * batched and pushed, progress shown, and a summary of what became of them. The summary counts what
 * the server said it stored, found already stored (duplicates) and refused, by reason (it answers
 * a partly invalid push with 400 after storing the rest, as Loki does, and says how many in
 * `X-Kjournal-Entries-*` headers; from a plain Loki they are counted from its messages), and what
 * the import skipped itself: malformed lines and, with `--missing-time refuse`, lines without a time.
 *
 * A time no server can store (before 1970, after 2262: a JSON push cannot carry it) is refused
 * here, counted with the server's refusals and named by file and line with Loki's text.
 *
 * A refused entry does not stop the import. Its exit status is non-zero when the server refused
 * something for a reason other than age (too new, too long, bad labels: data or a clock to look at),
 * when nothing could be read or imported, when a file could not be read, or when the server refused
 * a push otherwise (401, 403, 413...) or stayed unavailable, which stops it: the rest would fare
 * the same. Too-old entries are only counted: a long-term import into a server with a shorter
 * `--reject-old-samples-max-age` loads what it may.
 *
 * JSON and logfmt files get a `filename` label, the file's absolute real path, as promtail's file
 * discovery sets `filename`; their lines without a time get the file's modification time plus the
 * line number in nanoseconds (`--missing-time mtime`, the default: the same on every import of the
 * file, so a second import repeats nothing) or are skipped (`--missing-time refuse`).
 */
import { ClientError } from '../client/errors.js';
import { formatRefused } from '../formats/entry-counts.js';
import { type FormatName, PARSERS, type ParseSink } from '../formats/line-parsers.js';
import { labelSetText } from '../formats/loki-push/labels.js';
import { podLogMeta } from '../formats/pod-path.js';
import type { Labels } from '../model/record.js';
import { nowNs } from '../model/time.js';
import { STORE_RANGE_LIMITS, TimeWindow } from '../model/validate-time.js';
import { Batcher, type Pusher } from './batcher.js';
import { detectFormat } from './detect.js';
import { ImportError } from './errors.js';
import { collectFiles, type ImportFile } from './files.js';
import { readLines } from './lines.js';
import { formatBytes, Progress, type ProgressMode, type ProgressStream } from './progress.js';

/** What lines without a time get: the file's modification time, or skipped. */
export const MISSING_TIME_MODES = ['mtime', 'refuse'] as const;
export type MissingTimeMode = (typeof MISSING_TIME_MODES)[number];

export interface ImportOptions {
  readonly format: FormatName | 'auto';
  readonly labels: Labels;
  readonly batchLines: number;
  readonly batchBytes: number;
  /** Lines without a time (JSON, logfmt): default `mtime`. */
  readonly missingTime?: MissingTimeMode;
  /** Default: a bar when stderr is a terminal, plain lines otherwise. */
  readonly progress?: ProgressMode;
  /** How many malformed lines (and refused pushes) are listed one by one; the rest are only counted. */
  readonly listMalformed?: number;
  /** Progress, malformed lines and the summary: all on stderr, so stdout stays clean for pipes. */
  readonly stderr?: ProgressStream;
  /** Handed the function that prints a line without breaking the progress bar (for retry notices). */
  readonly attachLog?: (log: (message: string) => void) => void;
}

export interface ImportSummary {
  files: number;
  unreadableFiles: number;
  lines: number;
  /** Entries the parsers made. */
  entries: number;
  /** Entries sent and answered by the server. */
  sent: number;
  /** Entries the server stored. */
  stored: number;
  /** Entries the server had already (identical stream, time and line). */
  duplicates: number;
  /** Entries the server refused, by reason (`too_old`, `too_new`, ...). */
  refused: Record<string, number>;
  bytes: number;
  malformed: number;
  /** Lines without a time: given the file's modification time, or skipped (`missingTime`). */
  untimed: number;
  missingTime: MissingTimeMode;
  /** True when a server without kjournal's headers answered: counts from its messages. */
  estimated: boolean;
  seconds: number;
}

/** Refusals that do not make the import fail: too old for the server's age limit. */
const AGE_REASONS = new Set(['too_old']);

const HEAD_LINES = 50;

export async function runImport(
  paths: readonly string[],
  pusher: Pusher,
  options: ImportOptions,
): Promise<ImportSummary> {
  const stderr = options.stderr ?? process.stderr;
  const listMalformed = options.listMalformed ?? 20;
  const started = Date.now();
  const files = await collectFiles(paths);
  if (files.length === 0) throw new ImportError(`nothing to import: no files in ${paths.join(' ')}`);

  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const progress = new Progress(stderr, totalBytes, options.progress ?? (stderr.isTTY ? 'bar' : 'plain'));
  options.attachLog?.((message) => progress.log(message));
  const batcher = new Batcher(pusher, options.labels, options.batchLines, options.batchBytes);
  const missingTime = options.missingTime ?? 'mtime';
  const summary: ImportSummary = {
    files: 0,
    unreadableFiles: 0,
    lines: 0,
    entries: 0,
    sent: 0,
    stored: 0,
    duplicates: 0,
    refused: {},
    bytes: 0,
    malformed: 0,
    untimed: 0,
    missingTime,
    estimated: false,
    seconds: 0,
  };
  let failure: unknown;
  // What no server can store is refused here (model/validate-time.ts); the rest is the server's.
  const storable = new TimeWindow(STORE_RANGE_LIMITS, nowNs());
  const refusedHere: Record<string, number> = {};
  let refusedLines = 0;
  let refusedPushes = 0;
  batcher.onRefused = (outcome) => {
    refusedPushes++;
    if (refusedPushes <= listMalformed) {
      progress.log(`refused by the server (${formatRefused(outcome.refused)}): ${outcome.message ?? ''}`);
    }
  };

  const readFile = async (file: ImportFile): Promise<void> => {
    const pod = podLogMeta(file.realPath) ?? podLogMeta(file.path);
    // Labels of a generic file (JSON, logfmt) with its `filename`, per labels object of its parser.
    let withFilename: Map<Labels, Labels> | undefined;
    const sink: ParseSink = {
      entry(labels, ts, line, attributes) {
        summary.entries++;
        const why = storable.check(ts);
        if (why !== undefined) {
          refusedHere[why] = (refusedHere[why] ?? 0) + 1;
          refusedLines++;
          if (refusedLines <= listMalformed) {
            const stream = labelSetText({ ...labels, ...options.labels });
            progress.log(`refused: ${file.path}:${lineNo}: ${storable.message(stream, ts, why)}`);
          }
          return;
        }
        if (withFilename !== undefined) {
          let l = withFilename.get(labels);
          if (l === undefined) {
            l = { ...labels, filename: file.realPath };
            withFilename.set(labels, l);
          }
          labels = l;
        }
        batcher.add(labels, ts, line, attributes);
      },
      malformed(lineNo, reason) {
        summary.malformed++;
        if (summary.malformed <= listMalformed) progress.log(`malformed: ${file.path}:${lineNo}: ${reason}`);
      },
      untimed() {
        summary.untimed++;
      },
    };
    let parser: ReturnType<(typeof PARSERS)[FormatName]> | undefined;
    let head: (string | null)[] | undefined = options.format === 'auto' ? [] : undefined;
    let lineNo = 0;
    const feed = (line: string | null): void => {
      lineNo++;
      summary.lines++;
      if (line === null) sink.malformed(lineNo, 'line too long');
      else if (line !== '' && line !== '\r') parser?.line(line, lineNo);
    };
    const start = (format: FormatName): void => {
      if (format === 'json' || format === 'logfmt') withFilename = new Map();
      parser = PARSERS[format](
        {
          path: file.path,
          ...(pod ? { pod } : {}),
          ...(missingTime === 'mtime' ? { missingTimeNs: file.mtimeNs } : {}),
        },
        sink,
      );
    };
    const detect = (lines: readonly (string | null)[]): FormatName =>
      detectFormat(
        lines.slice(0, HEAD_LINES).filter((l): l is string => l !== null),
        pod !== undefined,
      );
    if (options.format !== 'auto') start(options.format);
    const consume = async (lines: readonly (string | null)[]): Promise<void> => {
      for (const l of lines) {
        feed(l);
        if (batcher.hasReady) await batcher.sendReady();
      }
    };
    const onBytes = (n: number): void => {
      summary.bytes += n;
    };
    for await (const lines of readLines(file.realPath, onBytes)) {
      if (head === undefined) {
        await consume(lines);
      } else {
        // Detection waits for the first lines; they are then parsed like the others.
        for (const l of lines) head.push(l);
        if (head.length >= HEAD_LINES) {
          const h = head;
          head = undefined;
          start(detect(h));
          await consume(h);
        }
      }
      progress.update(summary.bytes, summary.lines);
    }
    if (head !== undefined) {
      start(detect(head));
      await consume(head);
    }
    parser?.end();
    if (batcher.hasReady) await batcher.sendReady();
    progress.update(summary.bytes, summary.lines);
  };

  try {
    for (const file of files) {
      summary.files++;
      try {
        await readFile(file);
      } catch (err) {
        // Push errors end the import; a file that cannot be read is reported and skipped.
        if (err instanceof ClientError) throw err;
        summary.unreadableFiles++;
        progress.log(`cannot read ${file.path}: ${(err as Error).message}`);
      }
    }
    await batcher.finish();
  } catch (err) {
    failure = err;
  } finally {
    progress.stop();
  }

  summary.seconds = (Date.now() - started) / 1000;
  summary.sent = batcher.acknowledged;
  summary.stored = batcher.stored;
  summary.duplicates = batcher.duplicates;
  for (const counts of [refusedHere, batcher.refused]) {
    for (const [k, n] of Object.entries(counts)) summary.refused[k] = (summary.refused[k] ?? 0) + n;
  }
  summary.estimated = batcher.estimated;
  if (summary.malformed > listMalformed) {
    stderr.write(`... and ${summary.malformed - listMalformed} more malformed lines\n`);
  }
  if (refusedLines > listMalformed) {
    stderr.write(`... and ${refusedLines - listMalformed} more refused lines\n`);
  }
  if (refusedPushes > listMalformed) {
    stderr.write(`... and ${refusedPushes - listMalformed} more pushes with refused entries\n`);
  }
  // An import the server stopped (down, refusing every push) did not import its files: the summary
  // says what was read and sent, and the error below what happened.
  stderr.write(`${formatSummary(summary, failure !== undefined)}\n`);
  const tooOld = summary.refused.too_old ?? 0;
  if (tooOld > 0) {
    stderr.write(
      `note: ${tooOld} entries were older than the server accepts (its --reject-old-samples-max-age); they were skipped\n`,
    );
  }
  if (failure !== undefined) {
    const msg = (failure as Error).message ?? String(failure);
    throw new ImportError(`import stopped: ${msg} (${batcher.stored} entries were stored before)`);
  }
  if (summary.entries === 0) {
    const untimed = missingTime === 'refuse' && summary.untimed > 0;
    throw new ImportError(
      summary.lines === 0
        ? `nothing could be read from ${files.length} file(s)`
        : untimed
          ? `nothing could be imported: all ${summary.malformed + summary.untimed} non-empty lines were malformed or had no time (--missing-time refuse)`
          : `nothing could be imported: all ${summary.malformed} non-empty lines were malformed`,
    );
  }
  if (summary.unreadableFiles > 0) {
    throw new ImportError(
      `${summary.unreadableFiles} of ${summary.files} files could not be read (the others were imported)`,
    );
  }
  const failed: Record<string, number> = {};
  let failedCount = 0;
  for (const [reason, n] of Object.entries(summary.refused)) {
    if (AGE_REASONS.has(reason) || n === 0) continue;
    failed[reason] = n;
    failedCount += n;
  }
  if (failedCount > 0) {
    throw new ImportError(
      `the server refused ${failedCount} entries (${formatRefused(failed)}); the others were imported`,
    );
  }
  return summary;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * One line (`stopped after reading 2 files: ...` when the import stopped): `imported 2 files: 120 lines, 100 entries sent: 95 stored, 2 duplicate, 3 refused
 * (too_new=1, too_old=2); 2 malformed, 4 without a time (given the file's modification time);
 * 5.0 kB, 0.5s, 240 lines/s`.
 */
export function formatSummary(s: ImportSummary, stopped = false): string {
  const rate = s.seconds > 0 ? Math.round(s.lines / s.seconds) : s.lines;
  const unreadable = s.unreadableFiles > 0 ? ` (${s.unreadableFiles} unreadable)` : '';
  let refusedCount = 0;
  for (const k in s.refused) refusedCount += s.refused[k]!;
  const reasons = refusedCount > 0 ? ` (${formatRefused(s.refused)})` : '';
  const estimated = s.estimated ? " (counted from the server's messages)" : '';
  const untimed =
    s.untimed > 0
      ? `, ${s.untimed} without a time (${s.missingTime === 'mtime' ? "given the file's modification time" : 'skipped'})`
      : '';
  return (
    `${stopped ? 'stopped after reading' : 'imported'} ${plural(s.files, 'file')}${unreadable}: ${s.lines} lines, ${s.sent} entries sent: ` +
    `${s.stored} stored, ${s.duplicates} duplicate, ${refusedCount} refused${reasons}${estimated}; ` +
    `${s.malformed} malformed${untimed}; ` +
    `${formatBytes(s.bytes)}, ${s.seconds.toFixed(1)}s, ${rate} lines/s`
  );
}

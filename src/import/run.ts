/**
 * @module The import: files found, each read line by line through its format's parser, entries
 * batched and pushed, progress shown, and a summary. A malformed line is counted and reported with
 * its file and line and the import goes on; a rejected push stops it, since the server would reject
 * the rest the same way.
 */
import { CliError } from '../cli/errors.js';
import { ClientError } from '../client/client.js';
import type { Labels } from '../model/record.js';
import { nowNs } from '../model/time.js';
import { Batcher, type Pusher } from './batcher.js';
import { detectFormat } from './detect.js';
import { collectFiles, type ImportFile } from './files.js';
import { type FormatName, PARSERS, type ParseSink } from './formats/index.js';
import { readLines } from './lines.js';
import { podLogMeta } from './pod-path.js';
import { formatBytes, Progress, type ProgressMode, type ProgressStream } from './progress.js';

export interface ImportOptions {
  readonly format: FormatName | 'auto';
  readonly labels: Labels;
  readonly batchLines: number;
  readonly batchBytes: number;
  /** Default: a bar when stderr is a terminal, plain lines otherwise. */
  readonly progress?: ProgressMode;
  /** How many malformed lines are listed one by one; the rest are only counted. */
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
  entries: number;
  bytes: number;
  malformed: number;
  seconds: number;
}

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
  if (files.length === 0) throw new CliError(`nothing to import: no files in ${paths.join(' ')}`);

  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const progress = new Progress(stderr, totalBytes, options.progress ?? (stderr.isTTY ? 'bar' : 'plain'));
  options.attachLog?.((message) => progress.log(message));
  const batcher = new Batcher(pusher, options.labels, options.batchLines, options.batchBytes);
  const summary: ImportSummary = {
    files: 0,
    unreadableFiles: 0,
    lines: 0,
    entries: 0,
    bytes: 0,
    malformed: 0,
    seconds: 0,
  };
  const importStart = nowNs();
  let failure: unknown;

  const readFile = async (file: ImportFile): Promise<void> => {
    const pod = podLogMeta(file.realPath) ?? podLogMeta(file.path);
    const sink: ParseSink = {
      entry(labels, ts, line, attributes) {
        summary.entries++;
        batcher.add(labels, ts, line, attributes);
      },
      malformed(lineNo, reason) {
        summary.malformed++;
        if (summary.malformed <= listMalformed) progress.log(`malformed: ${file.path}:${lineNo}: ${reason}`);
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
      parser = PARSERS[format]({ path: file.path, ...(pod ? { pod } : {}), nowNs: importStart }, sink);
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
  if (summary.malformed > listMalformed) {
    stderr.write(`... and ${summary.malformed - listMalformed} more malformed lines\n`);
  }
  stderr.write(`${formatSummary(summary, batcher.acknowledged)}\n`);
  if (failure !== undefined) {
    const msg = (failure as Error).message ?? String(failure);
    throw new CliError(`import stopped: ${msg} (${batcher.acknowledged} entries were loaded before)`);
  }
  if (summary.entries === 0) {
    throw new CliError(
      summary.lines === 0
        ? `nothing could be read from ${files.length} file(s)`
        : `nothing could be imported: all ${summary.malformed} non-empty lines were malformed`,
    );
  }
  if (summary.unreadableFiles > 0) {
    throw new CliError(
      `${summary.unreadableFiles} of ${summary.files} files could not be read (the others were imported)`,
    );
  }
  return summary;
}

export function formatSummary(s: ImportSummary, loaded: number): string {
  const rate = s.seconds > 0 ? Math.round(s.lines / s.seconds) : s.lines;
  const unreadable = s.unreadableFiles > 0 ? ` (${s.unreadableFiles} unreadable)` : '';
  return (
    `imported ${s.files} file${s.files === 1 ? '' : 's'}${unreadable}: ${s.lines} lines, ${loaded} entries loaded, ` +
    `${formatBytes(s.bytes)}, ${s.malformed} malformed, ${s.seconds.toFixed(1)}s, ${rate} lines/s`
  );
}

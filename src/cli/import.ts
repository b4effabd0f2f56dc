/**
 * @module `kjournal import`: loads existing log files (pod log trees, audit logs, events, JSON or
 * logfmt lines) into a running server through its Loki push API.
 *
 * It keeps no state of its own (no positions, no buffer: the files are read and pushed, the server
 * stores them), so unlike `serve --data` and `agent --state-dir` it has no directory to lock
 * (disk/dir-lock.ts): two imports at once are two clients of the server, which locks its own.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { KjournalClient } from '../client/client.js';
import { resolveConnection } from '../client/connection.js';
import { addConnectionOptions, type ConnectionFlags } from '../client/options.js';
import { FORMATS, type FormatName } from '../formats/line-parsers.js';
import { parseLabelList } from '../import/labels.js';
import { MISSING_TIME_MODES, type MissingTimeMode, runImport } from '../import/run.js';
import type { Labels } from '../model/record.js';

/** Loki's usual batch size; small enough for any proxy's body limit, big enough to amortise a request. */
const BATCH_BYTES = 1 << 20;

interface ImportFlags extends ConnectionFlags {
  format: FormatName | 'auto';
  labels?: Labels;
  batchLines: number;
  missingTime: MissingTimeMode;
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function labelList(text: string, previous: Labels | undefined): Labels {
  try {
    return { ...previous, ...parseLabelList(text) };
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function registerImport(program: Command): void {
  const cmd = program
    .command('import')
    .description(
      'Load existing logs into a kjournal server: /var/log/pods trees (CRI or docker json-file, rotated and .gz ' +
        'files too), audit logs, Kubernetes events, JSON or logfmt lines',
    )
    .argument('<paths...>', 'files or directories (walked recursively)')
    .addOption(
      new Option('--format <format>', 'input format, detected per file by default')
        .choices(['auto', ...FORMATS])
        .default('auto'),
    )
    .option('--labels <k=v,...>', 'labels added to every stream (repeatable)', labelList)
    .option('--batch-lines <n>', 'at most this many lines per push', positiveInt, 10_000)
    .addOption(
      new Option(
        '--missing-time <mode>',
        "JSON and logfmt lines without a time: given the file's modification time (mtime), or skipped (refuse)",
      )
        .choices(MISSING_TIME_MODES)
        .default('mtime'),
    );
  addConnectionOptions(cmd);
  cmd.action(async (paths: string[], flags: ImportFlags) => {
    const connection = await resolveConnection(flags);
    // Retry notices go through the progress display once it exists, so they do not break the bar.
    let log = (message: string): void => {
      process.stderr.write(`${message}\n`);
    };
    const client = new KjournalClient(connection, {
      userAgent: 'kjournal-import',
      onRetry: ({ attempt, delayMs, reason }) =>
        log(`push: attempt ${attempt} failed (${reason}); retrying in ${(delayMs / 1000).toFixed(1)}s`),
    });
    try {
      await runImport(paths, client, {
        format: flags.format,
        labels: flags.labels ?? {},
        batchLines: flags.batchLines,
        batchBytes: BATCH_BYTES,
        missingTime: flags.missingTime,
        attachLog: (l) => {
          log = l;
        },
      });
    } finally {
      client.close();
    }
  });
}

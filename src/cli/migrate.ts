/**
 * @module `kjournal migrate --from-data DIR (--clickhouse-url URL | --to-data DIR2)`: copies an
 * embedded store into another store (ClickHouse, or another data directory) tenant by tenant and
 * day by day with a progress bar, can be interrupted (Ctrl-C, SIGTERM, kill -9) and run again to
 * resume without duplicates, and ends by comparing each day's count in both (src/migrate/). The
 * server must be stopped: the source's data directory is locked as `kjournal serve` locks it, and
 * the delete requests in force there are honoured (deleted entries are not copied).
 *
 * Exit codes: 0 copied and every day's counts match; 1 a day's counts differ or the copy failed;
 * 2 a usage error, or a store that refuses its setup (a data directory of a newer format); 130 interrupted (the completed days are kept for the next run).
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { acquireDirLock, type DirLock, DirLockError } from '../disk/dir-lock.js';
import { DeleteRequests } from '../lifecycle/delete-requests.js';
import { MigrateError } from '../migrate/errors.js';
import { type MigrateReport, migrate } from '../migrate/migrate.js';
import { MigrateProgress, type ProgressMode } from '../migrate/progress.js';
import { MigrateState } from '../migrate/state.js';
import { createStore, type StoreConfig } from '../store/open.js';
import { type Store, StoreSetupError } from '../store/store.js';
import { addClickHouseFlags, type ClickHouseFlags, clickhouseBackend } from './clickhouse-flags.js';
import { CliError, EXIT } from './errors.js';

export interface MigrateFlags extends ClickHouseFlags {
  fromData: string;
  toData?: string;
  state?: string;
  batchEntries?: number;
  progress?: ProgressMode;
}

async function lockDir(dir: string, create: boolean): Promise<DirLock> {
  return acquireDirLock(dir, 'data directory', { create }).catch((err: unknown) => {
    throw new CliError(
      err instanceof DirLockError
        ? `${err.message}; stop the server that uses it before migrating`
        : `${dir}: ${(err as Error).message}`,
    );
  });
}

async function openOrFail(config: StoreConfig, what: string): Promise<Store> {
  const store = createStore(config) as Store | undefined;
  if (!store) {
    throw new CliError(`this build of kjournal has no ${config.backend?.kind} store backend`, 2);
  }
  try {
    await store.open();
  } catch (err) {
    // A setup the store refuses (a newer data format or schema) exits as `serve` does: 2.
    throw new CliError(
      `cannot open the ${what} store: ${(err as Error).message}`,
      err instanceof StoreSetupError ? EXIT.usage : EXIT.failure,
    );
  }
  return store;
}

/** Runs a migration; `signal` interrupts it. Resolves with what it did, or throws a CliError. */
export async function runMigrate(
  flags: MigrateFlags,
  out: (text: string) => void,
  err: { write(text: string): unknown; isTTY?: boolean },
  signal?: AbortSignal,
): Promise<MigrateReport> {
  if ((flags.toData === undefined) === (flags.clickhouseUrl === undefined)) {
    throw new CliError('give one target: --clickhouse-url URL or --to-data DIR', 2);
  }
  const from = resolve(flags.fromData);
  const st = await stat(from).catch(() => undefined);
  if (!st?.isDirectory()) throw new CliError(`--from-data ${flags.fromData} is not a directory`, 2);
  // Opening a store creates one where there is none: a mistyped path must not become an empty source.
  if (!(await stat(join(from, 'catalog.ndjson')).catch(() => undefined))) {
    throw new CliError(`--from-data ${flags.fromData} holds no kjournal store (no catalog.ndjson)`, 2);
  }
  const to = flags.toData === undefined ? undefined : resolve(flags.toData);
  if (to === from) throw new CliError('--to-data names the source directory itself', 2);
  const backend = await clickhouseBackend(flags);
  const target =
    to !== undefined
      ? `data ${to}`
      : `clickhouse ${flags.clickhouseUrl} database ${flags.clickhouseDatabase ?? 'kjournal'}`;
  // One state file per target by default, so that migrating to a second target starts afresh.
  const statePath = resolve(
    flags.state ??
      join(from, 'migrate', `${createHash('sha256').update(target).digest('hex').slice(0, 12)}.ndjson`),
  );

  const locks: DirLock[] = [];
  const stores: Store[] = [];
  let requests: DeleteRequests | undefined;
  let state: MigrateState | undefined;
  try {
    locks.push(await lockDir(from, false));
    const source = await openOrFail({ dataDir: from }, 'source');
    stores.push(source);
    // Entries under a delete request are left out of reads, so they are not copied. Nothing is
    // purged here: the cancel period is never over during the copy.
    requests = new DeleteRequests({
      dataDir: from,
      store: source,
      cancelPeriod: 1n << 62n,
      now: () => 0n,
      log: () => undefined,
      intervalMs: 2 ** 31 - 1,
    });
    await requests.open();
    let targetStore: Store;
    if (to !== undefined) {
      locks.push(await lockDir(to, true));
      targetStore = await openOrFail({ dataDir: to }, 'target');
    } else {
      // A shared backend keeps no data locally; its local state goes beside the migration's.
      targetStore = await openOrFail(
        { dataDir: join(from, 'migrate'), ...(backend ? { backend } : {}) },
        'target',
      );
    }
    stores.push(targetStore);
    try {
      state = await MigrateState.open(statePath, target);
    } catch (e) {
      throw new CliError(e instanceof Error ? e.message : String(e));
    }
    const mode: ProgressMode = flags.progress ?? (err.isTTY ? 'bar' : 'plain');
    const progress = new MigrateProgress(err, mode);
    const report = await migrate({
      source,
      target: targetStore,
      state,
      progress,
      ...(signal ? { signal } : {}),
      ...(flags.batchEntries === undefined ? {} : { batchEntries: flags.batchEntries }),
    });
    out(
      `migrated ${report.entries} entries in ${report.units} tenant-day(s) to ${target} ` +
        `(${report.copiedUnits} copied by this run, ${report.duplicates} already there); every day's count matches\n`,
    );
    return report;
  } catch (e) {
    if (e instanceof MigrateError) {
      throw new CliError(e.message, e.code === 'MIGRATE_INTERRUPTED' ? 130 : 1, { cause: e.cause });
    }
    throw e;
  } finally {
    await requests?.close();
    await state?.close();
    for (const s of stores.reverse()) await s.close().catch(() => undefined);
    for (const l of locks.reverse()) await l.release();
  }
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function progressMode(text: string): ProgressMode {
  if (text !== 'bar' && text !== 'plain' && text !== 'none') {
    throw new InvalidArgumentError('must be bar, plain or none');
  }
  return text;
}

export function registerMigrate(program: Command): void {
  const cmd = program
    .command('migrate')
    .description(
      'Copy an embedded store (the server stopped) into ClickHouse or another data directory, day by day; ' +
        'interrupt and run again to resume; ends by comparing the per-day counts',
    )
    .requiredOption('--from-data <dir>', 'the data directory to copy (kjournal serve --data)')
    .option('--to-data <dir>', 'copy into another embedded store instead (its server stopped)')
    .option('--state <file>', 'where completed days are recorded (default FROM/migrate/<target>.ndjson)')
    .option('--batch-entries <n>', 'at most this many entries per append', positiveInt)
    .option('--progress <mode>', 'bar, plain or none (default: bar on a terminal, else plain)', progressMode);
  addClickHouseFlags(cmd, 'the target');
  cmd.action(async (flags: MigrateFlags) => {
    const ac = new AbortController();
    let signals = 0;
    const onSignal = (): void => {
      // The first signal stops after the batch in flight; a second one stops at once.
      if (++signals > 1) process.exit(130);
      process.stderr.write('\nmigrate: stopping after the batch in flight (again to stop at once)\n');
      ac.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await runMigrate(flags, (t) => process.stdout.write(t), process.stderr, ac.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}

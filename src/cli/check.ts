/**
 * @module `kjournal check DATA_DIR [--repair]`: verifies every part and log segment of a data
 * directory (the store's `checkStore`) and prints one line per problem and a summary with the
 * directory's format. Exit 0 when nothing is damaged (or, with `--repair`, everything damaged was
 * dealt with), 1 otherwise; 2 for a directory of a newer format, which is not checked.
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { acquireDirLock, DirLockError } from '../disk/dir-lock.js';
import { checkStore } from '../store/open.js';
import { StoreSetupError } from '../store/store.js';
import { CliError, EXIT } from './errors.js';

export async function runCheck(dir: string, repair: boolean, write: (text: string) => void): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new CliError(`${dir} is not a directory`);
  // The server must not change the files under the check (nor the check under the server).
  const lock = await acquireDirLock(dir, 'data directory', { create: false }).catch((err: unknown) => {
    throw new CliError(
      err instanceof DirLockError ? `${err.message}; stop the server before checking` : String(err),
    );
  });
  let report: Awaited<ReturnType<typeof checkStore>>;
  try {
    report = await checkStore({ dataDir: dir }, { repair });
  } catch (err) {
    // A data directory of a newer format is refused as `serve` refuses it (exit 2).
    throw new CliError(
      err instanceof Error ? err.message : String(err),
      err instanceof StoreSetupError ? EXIT.usage : EXIT.failure,
    );
  } finally {
    await lock.release();
  }
  for (const p of report.problems) {
    write(`${p.file}: DAMAGED: ${p.problem}${p.repaired ? ` (repaired: ${p.repaired})` : ''}\n`);
  }
  for (const n of report.notes) write(`${n}\n`);
  const damaged = report.problems.length;
  const unrepaired = report.problems.filter((p) => !p.repaired).length;
  const aside = report.quarantined > 0 ? `; ${report.quarantined} file(s) already in quarantine/` : '';
  write(
    `${dir}: ${report.format === undefined ? '' : `format ${report.format}, `}${report.parts} part(s), ${report.segments} log segment(s) checked: ` +
      `${damaged === 0 ? 'no damage' : `${damaged} damaged${unrepaired < damaged ? `, ${damaged - unrepaired} repaired` : ''}`}${aside}\n`,
  );
  if (unrepaired > 0) {
    throw new CliError(
      `${unrepaired} damaged file(s) in ${dir}${repair ? '' : '; run `kjournal check --repair` to move them aside'}`,
    );
  }
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'Verify every Parquet part and write-ahead-log segment of a data directory (the server must be stopped); ' +
        '--repair moves damaged files to DATA_DIR/quarantine',
    )
    .argument('<dir>', 'the data directory (kjournal serve --data)')
    .option('--repair', 'move damaged parts aside and keep the good records of damaged log segments')
    .action(async (dir: string, flags: { repair?: boolean }) => {
      await runCheck(dir, flags.repair === true, (t) => process.stdout.write(t));
    });
}

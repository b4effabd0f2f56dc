/**
 * @module The errors of `kjournal migrate`, each with a fixed code; src/cli/main.ts turns them into
 * one line on stderr and an exit code (src/cli/migrate.ts picks it).
 */

export type MigrateErrorCode =
  /** The state file belongs to another target or cannot be read. */
  | 'MIGRATE_STATE'
  /** The source store cannot list its tenants. */
  | 'MIGRATE_SOURCE'
  /** Stopped by a signal; the completed units are kept for the next run. */
  | 'MIGRATE_INTERRUPTED'
  /** The final comparison found a day whose counts differ. */
  | 'MIGRATE_MISMATCH';

export class MigrateError extends Error {
  override readonly name = 'MigrateError';
  constructor(
    readonly code: MigrateErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * @module The CLI's error type. `main.ts` is the one place where errors become exit codes and messages.
 */

export class CliError extends Error {
  readonly exitCode: number;
  override readonly name = 'CliError';

  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** One line that says why a command failed, for stderr. */
export function oneLineReason(err: unknown): string {
  if (err instanceof Error) {
    // A message that already quotes its cause (the store's setup errors do) is not repeated.
    const cause =
      err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`.replace(/\s*\n\s*/g, ' ');
  }
  return String(err);
}

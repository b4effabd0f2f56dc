/**
 * @module The CLI's error type and its exit codes. `main.ts` is the one place where errors become exit
 * codes and messages.
 */

/**
 * The exit codes of every command (README "Exit codes"), as POSIX shells and GNU tools use them:
 * 0 done; 1 failed (a server that cannot be reached or refuses, an import that stopped); 2 a usage
 * error (an unknown command or option, a missing argument, a bad value: commander's and our own
 * checks alike); 128 + the signal for a command ended by one (130 Ctrl-C, 143 SIGTERM), as a shell
 * reports a program its signal killed, whether the command was following (`query -f`, `pods -f`,
 * `logs -f`, `events -w`, `get -w`...) or not. `serve` and `agent` are the exception: a signal is
 * how they are stopped, and they exit 0 once shut down (as kube-apiserver and kubelet do).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

export class CliError extends Error {
  readonly exitCode: number;
  override readonly name = 'CliError';

  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/**
 * Several errors found at once (every error of a configuration file): `main.ts` prints each on its
 * own line, so that a file is fixed in one round.
 */
export class CliErrors extends CliError {
  constructor(
    readonly lines: readonly string[],
    exitCode = 1,
  ) {
    super(lines.join('\n'), exitCode);
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

/** A command that a signal ended: nothing to print, the exit code says it (130 or 143). */
export class InterruptedError extends CliError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
  }
}

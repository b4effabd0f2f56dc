#!/usr/bin/env node
/**
 * @module The `kjournal` command. `runMain(argv)` is testable without a process; this file is also the
 * single place where errors become exit codes.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { AuthConfigError } from '../auth/errors.js';
import { StoreSetupError } from '../store/store.js';
import { ownVersion } from '../util/version.js';
import { registerCommands } from './commands.js';
import { CliError, CliErrors, EXIT, InterruptedError, oneLineReason } from './errors.js';

/** The program, with the command `argv` runs (or all of them, for help). */
export async function createProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('kjournal')
    .description(
      'Long-term logs for Kubernetes: collect, keep and serve container logs, events, audit and node logs',
    )
    .version(ownVersion())
    .showHelpAfterError(false)
    .exitOverride();
  await registerCommands(program, argv);
  return program;
}

/** Runs the CLI with `argv` (without `node` and the script path) and returns the exit code. */
export async function runMain(argv: readonly string[]): Promise<number> {
  const program = await createProgram(argv);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version output are "errors" to commander but successes to the user.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
        return 0;
      }
      // Every other commander error is a usage error: an unknown command or option, a missing
      // argument, a value an option's parser refused (commander says 1 for some of them).
      return EXIT.usage;
    }
    if (err instanceof InterruptedError) return err.exitCode;
    if (err instanceof CliErrors) {
      process.stderr.write(err.lines.map((line) => `kjournal: ${line}\n`).join(''));
      return err.exitCode;
    }
    process.stderr.write(`kjournal: ${oneLineReason(err)}\n`);
    return exitCodeOf(err);
  }
}

/**
 * The exit code of a command that failed (the table is EXIT in errors.ts): the CLI's own errors
 * carry theirs; a contradiction among the auth flags is a usage error (2), as a wrong flag is; every
 * other failure (the client's ClientError, the import's ImportError, a bad configuration file...) is 1.
 */
function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof AuthConfigError) return err.kind === 'usage' ? 2 : 1;
  // The store refused its configuration (credentials, rights, a newer schema): fix and rerun.
  if (err instanceof StoreSetupError) return 2;
  return 1;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runMain(process.argv.slice(2)).then((code) => {
    if (code !== 0) process.exitCode = code;
  });
}

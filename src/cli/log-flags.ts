/**
 * @module `--log-level` and `--log-format` of `serve` and `agent` (and their variables
 * KJOURNAL_LOG_LEVEL, KJOURNAL_LOG_FORMAT): how the process writes its own events (util/log.ts).
 * A value outside the choices is a usage error (exit 2), as commander reports it.
 */
import { type Command, Option } from 'commander';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  Logger,
  type LogLevel,
  setDefaultLogger,
} from '../util/log.js';

export interface LogFlags {
  logLevel?: string;
  logFormat?: string;
}

export function addLogFlags(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--log-level <level>',
        'least severe events written to stderr: debug (also every request), info, warn or error',
      )
        .choices(LOG_LEVELS)
        .default('info')
        .env('KJOURNAL_LOG_LEVEL'),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'text (time level message key=value) or json (one object per line: ts, level, msg, fields)',
      )
        .choices(LOG_FORMATS)
        .default('text')
        .env('KJOURNAL_LOG_FORMAT'),
    );
}

/** The process's logger from the flags (already checked by commander); also the default logger. */
export function loggerFromFlags(flags: LogFlags): Logger {
  const logger = new Logger({
    level: (flags.logLevel ?? 'info') as LogLevel,
    format: (flags.logFormat ?? 'text') as LogFormat,
  });
  setDefaultLogger(logger);
  return logger;
}

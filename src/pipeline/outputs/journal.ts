/**
 * @module The `journal` output: the host's local store. It is built in, not declared: a flow lists
 * `journal` among its outputs, and with no flow at all every record goes there. The host supplies
 * the Output (serve appends to its store, the agent ships to its server), and stores what the
 * pipeline routes to it in its own durable path, not through an output buffer.
 */

import { ConfigError } from '../../config/options.js';
import type { LogRecord } from '../../model/record.js';
import type { Output, OutputFactory } from './output.js';

export const JOURNAL_OUTPUT = 'journal';

/** An Output named `journal` that hands every batch to `send` (the host's store or shipper). */
export function journalOutput(
  send: (records: readonly LogRecord[], signal: AbortSignal) => Promise<void>,
  close: () => Promise<void> = async () => undefined,
): Output {
  return { name: JOURNAL_OUTPUT, type: JOURNAL_OUTPUT, send, close };
}

/** `type: journal` in `outputs`: an error that says how to use the built-in output instead. */
export const journalFactory: OutputFactory = (_name, options) => {
  throw new ConfigError(
    options.at('type'),
    'journal is the built-in local store: do not declare it, list "journal" in a flow\'s outputs',
  );
};

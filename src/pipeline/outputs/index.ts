/**
 * @module Every output type of this build, by the `type` a configuration names: the HTTP outputs
 * (http/), the socket and file outputs (net/), and `journal` (built in; journal.ts).
 */
import { HTTP_OUTPUTS } from './http/index.js';
import { JOURNAL_OUTPUT, journalFactory } from './journal.js';
import { NET_OUTPUTS } from './net/index.js';
import type { OutputFactory } from './output.js';

export const OUTPUTS: Readonly<Record<string, OutputFactory>> = {
  ...HTTP_OUTPUTS,
  ...NET_OUTPUTS,
  [JOURNAL_OUTPUT]: journalFactory,
};

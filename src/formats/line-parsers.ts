/** @module The line parsers by name: `kjournal import --format`, the file source's and the parser filter's formats. */
import { auditParser } from './audit.js';
import { criParser } from './cri.js';
import { dockerParser } from './docker.js';
import { eventsParser } from './events.js';
import { jsonLinesParser } from './jsonlines.js';
import { logfmtParser } from './logfmt.js';
import type { FormatName, ParserFactory } from './types.js';

export const PARSERS: Readonly<Record<FormatName, ParserFactory>> = {
  cri: criParser,
  docker: dockerParser,
  json: jsonLinesParser,
  logfmt: logfmtParser,
  audit: auditParser,
  events: eventsParser,
};

export * from './types.js';

/**
 * @module The filter types of the processing pipeline, by the name a flow's `filters` list uses
 * (`- grep: {...}`). How filters name a record's fields: fields.ts.
 */

import type { FilterFactory } from '../filter.js';
import { auditPolicyFilter } from './audit-policy.js';
import { dedupeFilter } from './dedupe.js';
import { grepFilter } from './grep.js';
import { kataFilter } from './kata.js';
import { parserFilter } from './parser.js';
import { recordFilter } from './record.js';
import { rewriteFilter } from './rewrite.js';
import { throttleFilter } from './throttle.js';

export const FILTERS: Readonly<Record<string, FilterFactory>> = Object.freeze({
  parser: parserFilter,
  record: recordFilter,
  grep: grepFilter,
  rewrite: rewriteFilter,
  throttle: throttleFilter,
  dedupe: dedupeFilter,
  kata: kataFilter,
  auditPolicy: auditPolicyFilter,
});

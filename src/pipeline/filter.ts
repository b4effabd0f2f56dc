/**
 * @module The `Filter` interface of the processing pipeline that `serve` and `agent` share: one
 * step of a flow (parser, record, grep, rewrite, auditPolicy, throttle, dedupe, kata). A filter
 * takes one record and returns the record that goes on (the same object when nothing changed, a
 * new one when it changed) or `null` to drop it. Records are immutable: a filter never changes
 * the record it was given. A record a filter cannot parse keeps its original body and gets an
 * `__error__` attribute (and `__error_details__`) rather than vanishing. Every filter passes the
 * contract suite in test/pipeline/filters/filter-contract.ts.
 */

import type { Options } from '../config/options.js';
import type { LogRecord } from '../model/record.js';

export interface Filter {
  /** The filter's type as written in the configuration (`parser`, `grep`...). */
  readonly type: string;
  apply(record: LogRecord): LogRecord | null;
}

/** Context for factories: where relative files are read from, and the clock (tests fix it). */
export interface FilterContext {
  /** Directory of the configuration file, for relative paths (`auditPolicy.file`). */
  readonly baseDir: string;
  /** Milliseconds since the epoch; `Date.now` unless a test fixes it. */
  readonly now: () => number;
}

/** Builds a filter from its options; throws `ConfigError` naming the field on bad options. */
export type FilterFactory = (options: Options, ctx: FilterContext) => Filter;

/** The error attributes a filter sets on a record it could not process. */
export const ERROR_ATTR = '__error__';
export const ERROR_DETAILS_ATTR = '__error_details__';

/**
 * @module Flows: which records a flow takes (its `match`), and running its filters.
 *
 * The match semantics are the logging operator's (Flow `spec.match`): the list of `select` and
 * `exclude` elements is evaluated in order and the first element that matches the record decides
 * (a `select` takes it, an `exclude` leaves it); when no element matches, the flow does not take
 * the record (so a list of only `exclude`s takes nothing: end it with `- select: {}`). An absent or
 * empty `match` takes every record. Within one element every condition given must hold (AND):
 * `kind`, `class`, and each of `labels` and `attributes`; a list of values matches any of them
 * (OR). An element with no condition (`select: {}`) matches every record.
 *
 * `kind` and `class` are the record's `kind` and `class` labels; `labels` are stream labels and
 * `attributes` structured metadata; a record without the label or attribute does not match it.
 */
import type { LogRecord } from '../model/record.js';
import type { Filter } from './filter.js';
import { withError } from './filters/fields.js';

export interface MatchConditions {
  readonly kind?: readonly string[];
  readonly class?: readonly string[];
  readonly labels?: Readonly<Record<string, readonly string[]>>;
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
}

export interface MatchRule extends MatchConditions {
  readonly action: 'select' | 'exclude';
}

function mapMatches(
  wanted: Readonly<Record<string, readonly string[]>> | undefined,
  have: Readonly<Record<string, string>>,
): boolean {
  if (wanted === undefined) return true;
  for (const [name, values] of Object.entries(wanted)) {
    const v = have[name];
    if (v === undefined || !values.includes(v)) return false;
  }
  return true;
}

/** Every condition of one select/exclude holds for the record. */
export function conditionsMatch(c: MatchConditions, record: LogRecord): boolean {
  const kind = record.labels.kind;
  const cls = record.labels.class;
  if (c.kind !== undefined && (kind === undefined || !c.kind.includes(kind))) return false;
  if (c.class !== undefined && (cls === undefined || !c.class.includes(cls))) return false;
  return mapMatches(c.labels, record.labels) && mapMatches(c.attributes, record.attributes);
}

/** Whether a flow with this `match` list takes the record. */
export function flowTakes(match: readonly MatchRule[], record: LogRecord): boolean {
  if (match.length === 0) return true;
  for (const rule of match) {
    if (conditionsMatch(rule, record)) return rule.action === 'select';
  }
  return false;
}

/**
 * Runs the filters in order; `null` when one drops the record. A filter that throws (a bug: filters
 * mark what they cannot process) does not lose the record: it goes on with `__error__` set.
 */
export function applyFilters(filters: readonly Filter[], record: LogRecord): LogRecord | null {
  let r: LogRecord = record;
  for (const f of filters) {
    let next: LogRecord | null;
    try {
      next = f.apply(r);
    } catch (err) {
      next = withError(r, 'FilterError', `${f.type}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (next === null) return null;
    r = next;
  }
  return r;
}

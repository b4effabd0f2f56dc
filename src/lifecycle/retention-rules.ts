/**
 * @module Retention rules as a configuration file writes them, after Loki's `retention_period` and
 * `retention_stream` (pkg/validation/limits.go, StreamRetention): a global period and, per stream
 * selector, a period and a priority.
 *
 *     retention: 30d
 *     retentionStream:
 *       - selector: '{kind="auditevent"}'
 *         period: 1y
 *         priority: 1
 *
 * A stream takes the rule of highest priority among those whose selector matches it, and of equal
 * priorities the shortest period (as Loki's TenantsRetention.RetentionPeriodFor); no rule, the
 * global period; no global period, it is kept for ever.
 */

import { parseDuration } from '../go/duration.js';
import { isLogExpr } from '../logql/ast.js';
import { parseLogql } from '../logql/parser.js';
import type { RetentionPolicy, RetentionRule } from '../store/store.js';

export type { RetentionPolicy, RetentionRule };

/** A rule or period that cannot be read: the message names the field. */
export class RetentionConfigError extends Error {
  override readonly name = 'RetentionConfigError';
}

function period(value: unknown, field: string): bigint {
  const ns = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ns === undefined || ns <= 0n) {
    throw new RetentionConfigError(
      `${field}: must be a duration such as 30d or 1y, got ${JSON.stringify(value)}`,
    );
  }
  return ns;
}

/** `retentionStream` entries as rules. */
export function parseRetentionRules(value: unknown, field = 'retentionStream'): RetentionRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new RetentionConfigError(`${field}: must be a list of {selector, period, priority}`);
  return value.map((entry: unknown, i) => {
    const at = `${field}[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new RetentionConfigError(`${at}: must be {selector, period, priority}`);
    }
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (!['selector', 'period', 'priority'].includes(key)) {
        throw new RetentionConfigError(`${at}: unknown field ${JSON.stringify(key)}`);
      }
    }
    if (typeof e.selector !== 'string')
      throw new RetentionConfigError(`${at}.selector: must be a stream selector`);
    let matchers: RetentionRule['matchers'];
    try {
      const expr = parseLogql(e.selector);
      if (!isLogExpr(expr) || expr.pipeline.length > 0)
        throw new Error('only a stream selector, such as {namespace="dev"}');
      matchers = expr.matchers;
    } catch (err) {
      throw new RetentionConfigError(`${at}.selector: ${(err as Error).message}`);
    }
    const priority = e.priority ?? 0;
    if (typeof priority !== 'number' || !Number.isInteger(priority)) {
      throw new RetentionConfigError(`${at}.priority: must be an integer`);
    }
    return { matchers, period: period(e.period, `${at}.period`), priority, selector: e.selector };
  });
}

/** A policy from a document with `retention` (a duration) and `retentionStream`. */
export function parseRetentionPolicy(doc: Record<string, unknown>): RetentionPolicy {
  return {
    ...(doc.retention === undefined ? {} : { period: period(doc.retention, 'retention') }),
    rules: parseRetentionRules(doc.retentionStream),
  };
}

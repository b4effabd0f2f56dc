/**
 * @module A `query` parameter that may only be a stream selector, parsed as Loki's
 * syntax.ParseMatchers parses it (the patterns and detected-labels endpoints): any valid LogQL that
 * is not a bare selector is refused with Loki's `only label matchers are supported`.
 */

import type { LabelMatcher } from '../../logql/ast.js';
import { isLogExpr } from '../../logql/ast.js';
import { parseLogql } from '../../logql/parser.js';
import { badRequest } from '../http/errors.js';

/** Loki's logqlmodel.ErrParseMatchers. */
export const ONLY_MATCHERS = 'only label matchers are supported';

/** The matchers of a selector-only query; parse errors are Loki's (LogqlParseError). */
export function parseMatchersOnly(query: string): LabelMatcher[] {
  const expr = parseLogql(query);
  if (!isLogExpr(expr) || expr.pipeline.length > 0) throw badRequest(ONLY_MATCHERS);
  return [...expr.matchers];
}

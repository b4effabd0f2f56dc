/**
 * @module Running a korrel8r log query on a store: the class restricts the streams, a container
 * selector runs as stream matchers plus a per-entry attribute test, a LogQL selector as its matchers
 * and line filters. Objects come back oldest first, the newest `limit` of the range, as korrel8r
 * sorts them.
 */
import { isLogExpr } from '../logql/ast.js';
import { LogqlUnsupportedError } from '../logql/errors.js';
import { parseLogql } from '../logql/parser.js';
import { planLog } from '../logql/plan.js';
import { classMatcher, restrictSelector } from '../logql/restrict.js';
import type { CompileLogPipeline, LogPipeline } from '../logql/stages/types.js';
import { recordAttributes } from '../model/attributes.js';
import type { ContentHint, LabelMatcher, LineFilter, Store } from '../store/store.js';
import { type LogObject, toLogObject } from './objects.js';
import { containerSelectorPlan, type Korrel8rLogQuery, Korrel8rQueryError } from './query.js';

export interface GetLogsOptions {
  readonly tenant: string;
  /** Half-open range [start, end), nanoseconds. */
  readonly start: bigint;
  readonly end: bigint;
  readonly limit: number;
  /** The LogQL pipeline evaluator; without it, LogQL selectors may only have line filters. */
  readonly compileLogPipeline?: CompileLogPipeline;
  /** Cancels the query (a deadline). */
  readonly signal?: AbortSignal;
  /** Matchers added to the selector (what the caller may read: a kind, a namespace). */
  readonly restriction?: readonly LabelMatcher[];
}

export async function getLogObjects(
  store: Store,
  query: Korrel8rLogQuery,
  opts: GetLogsOptions,
): Promise<LogObject[]> {
  let matchers: readonly LabelMatcher[];
  let lineFilters: readonly LineFilter[] = [];
  let hints: readonly ContentHint[] = [];
  let attributes: Record<string, string> = {};
  let pipeline: LogPipeline | undefined;
  if (query.kind === 'container') {
    ({ matchers, attributes } = containerSelectorPlan(query.selector));
  } else {
    const expr = parseLogql(query.logql);
    if (!isLogExpr(expr))
      throw new Korrel8rQueryError(`a log query needs a log selector, not a metric query`);
    const plan = planLog(expr);
    if (plan.rest.length > 0) {
      if (!opts.compileLogPipeline)
        throw new LogqlUnsupportedError(`pipeline stage ${plan.rest[0]!.type} is not supported yet`);
      // The pipeline filters; the objects are the stored records, as korrel8r reads them.
      pipeline = opts.compileLogPipeline(plan.rest);
    }
    matchers = plan.matchers;
    lineFilters = plan.lineFilters;
    hints = plan.hints;
  }
  const wanted = Object.entries(attributes);
  const out: LogObject[] = [];
  const entries = store.entries({
    tenant: opts.tenant,
    start: opts.start,
    end: opts.end,
    matchers: restrictSelector(matchers, [classMatcher(query.class), ...(opts.restriction ?? [])]),
    lineFilters,
    hints,
    direction: 'backward',
    ...(opts.signal ? { signal: opts.signal } : {}),
    // With tests left after the store, it cannot know how many entries it takes.
    ...(wanted.length === 0 && !pipeline ? { limit: opts.limit } : {}),
  });
  outer: for await (const batch of entries) {
    opts.signal?.throwIfAborted();
    for (const e of batch) {
      if (
        pipeline &&
        !pipeline.process({
          timestamp: e.timestamp,
          line: e.body,
          stream: e.stream.labels,
          metadata: e.attributes,
        })
      )
        continue;
      if (wanted.length > 0) {
        const attrs = recordAttributes(e.stream.labels, e.attributes, e.body);
        if (!wanted.every(([k, v]) => attrs[k] === v)) continue;
      }
      out.push(
        toLogObject({
          labels: e.stream.labels,
          attributes: e.attributes,
          body: e.body,
          timestamp: e.timestamp,
          observedTimestamp: e.observedTimestamp,
        }),
      );
      if (out.length >= opts.limit) break outer;
    }
  }
  return out.reverse();
}

/**
 * @module Running a korrel8r log query on a store: the class restricts the streams, a container
 * selector runs as stream matchers plus a per-entry attribute test, a LogQL selector as its matchers
 * and line filters. Objects come back oldest first, the newest `limit` of the range, as korrel8r
 * sorts them.
 */
import { isLogExpr, type PipelineStage } from '../logql/ast.js';
import { parseLogql } from '../logql/parser.js';
import { classMatcher, restrictSelector } from '../logql/restrict.js';
import { recordAttributes } from '../model/attributes.js';
import { scan } from '../query/scan.js';
import type { LabelMatcher, Store } from '../store/store.js';
import { type LogObject, toLogObject } from './objects.js';
import { containerSelectorPlan, type Korrel8rLogQuery, Korrel8rQueryError } from './query.js';

export interface GetLogsOptions {
  readonly tenant: string;
  /** Half-open range [start, end), nanoseconds. */
  readonly start: bigint;
  readonly end: bigint;
  readonly limit: number;
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
  let stages: readonly PipelineStage[] = [];
  let attributes: Record<string, string> = {};
  if (query.kind === 'container') {
    ({ matchers, attributes } = containerSelectorPlan(query.selector));
  } else {
    const expr = parseLogql(query.logql);
    if (!isLogExpr(expr))
      throw new Korrel8rQueryError(`a log query needs a log selector, not a metric query`);
    matchers = expr.matchers;
    // The pipeline filters; the objects are the stored records, as korrel8r reads them.
    stages = expr.pipeline;
  }
  const wanted = Object.entries(attributes);
  const out: LogObject[] = [];
  const objects = scan(
    store,
    {
      tenant: opts.tenant,
      start: opts.start,
      end: opts.end,
      matchers: restrictSelector(matchers, [classMatcher(query.class), ...(opts.restriction ?? [])]),
      stages,
      direction: 'backward',
      limit: opts.limit,
      selective: wanted.length > 0,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    (e) => {
      if (wanted.length > 0) {
        const attrs = recordAttributes(e.stream.labels, e.attributes, e.body);
        if (!wanted.every(([k, v]) => attrs[k] === v)) return undefined;
      }
      return toLogObject({
        labels: e.stream.labels,
        attributes: e.attributes,
        body: e.body,
        timestamp: e.timestamp,
        observedTimestamp: e.observedTimestamp,
      });
    },
  );
  for await (const batch of objects) {
    opts.signal?.throwIfAborted();
    out.push(...batch);
  }
  return out.reverse();
}

/**
 * @module Log queries: the store evaluates stream matchers, leading line filters, time range and
 * order; the rest of the pipeline runs here, streaming, until `limit` entries survive it. Results are
 * grouped into Loki streams: by all labels (stream, structured metadata, parsed), as Loki 3 answers;
 * or, with the `categorize-labels` encoding flag, by stream labels with the other two categories on
 * each entry.
 */
import type { LogExpr } from '../logql/ast.js';
import { EntryState } from '../logql/stages/state.js';
import { allLabels, type LogPipelineOutput } from '../logql/stages/types.js';
import { labelsKey } from '../model/labels-key.js';
import type { Labels } from '../model/record.js';
import type { Direction, Store, StoredEntry } from '../store/store.js';
import { getOrCreate } from '../util/maps.js';
import { QueryCancelledError } from './metric/index.js';
import type { QueryStats, StreamResult, StreamValue } from './results.js';
import { type ScanStats, scan } from './scan.js';

/** The order of a log query's entries. */
export type { Direction };

export interface LogQueryRequest {
  readonly tenant: string;
  readonly expr: LogExpr;
  readonly start: bigint;
  readonly end: bigint;
  readonly limit: number;
  readonly direction: Direction;
  /** Loki's `X-Loki-Response-Encoding-Flags: categorize-labels`. */
  readonly categorize?: boolean;
  /** Cancels the query (the per-query timeout). */
  readonly signal?: AbortSignal;
}

function withoutEmpty(out: LogPipelineOutput): Record<string, Labels> {
  const meta: Record<string, Labels> = {};
  if (Object.keys(out.metadata).length > 0) meta.structuredMetadata = out.metadata;
  if (Object.keys(out.parsed).length > 0) meta.parsed = out.parsed;
  return meta;
}

/**
 * The entry as a pipeline output, for queries the store answered whole: structured metadata named
 * like a stream label takes `_extracted` here too, as in Loki's no-op pipeline.
 */
function passThrough(st: EntryState, e: StoredEntry): LogPipelineOutput {
  for (const _ in e.attributes) {
    st.reset(e.timestamp, e.body, e.stream.labels, e.attributes);
    return st.output();
  }
  return { line: e.body, stream: e.stream.labels, metadata: e.attributes, parsed: {} };
}

export async function runLogQuery(
  store: Store,
  req: LogQueryRequest,
): Promise<{ result: StreamResult[]; stats: Omit<QueryStats, 'execTimeSeconds'> }> {
  const bare = new EntryState();
  const byKey = new Map<string, StreamResult>();
  let returned = 0;
  const stats: ScanStats = { read: 0, bytes: 0 };
  const entries = scan(
    store,
    {
      tenant: req.tenant,
      start: req.start,
      end: req.end,
      matchers: req.expr.matchers,
      stages: req.expr.pipeline,
      direction: req.direction,
      limit: req.limit,
      ...(req.signal ? { signal: req.signal } : {}),
    },
    (e, out) => {
      const o = out ?? passThrough(bare, e);
      const ts = e.timestamp.toString();
      if (req.categorize) {
        const key = labelsKey(o.stream);
        const value: StreamValue = [ts, o.line, withoutEmpty(o)];
        getOrCreate(byKey, key, () => ({ stream: o.stream, values: [] })).values.push(value);
      } else {
        const labels = allLabels(o);
        const key = labelsKey(labels);
        getOrCreate(byKey, key, () => ({ stream: labels, values: [] })).values.push([ts, o.line]);
      }
      returned++;
      return true;
    },
    stats,
  );
  for await (const _ of entries) {
    if (req.signal?.aborted) throw new QueryCancelledError('query timed out');
  }
  // A read cut short by the deadline is not the answer (see checkCancelled in query/metric/range.ts).
  if (req.signal?.aborted) throw new QueryCancelledError('query timed out');
  return {
    result: [...byKey.values()],
    stats: { entriesReturned: returned, linesProcessed: stats.read, bytesProcessed: stats.bytes },
  };
}

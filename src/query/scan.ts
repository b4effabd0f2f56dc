/**
 * @module The one scan of stored entries: plan → store entries → LogQL pipeline → limit. Every read
 * of log entries through a selector runs here: Loki's log queries, tail's history, korrel8r's
 * objects, detected_fields and the kube lists. The planner (src/logql/plan.ts) sends the stream
 * matchers and the leading substring and RE2 line filters to the store; the stages left run here
 * through the LogQL evaluator (src/logql/stages), which is the one implementation of line filters
 * in TypeScript (RE2 with the unicode flag): live entries that never went through a store are
 * filtered by `compileEntryFilter` below, with the same evaluator.
 */
import type { LogExpr, PipelineStage } from '../logql/ast.js';
import { planLog } from '../logql/plan.js';
import { compileLogPipeline } from '../logql/stages/index.js';
import { allLabels, type LogPipeline, type LogPipelineOutput } from '../logql/stages/types.js';
import type { Labels } from '../model/record.js';
import { compileMatchers } from '../store/matchers.js';
import type {
  ContentHint,
  Direction,
  EntryCursor,
  EntryQuery,
  LabelMatcher,
  Store,
  StoredEntry,
} from '../store/store.js';

export interface ScanRequest {
  readonly tenant: string;
  /** Half-open range [start, end), nanoseconds. */
  readonly start: bigint;
  readonly end: bigint;
  readonly direction: Direction;
  /** Stream matchers (the selector's, with any restriction already added). */
  readonly matchers: readonly LabelMatcher[];
  /** The LogQL stages after the selector: leading line filters go to the store, the rest run here. */
  readonly stages?: readonly PipelineStage[];
  /** Conditions the caller's own test (`keep`) implies, for the store to skip entries early. */
  readonly hints?: readonly ContentHint[];
  /** A condition on stream labels the caller's own test implies (see EntryQuery.streamFilter). */
  readonly streamFilter?: (labels: Labels) => boolean;
  /** Only entries strictly after this position in the scan's order. */
  readonly after?: EntryCursor;
  /** Only entries appended after the one with this sequence number. */
  readonly afterSeq?: bigint;
  /** Cancels the read (a deadline): the store rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Most entries kept (passing the pipeline and `keep`); none when undefined. */
  readonly limit?: number;
  /** `keep` may drop entries: then the store cannot apply the limit. */
  readonly selective?: boolean;
  /**
   * With `selective`: read the store in rounds of this many entries, each after the last one read,
   * rather than in one unlimited read (the kube lists, where a store read with a limit is cheap and
   * a selector usually passes most entries).
   */
  readonly roundSize?: number;
}

/** What a scan read from the store, for Loki's statistics: entries and their lines' bytes. */
export interface ScanStats {
  read: number;
  bytes: number;
}

/**
 * What the caller makes of an entry that passed the pipeline: `out` is the pipeline's output, or
 * undefined when the store evaluated every stage. Undefined drops the entry (with `selective`).
 */
export type Keep<T> = (entry: StoredEntry, out: LogPipelineOutput | undefined) => T | undefined;

/** A planned scan: what the store reads and the pipeline left for TypeScript (compiled). */
export interface PlannedScan {
  readonly query: EntryQuery;
  readonly pipeline: LogPipeline | undefined;
}

/** Plans and compiles a scan; throws the evaluator's compile errors before any read. */
export function planScan(req: ScanRequest): PlannedScan {
  const plan = planLog({ type: 'log', matchers: req.matchers, pipeline: req.stages ?? [] });
  const pipeline = plan.rest.length > 0 ? compileLogPipeline(plan.rest) : undefined;
  const hints = [...plan.hints, ...(req.hints ?? [])];
  // With tests left after the store, it cannot know how many entries survive them.
  const exact = !pipeline && !req.selective;
  const query: EntryQuery = {
    tenant: req.tenant,
    start: req.start,
    end: req.end,
    matchers: plan.matchers,
    lineFilters: plan.lineFilters,
    hints,
    direction: req.direction,
    ...(req.streamFilter ? { streamFilter: req.streamFilter } : {}),
    ...(req.after ? { after: req.after } : {}),
    ...(req.afterSeq !== undefined ? { afterSeq: req.afterSeq } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    ...(exact && req.limit !== undefined ? { limit: req.limit } : {}),
  };
  return { query, pipeline };
}

/**
 * Scans: yields what `keep` makes of each entry that passes, one array per batch the store returns
 * (possibly empty, so that callers can check a deadline or a closed client between batches), and
 * ends after `limit` kept entries. `stats`, when given, counts what the store returned.
 */
export async function* scan<T>(
  store: Store,
  req: ScanRequest,
  keep: Keep<T>,
  stats?: ScanStats,
  planned: PlannedScan = planScan(req),
): AsyncGenerator<T[]> {
  const { pipeline } = planned;
  let query = planned.query;
  const rounds = req.selective && !pipeline && req.roundSize !== undefined ? req.roundSize : undefined;
  if (rounds !== undefined) query = { ...query, limit: rounds };
  let kept = 0;
  for (;;) {
    let read = 0;
    let last: StoredEntry | undefined;
    for await (const batch of store.entries(query)) {
      const out: T[] = [];
      for (const e of batch) {
        read++;
        last = e;
        if (stats) {
          stats.read++;
          stats.bytes += Buffer.byteLength(e.body);
        }
        let result: LogPipelineOutput | undefined;
        if (pipeline) {
          result = pipeline.process({
            timestamp: e.timestamp,
            line: e.body,
            stream: e.stream.labels,
            metadata: e.attributes,
          });
          if (!result) continue;
        }
        const t = keep(e, result);
        if (t === undefined) continue;
        out.push(t);
        if (req.limit !== undefined && ++kept >= req.limit) {
          yield out;
          return;
        }
      }
      yield out;
    }
    if (rounds === undefined || read < rounds || !last) return;
    query = { ...query, after: { timestamp: last.timestamp, seq: last.seq } };
  }
}

/** An entry that did not come from a store (a live push): its labels, metadata, time and line. */
export interface LiveEntry {
  readonly labels: Labels;
  readonly attributes: Labels;
  readonly timestamp: bigint;
  readonly body: string;
}

/**
 * The pipeline of a log query for entries read elsewhere than the store (live tails): every stage,
 * line filters included, through the LogQL evaluator, as the query path runs the stages the store
 * did not. With only line filters, a passing entry comes back as it was; otherwise with the
 * pipeline's line and all its labels. Undefined when the pipeline drops the entry.
 */
export function compileEntryFilter(expr: LogExpr): (e: LiveEntry) => LiveEntry | undefined {
  const pipeline = compileLogPipeline(expr.pipeline);
  const linesOnly = expr.pipeline.every((s) => s.type === 'lineFilter');
  return (e) => {
    const out = pipeline.process({
      timestamp: e.timestamp,
      line: e.body,
      stream: e.labels,
      metadata: e.attributes,
    });
    if (!out) return undefined;
    if (linesOnly) return e;
    return {
      labels: allLabels(out),
      attributes: {},
      timestamp: e.timestamp,
      body: out.line,
    };
  };
}

/** Whether a live entry's stream labels match a log query's selector, as the store matches them. */
export function compileSelectorTest(expr: LogExpr): (labels: Labels) => boolean {
  return compileMatchers(expr.matchers);
}

/** The errors of the store that a scan passes on (a damaged part: a 500 with its message). */
export { DamagedDataError, StoreQueryError, StoreUnavailableError } from '../store/store.js';

/**
 * @module The agent's check of record times (model/validate-time.ts), applied to what a source
 * stages or emits, before it is encoded and buffered. The server checks again with its own limits;
 * checking here means a record no server can take (dated before 1970, past the grace period, past
 * the store's 2262 bound) never sits in the buffer, and the push carrying its neighbours is never
 * answered 400 for it. A refused record is counted (`kjournal_agent_dropped_records_total{reason=
 * "too_old"|"too_new"}`) and logged at most once per interval with Loki's text and how many more;
 * the batch's positions still advance, as for a record the audit policy drops (record-map.ts).
 *
 * The agent does not know the server's `reject_old_samples_max_age`, so by default it refuses only
 * before 1970 (SENDER_TIME_LIMITS); the server refuses what its own age limit says.
 */
import { labelSetText } from '../ingest/loki-push/labels.js';
import type { Labels, LogRecord } from '../model/record.js';
import { nowNs } from '../model/time.js';
import { SENDER_TIME_LIMITS, type TimeLimits, type TimeRefusal, TimeWindow } from '../model/validate-time.js';

/** At most one log line per this long about refused records. */
const LOG_INTERVAL_MS = 10_000;

export interface TimeGateOptions {
  readonly limits?: TimeLimits;
  /** Told of every refused record. */
  readonly onRefused: (reason: TimeRefusal) => void;
  /** Rate-limited: one line, then at most one per interval. */
  readonly log: (message: string) => void;
  readonly now?: () => bigint;
}

/**
 * The window is computed once and recomputed when a record falls outside it: per record would cost
 * a clock read and a bigint on the agent's hottest path. A stale window can only refuse too much
 * (its newest bound lags), and a refusal is checked again against a fresh one. Only with an age
 * limit does the oldest bound move too; the window is then also renewed once a second.
 */
export class TimeGate {
  private readonly limits: TimeLimits;
  private readonly o: TimeGateOptions;
  private readonly now: () => bigint;
  private window: TimeWindow | undefined;
  private windowAt = 0;
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(options: TimeGateOptions) {
    this.o = options;
    this.limits = options.limits ?? SENDER_TIME_LIMITS;
    this.now = options.now ?? nowNs;
  }

  private fresh(): TimeWindow {
    this.window = new TimeWindow(this.limits, this.now());
    this.windowAt = Date.now();
    return this.window;
  }

  /** Why `ts` is refused, against a fresh window when the kept one refuses it; undefined if taken. */
  private why(ts: bigint): TimeRefusal | undefined {
    const w = this.window;
    if (w !== undefined && ts >= w.oldest && ts <= w.newest) {
      if (!this.limits.rejectOldSamples || Date.now() - this.windowAt < 1000) return undefined;
    }
    return this.fresh().check(ts);
  }

  /** True when a record of `labels` at `ts` may go on; false (counted, maybe logged) when refused. */
  accepts(labels: Labels, ts: bigint): boolean {
    const why = this.why(ts);
    if (why === undefined) return true;
    this.refuse(labels, ts, why);
    return false;
  }

  /** The records that may go on: `records` itself when all may (the common case: no copy). */
  filter(records: readonly LogRecord[]): readonly LogRecord[] {
    let out: LogRecord[] | undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const why = this.why(r.timestamp);
      if (why === undefined) {
        out?.push(r);
        continue;
      }
      out ??= records.slice(0, i);
      this.refuse(r.labels, r.timestamp, why);
    }
    return out ?? records;
  }

  private refuse(labels: Labels, ts: bigint, why: TimeRefusal): void {
    const w = this.window!;
    this.o.onRefused(why);
    const at = Date.now();
    if (at - this.lastLogAt < LOG_INTERVAL_MS) {
      this.unlogged++;
      return;
    }
    const more = this.unlogged > 0 ? ` (and ${this.unlogged} more refused since the last report)` : '';
    this.o.log(`${w.message(labelSetText(labels), ts, why)}; not shipped${more}`);
    this.lastLogAt = at;
    this.unlogged = 0;
  }
}

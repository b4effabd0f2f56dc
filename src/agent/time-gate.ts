/**
 * @module The agent's check of record times (ingest/validate-time.ts), applied to what a source
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
import {
  SENDER_TIME_LIMITS,
  type TimeLimits,
  type TimeRefusal,
  TimeWindow,
} from '../ingest/validate-time.js';
import type { Labels, LogRecord } from '../model/record.js';
import { nowNs } from '../model/time.js';

/** The window is recomputed when it is this old: per record would cost a bigint each. */
const WINDOW_REFRESH_MS = 1000;
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

  private current(): TimeWindow {
    const ms = Date.now();
    if (this.window === undefined || ms - this.windowAt >= WINDOW_REFRESH_MS || ms < this.windowAt) {
      this.window = new TimeWindow(this.limits, this.now());
      this.windowAt = ms;
    }
    return this.window;
  }

  /** True when a record of `labels` at `ts` may go on; false (counted, maybe logged) when refused. */
  accepts(labels: Labels, ts: bigint): boolean {
    const w = this.current();
    if (ts >= w.oldest && ts <= w.newest) return true;
    this.refuse(w, labels, ts, w.check(ts)!);
    return false;
  }

  /** The records that may go on: `records` itself when all may (the common case: no copy). */
  filter(records: readonly LogRecord[]): readonly LogRecord[] {
    const w = this.current();
    let out: LogRecord[] | undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const why = w.check(r.timestamp);
      if (why === undefined) {
        out?.push(r);
        continue;
      }
      out ??= records.slice(0, i);
      this.refuse(w, r.labels, r.timestamp, why);
    }
    return out ?? records;
  }

  private refuse(w: TimeWindow, labels: Labels, ts: bigint, why: TimeRefusal): void {
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

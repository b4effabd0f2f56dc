/**
 * @module Identical entries are stored once: an entry with the same stream, timestamp and line as
 * one already stored is a duplicate, acknowledged without being stored again. This is Loki's rule
 * (its ingester drops an entry equal in timestamp and line to the stream's last one, and its
 * queriers merge identical entries of replicas), applied to the whole store, so that a retried
 * push, a re-sent agent batch or an import run twice never doubles anything.
 *
 * Looking every entry up in the store would cost a query per push. Instead each stream keeps, in
 * memory, a few intervals of time outside which it certainly has no entry: all that was on disk at
 * start is one interval up to its greatest time, and every append adds the span of its entries
 * (intervals only ever grow or merge, so they stay a cover of everything ever appended). An entry
 * outside them is new without a lookup: that is every entry of a stream written in time order,
 * however many pushes are in flight at once. An entry equal in time and line to the last one
 * taken is a duplicate at once (Loki's ingester check). Only an entry inside an interval (a retried
 * push, an import run again, a stream written out of order) is looked up in the store.
 */

export const Verdict = {
  /** Outside every interval: no stored entry can equal it. */
  New: 0,
  /** Inside an interval: it may equal a stored entry; look it up. */
  Check: 1,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Intervals kept per stream; beyond it the two closest merge (a wider cover: more lookups, never fewer). */
const MAX_INTERVALS = 4;

/** Inclusive [lo, hi] ranges of time, sorted and disjoint. */
type Intervals = { lo: bigint; hi: bigint }[];

const MIN_TS = -(1n << 63n);
const NONE: Intervals = [];

/** `verdict` over a stream's intervals: after the newest one (the usual case) is one comparison. */
export function verdictIn(
  list: readonly { readonly lo: bigint; readonly hi: bigint }[],
  ts: bigint,
): Verdict {
  const n = list.length;
  if (n === 0 || ts > list[n - 1]!.hi) return Verdict.New;
  for (let i = 0; i < n; i++) if (ts >= list[i]!.lo && ts <= list[i]!.hi) return Verdict.Check;
  return Verdict.New;
}

/**
 * Per stream (keyed by the backend's stream key: the embedded store's index, ClickHouse's id),
 * the intervals outside which it certainly has no entry. Shared by the backends (store/duckdb/,
 * store/clickhouse/).
 */
export class StreamHeads<K extends number | bigint = number> {
  private readonly streams = new Map<K, Intervals>();
  /** The greatest time per stream, kept for the state file. */
  private readonly greatest = new Map<K, bigint>();

  /** Everything on disk for `stream` is at or before `maxTs`. */
  load(stream: K, maxTs: bigint): void {
    this.cover(stream, MIN_TS, maxTs);
  }

  /** Whether an entry of `stream` at `ts` may equal a stored one. */
  verdict(stream: K, ts: bigint): Verdict {
    return verdictIn(this.intervals(stream), ts);
  }

  /** The stream's intervals, to classify a run of its entries with `verdictIn` (no lookup each). */
  intervals(stream: K): readonly { readonly lo: bigint; readonly hi: bigint }[] {
    return this.streams.get(stream) ?? NONE;
  }

  /**
   * Records that entries of `stream` in [lo, hi] are being appended. Called as soon as they are
   * classified, before they are written, so that a concurrent append of the same entries finds
   * them inside an interval and looks them up after this append is written.
   */
  cover(stream: K, lo: bigint, hi: bigint): void {
    let list = this.streams.get(stream);
    if (!list) {
      list = [];
      this.streams.set(stream, list);
    }
    const g = this.greatest.get(stream);
    if (g === undefined || hi > g) this.greatest.set(stream, hi);
    // The common case: the stream's newest interval grows forward.
    const last = list[list.length - 1];
    if (last && lo >= last.lo) {
      if (lo <= last.hi + 1n) {
        if (hi > last.hi) last.hi = hi;
        return;
      }
      list.push({ lo, hi });
    } else {
      list.push({ lo, hi });
      list.sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
      // Merge overlapping or touching neighbours.
      for (let i = 1; i < list.length; ) {
        const prev = list[i - 1]!;
        const cur = list[i]!;
        if (cur.lo <= prev.hi + 1n) {
          if (cur.hi > prev.hi) prev.hi = cur.hi;
          list.splice(i, 1);
        } else i++;
      }
    }
    while (list.length > MAX_INTERVALS) {
      let best = 1;
      for (let i = 2; i < list.length; i++) {
        if (list[i]!.lo - list[i - 1]!.hi < list[best]!.lo - list[best - 1]!.hi) best = i;
      }
      list[best - 1]!.hi = list[best]!.hi;
      list.splice(best, 1);
    }
  }

  /** Records that `stream` has no stored entry (so far): known, with no interval. */
  known(stream: K): void {
    if (!this.streams.has(stream)) this.streams.set(stream, []);
  }

  /** Whether anything is known of `stream` (loaded or appended). */
  has(stream: K): boolean {
    return this.streams.has(stream);
  }

  /** Stream id → greatest time appended, for the store's state file. */
  snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [id, ts] of this.greatest) out[String(id)] = String(ts);
    return out;
  }
}

/** The key of an entry for comparing it with stored ones. */
export function entryKey(stream: bigint | number, ts: bigint, body: string): string {
  return `${stream}\u0000${ts}\u0000${body}`;
}

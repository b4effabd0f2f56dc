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
 *
 * Entries at exactly the stream's greatest time are inside its interval, yet they are the usual
 * case for senders of whole-second times (fluent-logger's default, RFC 3164 syslog): looking each
 * up made 200,000 lines at one second store at 2.5k lines/s instead of 450k (bench/same-time.ts).
 * So each stream also keeps the lines at its greatest time (`Top`), known complete when every one
 * was appended by this process after the time moved there: at that time an entry in the set is a
 * duplicate (Loki's ingester drops an entry equal to the stream's last one) and one not in it is
 * new, without a lookup. A line is taken as stored only once its append is durable; while it is
 * being written an equal entry is looked up (after that write, as any lookup), and a failed append
 * makes the set unknown, so a line is never wrongly believed stored. After a start (load), another
 * server's append at that time, a deletion, or beyond the bounds below, the set is unknown and
 * entries at that time are looked up, until the time moves forward again.
 */

export const Verdict = {
  /** Outside every interval: no stored entry can equal it. */
  New: 0,
  /** Inside an interval: it may equal a stored entry; look it up. */
  Check: 1,
  /** Equal to an entry stored at the stream's greatest time: drop it without a lookup. */
  Duplicate: 2,
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

/** A line being written (its append not durable yet): an equal entry is looked up. */
const PENDING = 0;
/** A line stored durably: an equal entry is a duplicate. */
const STORED = 1;

/**
 * Bounds of the lines kept per stream at its greatest time: the newest this many exactly (a
 * duplicate is known without a lookup)...
 */
const MAX_TOP_LINES = 4096;
const MAX_TOP_LINE_BYTES = 512 << 10;
/**
 * ...then this many more as 32-bit hashes (a line whose hash is absent is new; one whose hash is
 * present is looked up): 8 bytes a line, 2 MiB at most per stream.
 */
const MAX_TOP_HASHES = 1 << 18;
/** All streams' kept lines together; beyond it a stream's set becomes unknown (lookups). */
export const DEFAULT_TOP_BUDGET_BYTES = 64 << 20;
/** What an exact line costs besides its characters (map entry, string header), roughly. */
const LINE_OVERHEAD = 64;

/** 32-bit FNV-1a of a line's UTF-16 units, never 0 (the empty slot of LineHashes). */
function lineHash(body: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) h = Math.imul(h ^ body.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

/** A set of 32-bit hashes: open addressing in a Uint32Array, half full at most. */
class LineHashes {
  table = new Uint32Array(1024);
  size = 0;

  has(h: number): boolean {
    const mask = this.table.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = this.table[i]!;
      if (v === h) return true;
      if (v === 0) return false;
    }
  }

  add(h: number): void {
    if ((this.size + 1) * 2 > this.table.length) {
      const old = this.table;
      this.table = new Uint32Array(old.length * 2);
      this.size = 0;
      for (const v of old) if (v !== 0) this.add(v);
    }
    const mask = this.table.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = this.table[i]!;
      if (v === h) return;
      if (v === 0) {
        this.table[i] = h;
        this.size++;
        return;
      }
    }
  }
}

/**
 * A stream's greatest time and, when known, the lines at that time: `lines` undefined is unknown
 * (look entries at `ts` up).
 */
export class Top {
  lines: Map<string, typeof PENDING | typeof STORED> | undefined;
  /** The lines of `lines` from `head` on, oldest first. */
  order: string[] = [];
  head = 0;
  /** Older lines beyond MAX_TOP_LINES, as hashes. */
  hashes: LineHashes | undefined;
  /** What `lines` and `hashes` take, counted in the heads' budget. */
  bytes = 0;
  lineBytes = 0;

  constructor(readonly ts: bigint) {}
}

/**
 * The lines an append took at its streams' greatest times: stored once the append is durable,
 * and, if it fails, the sets they went into become unknown (so no line is believed stored that
 * is not, and none believed absent that might be on disk).
 */
export class Claims {
  private readonly tops: Top[] = [];
  private readonly bodies: string[] = [];
  private readonly touched = new Set<Top>();

  constructor(private readonly heads: { unknown(top: Top): void }) {}

  add(top: Top, body: string | undefined): void {
    this.touched.add(top);
    if (body === undefined) return;
    this.tops.push(top);
    this.bodies.push(body);
  }

  /** The append is durable: its lines are stored. */
  stored(): void {
    for (let i = 0; i < this.tops.length; i++) {
      const lines = this.tops[i]!.lines;
      const body = this.bodies[i]!;
      if (lines?.get(body) === PENDING) lines.set(body, STORED);
    }
  }

  /** The append failed (or may have failed): what it took is unknown. */
  failed(): void {
    for (const top of this.touched) this.heads.unknown(top);
  }
}

/**
 * Per stream (keyed by the backend's stream key: the embedded store's index, ClickHouse's id),
 * the intervals outside which it certainly has no entry, and its greatest time with the lines at
 * that time (Top). Shared by the backends (store/duckdb/, store/clickhouse/).
 */
export class StreamHeads<K extends number | bigint = number> {
  private readonly streams = new Map<K, Intervals>();
  /** The greatest time per stream (kept for the state file) and the lines at it. */
  private readonly tops = new Map<K, Top>();
  private used = 0;

  constructor(private readonly budgetBytes = DEFAULT_TOP_BUDGET_BYTES) {}

  /** Everything on disk for `stream` is at or before `maxTs`. */
  load(stream: K, maxTs: bigint): void {
    this.cover(stream, MIN_TS, maxTs);
  }

  /** Whether an entry of `stream` at `ts` may equal a stored one. */
  verdict(stream: K, ts: bigint, body?: string): Verdict {
    const v = verdictIn(this.intervals(stream), ts);
    if (v === Verdict.New || body === undefined) return v;
    const top = this.tops.get(stream);
    return top !== undefined && top.ts === ts ? topVerdict(top, body) : v;
  }

  /** The stream's intervals, to classify a run of its entries with `verdictIn` (no lookup each). */
  intervals(stream: K): readonly { readonly lo: bigint; readonly hi: bigint }[] {
    return this.streams.get(stream) ?? NONE;
  }

  /** A record of the lines an append takes (`take`, `advance`), to settle once it is written. */
  claims(): Claims {
    return new Claims(this);
  }

  /** The stream's greatest time and lines at it, for `topVerdict` over a run of its entries. */
  top(stream: K): Top | undefined {
    return this.tops.get(stream);
  }

  /**
   * Takes `body`, an entry found new by `topVerdict` at `top.ts`, into the set (or, beyond the
   * bounds, makes the set unknown): a concurrent append of it will look it up.
   */
  take(top: Top, body: string, claims: Claims): void {
    const lines = top.lines;
    if (lines === undefined) return;
    const cost = body.length * 2 + LINE_OVERHEAD;
    if (cost > MAX_TOP_LINE_BYTES) {
      claims.add(top, undefined);
      if (!this.hash(top, body)) this.unknown(top);
      return;
    }
    // The newest lines are kept exactly (a retry is likeliest of the latest push), older ones as
    // hashes; a line being written moved there is still looked up.
    while (lines.size >= MAX_TOP_LINES || top.lineBytes + cost > MAX_TOP_LINE_BYTES) {
      // Oldest first, from the queue (a Map's first key is slow to find after many deletions).
      const oldest = top.order[top.head++]!;
      if (top.head > 1024 && top.head * 2 > top.order.length) {
        top.order = top.order.slice(top.head);
        top.head = 0;
      }
      lines.delete(oldest);
      const freed = oldest.length * 2 + LINE_OVERHEAD;
      top.lineBytes -= freed;
      top.bytes -= freed;
      this.used -= freed;
      if (!this.hash(top, oldest)) {
        this.unknown(top);
        return;
      }
    }
    lines.set(body, PENDING);
    top.order.push(body);
    top.lineBytes += cost;
    top.bytes += cost;
    this.used += cost;
    claims.add(top, body);
    if (this.used > this.budgetBytes) this.unknown(top);
  }

  /** Adds `body`'s hash to `top`'s; false when they are full. */
  private hash(top: Top, body: string): boolean {
    top.hashes ??= new LineHashes();
    const hashes = top.hashes;
    if (hashes.size >= MAX_TOP_HASHES) return false;
    const before = hashes.table.byteLength;
    hashes.add(lineHash(body));
    const grown = hashes.table.byteLength - before;
    top.bytes += grown;
    this.used += grown;
    return true;
  }

  /** Forgets the lines of `top`: entries at its time are looked up until the time moves on. */
  unknown(top: Top): void {
    this.used -= top.bytes;
    top.bytes = 0;
    top.lineBytes = 0;
    top.lines = undefined;
    top.order = [];
    top.head = 0;
    top.hashes = undefined;
  }

  /** Forgets every stream's lines (entries were deleted: a line kept may no longer be stored). */
  forgetLines(): void {
    for (const top of this.tops.values()) this.unknown(top);
  }

  /**
   * Records that entries of `stream` in [lo, hi] are being appended by this process, `atHi` its
   * lines at `hi` that were found new. When `hi` is past the stream's greatest time, the stream
   * could hold nothing at `hi` (the intervals' premise), so these lines are all there is at that
   * time: the new greatest time's set is complete. Called as soon as the entries are classified,
   * before they are written (see `cover`).
   */
  advance(stream: K, lo: bigint, hi: bigint, atHi: readonly string[], claims: Claims): void {
    const top = this.tops.get(stream);
    const past = top === undefined || hi > top.ts;
    this.cover(stream, lo, hi, true);
    if (!past) return;
    const next = this.tops.get(stream)!;
    next.lines = new Map();
    claims.add(next, undefined);
    for (const body of atHi) {
      if (next.lines === undefined) break;
      this.take(next, body, claims);
    }
  }

  /**
   * Records that entries of `stream` in [lo, hi] are being appended (or, from `load`, are on disk;
   * or another server appended them). Called as soon as they are classified, before they are
   * written, so that a concurrent append of the same entries finds them inside an interval and
   * looks them up after this append is written. Entries at or past the greatest time that are not
   * this process's (`own` unset) make the lines at that time unknown.
   */
  cover(stream: K, lo: bigint, hi: bigint, own = false): void {
    let list = this.streams.get(stream);
    if (!list) {
      list = [];
      this.streams.set(stream, list);
    }
    const top = this.tops.get(stream);
    if (top === undefined || hi > top.ts) {
      if (top !== undefined) this.unknown(top);
      this.tops.set(stream, new Top(hi));
    } else if (hi === top.ts && !own) this.unknown(top);
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
    for (const [id, top] of this.tops) out[String(id)] = String(top.ts);
    return out;
  }
}

/**
 * An entry at `top.ts`, inside its stream's interval: with the lines at that time known, a duplicate
 * or new without a lookup (or, being written by a concurrent append, looked up after it).
 */
export function topVerdict(top: Top, body: string): Verdict {
  const lines = top.lines;
  if (lines === undefined) return Verdict.Check;
  const state = lines.get(body);
  if (state === STORED) return Verdict.Duplicate;
  if (state === PENDING) return Verdict.Check;
  if (top.hashes?.has(lineHash(body))) return Verdict.Check;
  return Verdict.New;
}

/** Whether `next` holds a deletion `before` did not (by id): lines kept as stored must be forgotten. */
export function newDeletion(before: readonly { id: string }[], next: readonly { id: string }[]): boolean {
  const known = new Set(before.map((d) => d.id));
  return next.some((d) => !known.has(d.id));
}

/** The key of an entry for comparing it with stored ones. */
export function entryKey(stream: bigint | number, ts: bigint, body: string): string {
  return `${stream}\u0000${ts}\u0000${body}`;
}

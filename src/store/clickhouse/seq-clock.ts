/**
 * @module Sequence numbers when several servers write one ClickHouse database. Each server
 * (writer) holds a slot 0..15; sequence numbers are `tick * 2^22 + offset`, where a tick is a
 * millisecond since 2020-01-01 and writer `s` only uses ticks with `tick % 16 == s`. So numbers
 * are unique without any coordination, follow the wall clock (within 16 ms between writers), and
 * one append's numbers are consecutive (up to 2^22 entries per append, far above any push).
 *
 * A writer announces its progress as a "safe" number (every number it has taken up to it is
 * stored, and it will take none below it); a server learns of other writers' appends only up to
 * the least safe number of the live writers, so that it never skips an append still in flight.
 */

export const SLOTS = 16;
const OFFSET_BITS = 22n;
const OFFSET_SPAN = 1n << OFFSET_BITS;
/** 2020-01-01T00:00:00Z in ms: ticks start there, so 41 bits of ticks last until 2089. */
const EPOCH_MS = 1_577_836_800_000;

export function tickStart(tick: number): bigint {
  return BigInt(tick) << OFFSET_BITS;
}

/** Below every number any writer takes from now on (they take them from the current tick on). */
export function timeFloor(now = Date.now()): bigint {
  return tickStart(Math.max(0, now - EPOCH_MS)) - 1n;
}

export function slotOf(seq: bigint): number {
  return Number((seq >> OFFSET_BITS) % BigInt(SLOTS));
}

export class SeqClock {
  /** The greatest number taken (or known taken by this slot before). */
  private last: bigint;

  constructor(
    readonly slot: number,
    floor: bigint,
    private readonly now: () => number = Date.now,
  ) {
    if (slot < 0 || slot >= SLOTS) throw new RangeError(`writer slot ${slot} out of 0..${SLOTS - 1}`);
    this.last = floor;
  }

  /** This slot's first tick at or after the current millisecond. */
  private ownTick(): number {
    const ms = Math.max(0, this.now() - EPOCH_MS);
    return ms + ((this.slot - (ms % SLOTS) + SLOTS) % SLOTS);
  }

  /** Takes `n` consecutive numbers (n ≥ 1) and returns the first. */
  take(n: number): bigint {
    const count = BigInt(n);
    if (count > OFFSET_SPAN) throw new RangeError(`an append of ${n} entries is over ${OFFSET_SPAN}`);
    let first = this.last + 1n;
    const fresh = tickStart(this.ownTick());
    if (fresh > first) first = fresh;
    // Not ours (another slot's tick) or not room enough in this tick: the next tick of ours.
    const tick = Number(first >> OFFSET_BITS);
    const end = tickStart(tick) + OFFSET_SPAN;
    if (tick % SLOTS !== this.slot || first + count > end) {
      let next = tick + 1;
      next += (this.slot - (next % SLOTS) + SLOTS) % SLOTS;
      first = tickStart(next);
    }
    this.last = first + count - 1n;
    return first;
  }

  /** The number the next `take` can take at the soonest (for empty appends' `firstSeq`). */
  peek(): bigint {
    const fresh = tickStart(this.ownTick());
    const next = this.last + 1n;
    return fresh > next ? fresh : next;
  }

  /** No number this clock takes from now on is at or below this. */
  floor(): bigint {
    return this.peek() - 1n;
  }
}

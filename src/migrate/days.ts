/**
 * @module UTC days as `kjournal migrate` walks them: a unit of work is one tenant's one day, the
 * same grain as the embedded store's partitions (and ClickHouse's day partitions), so that a unit
 * is read from one partition and its count is cheap on both sides.
 */

export const DAY_NS = 86_400_000_000_000n;

/** The UTC day of a nanosecond timestamp, as its first nanosecond. */
export function dayStart(ts: bigint): bigint {
  // Floor division (timestamps are never negative in a store, but stay exact if they were).
  const q = ts / DAY_NS;
  return (ts < 0n && q * DAY_NS !== ts ? q - 1n : q) * DAY_NS;
}

/** `YYYY-MM-DD` of the day starting at `start`. */
export function dayName(start: bigint): string {
  return new Date(Number(start / 1_000_000n)).toISOString().slice(0, 10);
}

/** The first nanosecond of a `YYYY-MM-DD` day. */
export function dayOfName(name: string): bigint {
  return BigInt(Date.parse(`${name}T00:00:00Z`)) * 1_000_000n;
}

/**
 * @module Go's time formatting as Loki's messages print times: `time.RFC3339`.
 */

const NS_PER_SECOND = 1_000_000_000n;

/**
 * Go's `time.Unix(0, ns).Format(time.RFC3339)` in UTC: whole seconds, rounded down as Go truncates
 * (so 1969-12-31T23:59:59Z for -1ns).
 */
export function formatRfc3339(ns: bigint): string {
  let seconds = ns / NS_PER_SECOND;
  if (ns % NS_PER_SECOND < 0n) seconds -= 1n;
  const iso = new Date(Number(seconds) * 1000).toISOString();
  // toISOString writes years past 9999 as +010000; Go would not get there from an int64 anyway.
  return `${iso.slice(0, iso.length - 5)}Z`;
}

/**
 * @module Nanosecond time: bigint nanoseconds since the Unix epoch, and the conversions every API needs.
 */

export const NS_PER_MS = 1_000_000n;
export const NS_PER_SECOND = 1_000_000_000n;

let lastMs = -1;
let lastNs = 0n;

export function nowNs(): bigint {
  // Date.now() is milliseconds; process.hrtime gives sub-millisecond precision but no epoch. The
  // agent stamps every record: the bigint of the current millisecond is made once.
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastNs = BigInt(ms) * NS_PER_MS;
  }
  return lastNs;
}

/** RFC 3339 with nanoseconds, as Kubernetes and korrel8r print them (`2026-11-23T10:00:00.123456789Z`). */
export function formatRfc3339Nano(ns: bigint): string {
  const ms = ns / NS_PER_MS;
  let fracNs = ns % NS_PER_SECOND;
  let secondsMs = ms - (ms % 1000n);
  if (fracNs < 0n) {
    fracNs += NS_PER_SECOND;
    secondsMs -= 1000n;
  }
  const base = new Date(Number(secondsMs)).toISOString().slice(0, 19);
  if (fracNs === 0n) return `${base}Z`;
  const frac = fracNs.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}.${frac}Z`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:?\d{2})$/;

/** Parses RFC 3339 (any fraction up to nanoseconds, any offset) to nanoseconds; undefined if not RFC 3339. */
export function parseRfc3339Nano(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  const year = Number(y);
  const date = new Date(Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  // Date.UTC reads years 0-99 as 1900-1999; for those, set the year on its own. (For any other year
  // that would undo a leap second's rollover into the next year: 2016-12-31T23:59:60 is 2017.)
  if (year < 100) date.setUTCFullYear(year + (date.getUTCFullYear() - 1900 - year));
  const ms = date.getTime();
  if (Number.isNaN(ms)) return undefined;
  const fracNs = BigInt(frac.padEnd(9, '0') || '0');
  return (BigInt(ms) - BigInt(offsetMin) * 60_000n) * NS_PER_MS + fracNs;
}

/** The UTC day (`YYYY-MM-DD`) that holds `ns`. */
export function dayOf(ns: bigint): string {
  // Clamped to the range a Date can hold, so that any bigint bound yields a day.
  const ms = Number(ns / NS_PER_MS);
  const clamped = Math.min(Math.max(ms, -8.64e15), 8.64e15);
  return new Date(clamped).toISOString().slice(0, 10);
}

/**
 * @module Timestamps for people: RFC 3339 in UTC or the local zone (logcli's `--timezone`), to the
 * second (Go's time.RFC3339, the default output) or to the nanosecond (RFC3339Nano).
 */
import { NS_PER_MS, NS_PER_SECOND } from '../../model/time.js';

export type Zone = 'local' | 'utc';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function formatTimestamp(ns: bigint, zone: Zone, nano: boolean): string {
  let frac = ns % NS_PER_SECOND;
  let seconds = ns / NS_PER_SECOND;
  if (frac < 0n) {
    frac += NS_PER_SECOND;
    seconds -= 1n;
  }
  const ms = Number(seconds * 1000n);
  const date = new Date(ms);
  const offsetMin = zone === 'utc' ? 0 : -date.getTimezoneOffset();
  const shifted = new Date(ms + offsetMin * 60_000);
  const base =
    `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}` +
    `T${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}`;
  const fraction = nano && frac !== 0n ? `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}` : '';
  if (offsetMin === 0) return `${base}${fraction}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${base}${fraction}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Unix seconds (a JSON number, as Loki prints sample times) to nanoseconds. */
export function secondsToNs(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1000)) * NS_PER_MS;
}

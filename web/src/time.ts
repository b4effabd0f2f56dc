/**
 * @module Time ranges as the URL keeps them: `now-1h`/`now` (relative, Grafana's notation) or
 * milliseconds since the epoch (absolute); resolved to nanoseconds for Loki and RFC 3339 for the
 * Kubernetes API, shown in the viewer's time zone.
 */

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a range end: `now`, `now-15m`, a number of milliseconds, or an ISO time. */
export function resolveTime(text: string, now = Date.now()): number | undefined {
  const t = text.trim();
  if (t === 'now') return now;
  const rel = /^now-(\d+)([smhdw])$/.exec(t);
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]!]!;
  if (/^\d+$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface Range {
  from: string;
  to: string;
}

export function resolveRange(r: Range): { start: number; end: number } | undefined {
  const now = Date.now();
  const start = resolveTime(r.from, now);
  const end = resolveTime(r.to, now);
  return start === undefined || end === undefined || start >= end ? undefined : { start, end };
}

export const nsOf = (ms: number): string => `${BigInt(Math.round(ms)) * 1_000_000n}`;

export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A nanosecond time in the viewer's zone: `2026-12-07 13:25:02.776`. */
export function formatNs(ns: string): string {
  const ms = Number(BigInt(ns) / 1_000_000n);
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A range end as the picker shows it. */
export function describeTime(text: string): string {
  if (/^\d+$/.test(text)) return formatNs(`${BigInt(text) * 1_000_000n}`);
  return text;
}

/** A step (seconds) giving about `bars` buckets over the range, rounded to a readable duration. */
export function stepFor(start: number, end: number, bars = 120): number {
  const raw = (end - start) / 1000 / bars;
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  return steps.find((s) => s >= raw) ?? Math.ceil(raw / 86400) * 86400;
}

export const RELATIVE_RANGES: readonly [string, string][] = [
  ['now-5m', 'Last 5 minutes'],
  ['now-15m', 'Last 15 minutes'],
  ['now-1h', 'Last 1 hour'],
  ['now-6h', 'Last 6 hours'],
  ['now-24h', 'Last 24 hours'],
  ['now-2d', 'Last 2 days'],
  ['now-7d', 'Last 7 days'],
  ['now-30d', 'Last 30 days'],
];

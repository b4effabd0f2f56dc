/**
 * @module Printing: number formats, a plain-text table, and the targets of the journal core
 * with their PASS/FAIL verdicts.
 */
import type { Timing } from './queries.js';

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fmtMB = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
export const fmtMs = (ms: number): string =>
  Number.isNaN(ms) ? 'n/a' : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
export const fmtTiming = (t: Timing): string =>
  `median ${fmtMs(t.medianMs)} (min ${fmtMs(t.minMs)}, max ${fmtMs(t.maxMs)}; warm-up ${fmtMs(t.warmupMs)} excluded)`;

export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  }
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  const sep = widths.map((w) => '-'.repeat(w)).join('-+-');
  const [head, ...body] = rows;
  return [line(head!), sep, ...body.map(line)].join('\n');
}

export interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean;
  readonly note?: string;
}

export function verdictTable(verdicts: readonly Verdict[]): string {
  return table([
    ['target', 'measured', 'result'],
    ...verdicts.map((v) => [
      v.target,
      v.measured,
      `${v.pass ? 'PASS' : 'FAIL'}${v.note ? ` (${v.note})` : ''}`,
    ]),
  ]);
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

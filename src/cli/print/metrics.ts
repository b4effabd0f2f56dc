/**
 * @module Metric query results (vector, matrix, scalar) as a table, JSON lines or bare samples.
 * logcli prints these as indented JSON; kjournal prints a table by default and keeps `-o json` for that.
 */
import { labelsKey } from '../../model/labels-key.js';
import type { Labels } from '../../model/record.js';
import type { Palette } from './color.js';
import type { OutputMode } from './logs.js';
import { formatTimestamp, secondsToNs, type Zone } from './time.js';

export interface Sample {
  readonly metric: Labels;
  /** Unix seconds, as Loki prints them. */
  readonly time: number;
  readonly value: string;
}

/** The samples of a `vector`, `matrix` or `scalar` result, series by series, oldest first. */
export function samplesOf(resultType: string, result: unknown): Sample[] {
  const out: Sample[] = [];
  if (resultType === 'scalar' && Array.isArray(result)) {
    out.push({ metric: {}, time: Number(result[0]), value: String(result[1]) });
  } else if (resultType === 'vector' && Array.isArray(result)) {
    for (const s of result as { metric?: Labels; value?: [number, string] }[]) {
      if (s.value) out.push({ metric: s.metric ?? {}, time: Number(s.value[0]), value: String(s.value[1]) });
    }
  } else if (resultType === 'matrix' && Array.isArray(result)) {
    for (const s of result as { metric?: Labels; values?: [number, string][] }[]) {
      for (const [t, v] of s.values ?? [])
        out.push({ metric: s.metric ?? {}, time: Number(t), value: String(v) });
    }
  }
  return out;
}

export interface MetricFormatOptions {
  readonly mode: Exclude<OutputMode, 'json'>;
  readonly zone: Zone;
  readonly colors: Palette;
}

/** The lines to print (without newlines). */
export function formatSamples(samples: readonly Sample[], o: MetricFormatOptions): string[] {
  const nano = o.mode === 'wide';
  const rows = samples.map((s) => ({
    ts: formatTimestamp(secondsToNs(s.time), o.zone, nano),
    value: s.value,
    series: labelsKey(s.metric),
    s,
  }));
  switch (o.mode) {
    case 'raw':
      return rows.map((r) => `${r.series} ${r.value} ${r.s.time}`);
    case 'jsonl':
      return rows.map((r) => JSON.stringify({ metric: r.s.metric, timestamp: r.ts, value: r.value }));
    default: {
      const tw = Math.max('TIMESTAMP'.length, ...rows.map((r) => r.ts.length));
      const vw = Math.max('VALUE'.length, ...rows.map((r) => r.value.length));
      const c = o.colors;
      const lines = [c.paint('bold', `${'TIMESTAMP'.padEnd(tw)}  ${'VALUE'.padStart(vw)}  SERIES`)];
      for (const r of rows) {
        lines.push(
          `${c.paint('blue', r.ts.padEnd(tw))}  ${r.value.padStart(vw)}  ${c.paint('red', r.series)}`,
        );
      }
      return lines;
    }
  }
}

/**
 * @module Prometheus' text exposition format as a scraper reads it, and Prometheus' naming
 * conventions, for the tests of the server's and the agent's /metrics.
 */
import assert from 'node:assert/strict';

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface Exposition {
  /** Metric family name → its TYPE. */
  readonly types: Map<string, string>;
  readonly samples: Sample[];
}

/** Prometheus' text format (0.0.4), as a scraper parses it; throws on a line it cannot read. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sum(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return e.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/**
 * Prometheus' naming conventions (prometheus.io/docs/practices/naming) for one family: snake_case,
 * a counter ends in `_total`, a histogram or summary names its unit (`_seconds`, `_bytes`), and no
 * gauge pretends to be a counter. Returns what is wrong, or undefined.
 */
export function namingProblem(name: string, type: string): string | undefined {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) return 'not snake_case';
  if (type === 'counter' && !name.endsWith('_total')) return 'a counter without _total';
  if (type !== 'counter' && name.endsWith('_total') && !/_total_bytes$/.test(name))
    return `a ${type} named like a counter`;
  if ((type === 'histogram' || type === 'summary') && !/_(seconds|bytes)$/.test(name))
    return `a ${type} without a unit suffix`;
  if (/_(milliseconds|millis|ms|kb|mb|kilobytes|megabytes|minutes|hours)(_|$)/.test(name))
    return 'not in base units';
  return undefined;
}

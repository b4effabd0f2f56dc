/**
 * @module Small inline filters and outputs for the pipeline's tests, so that they depend on no real
 * filter or output type: `upper`, `drop`, `tag`, `parser` (only validates `format`), `failing`
 * (a factory that throws a plain Error); `memory` outputs that record what they got and fail on
 * demand.
 */
import type { Registry } from 'prom-client';
import type { LogRecord } from '../../src/model/record.js';
import type { Registries } from '../../src/pipeline/config.js';
import type { FilterFactory } from '../../src/pipeline/filter.js';
import { type Output, OutputError, type OutputFactory } from '../../src/pipeline/outputs/output.js';

let seq = 0;

/** A record with these labels (kind and class default to log/application). */
export function rec(
  labels: Record<string, string> = {},
  body = `line ${++seq}`,
  attributes: Record<string, string> = {},
): LogRecord {
  const t = 1_700_000_000_000_000_000n + BigInt(seq) * 1000n + 7n;
  return {
    timestamp: t,
    observedTimestamp: t + 1n,
    labels: { kind: 'log', class: 'application', ...labels },
    attributes,
    body,
  };
}

export const TEST_FILTERS: Record<string, FilterFactory> = {
  upper: (o) => {
    o.done();
    return { type: 'upper', apply: (r) => ({ ...r, body: r.body.toUpperCase() }) };
  },
  drop: (o) => {
    const needle = o.string('contains');
    o.done();
    return { type: 'drop', apply: (r) => (r.body.includes(needle) ? null : r) };
  },
  tag: (o) => {
    const value = o.string('value');
    o.done();
    return { type: 'tag', apply: (r) => ({ ...r, attributes: { ...r.attributes, tag: value } }) };
  },
  parser: (o) => {
    o.oneOf('format', ['json', 'logfmt', 'regexp']);
    o.done();
    return { type: 'parser', apply: (r) => r };
  },
  failing: (o) => {
    const file = o.string('file');
    throw new Error(`cannot read ${file}: no such file`);
  },
};

/** A test output: keeps every batch; `fail` decides per attempt what goes wrong. */
export class MemoryOutput implements Output {
  readonly type = 'memory';
  readonly batches: LogRecord[][] = [];
  attempts = 0;
  closed = false;
  /** Returns an error to throw for this attempt, or undefined to accept. */
  fail: (records: readonly LogRecord[], attempt: number) => Error | undefined = () => undefined;
  /** Milliseconds each send takes. */
  delayMs = 0;

  constructor(readonly name: string) {}

  get bodies(): string[] {
    return this.batches.flat().map((r) => r.body);
  }

  async send(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    this.attempts++;
    if (this.delayMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new OutputError('aborted', true));
        });
      });
    }
    const err = this.fail(records, this.attempts);
    if (err) throw err;
    this.batches.push([...records]);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Registries with the test filters and a `memory` output type (options: `url`, required). */
export function testRegistries(made: Map<string, MemoryOutput> = new Map()): Registries {
  const memory: OutputFactory = (name, o) => {
    o.string('url');
    o.done();
    const out = new MemoryOutput(name);
    made.set(name, out);
    return out;
  };
  return { filters: TEST_FILTERS, outputs: { memory } };
}

export const down = (): Error => new OutputError('connection refused', true);
export const rejected = (): Error => new OutputError('peer answered 400: bad record', false);

/** The value of one metric series (0 when absent). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  const v = values.find((x) => Object.entries(labels).every(([k, want]) => String(x.labels[k]) === want));
  return v?.value ?? 0;
}

/** Resolves when `cond` holds, polling; rejects after `ms`. */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

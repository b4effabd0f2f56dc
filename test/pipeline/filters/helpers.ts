/**
 * @module Helpers of the filter tests: records, building a filter as a flow would (options under
 * `flows[0].filters[0].<type>`), a fixed clock, and ConfigError assertions.
 */
import assert from 'node:assert/strict';
import type { LogRecord } from '../../../src/model/record.js';
import type { Filter, FilterFactory } from '../../../src/pipeline/filter.js';
import { ConfigError, type ConfigPath, Options } from '../../../src/pipeline/options.js';

export const T0 = 1_700_000_000_000_000_000n;

/** A frozen record (labels and attributes too): a filter that mutates its input throws. */
export function rec(p: Partial<LogRecord> = {}): LogRecord {
  return Object.freeze({
    timestamp: p.timestamp ?? T0,
    observedTimestamp: p.observedTimestamp ?? T0 + 1n,
    labels: Object.freeze({ kind: 'containerlog', class: 'application', ...p.labels }),
    attributes: Object.freeze({ ...p.attributes }),
    body: p.body ?? '',
  });
}

export const pathOf = (type: string): ConfigPath => ['flows', 0, 'filters', 0, type];

/** A clock tests move by hand (milliseconds). */
export class Clock {
  constructor(public ms = 1_700_000_000_000) {}
  readonly now = (): number => this.ms;
}

export function build(factory: FilterFactory, type: string, options: unknown, clock = new Clock()): Filter {
  return factory(new Options(options, pathOf(type)), { baseDir: '/etc/kjournal', now: clock.now });
}

/** Asserts `fn` throws a ConfigError at `path` (relative to the filter's options) matching `message`. */
export function throwsConfig(fn: () => unknown, type: string, rel: ConfigPath, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.deepEqual(err.path, [...pathOf(type), ...rel]);
    assert.match(err.message, message);
    return true;
  });
}

/** Applies a filter and asserts it kept the record. */
export function kept(f: Filter, r: LogRecord): LogRecord {
  const out = f.apply(r);
  assert.ok(out !== null, 'the record was dropped');
  return out;
}

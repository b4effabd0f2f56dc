/**
 * @module Helpers of the filter tests: records, building a filter as a flow would (options under
 * `flows[0].filters[0].<type>`), a fixed clock, and ConfigError assertions.
 */
import assert from 'node:assert/strict';
import { ConfigError, type ConfigPath, Options } from '../../../src/config/options.js';
import type { LogRecord } from '../../../src/model/record.js';
import type { Filter, FilterFactory } from '../../../src/pipeline/filter.js';

export const T0 = 1_700_000_000_000_000_000n;

/** The journal MESSAGE of seed 003 (kata-runtime, logfmt). */
export const KATA_SEED_MESSAGE =
  'time="2020-02-21T10:31:27.810781647Z" level=info msg="release sandbox" arch=amd64 command=state container=7cdd31660d8705facdadeb8598d2c0bd008e8142c54e3b3069abd392c8d58997 name=kata-runtime pid=14314 sandbox=1c3e77cad66aa2b6d8cc846f818370f79cb0104c0b840f67d0f502fd6562b68c source=virtcontainers subsystem=sandbox';

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

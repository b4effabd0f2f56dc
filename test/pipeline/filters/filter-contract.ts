/**
 * @module The Filter contract (src/pipeline/filter.ts): every filter type of the pipeline runs this
 * suite (test/pipeline/filters/contract.test.ts gives each one a driver: valid options and records
 * that show its behaviour). What every filter promises, whatever it does:
 * - its `type` is the name a flow's `filters` list uses;
 * - a misspelt option is a ConfigError naming that field (the factory calls `Options.done()`);
 * - it never changes the record it is given (records are frozen here, so a write throws);
 * - a record it leaves alone goes on as the same object (flows.ts passes it on without a copy);
 * - what it returns is a well-formed record (string labels, attributes and body, bigint times) or
 *   `null`; a record it cannot read goes on with its body and `__error__`, never vanishes;
 * - it never throws, whatever the record (a throw is a bug that flows.ts turns into `FilterError`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../../src/config/options.js';
import type { LogRecord } from '../../../src/model/record.js';
import { ERROR_ATTR, type Filter, type FilterFactory } from '../../../src/pipeline/filter.js';
import { build, pathOf, rec } from './helpers.js';

export interface FilterDriver {
  /** Valid options: the configuration's mapping under the filter's name. */
  readonly options: Readonly<Record<string, unknown>>;
  /** A record this filter (freshly built) lets through untouched. */
  readonly untouched?: LogRecord;
  /** Records applied in order to one fresh filter, and what must come of them. */
  readonly changes?: {
    readonly records: readonly LogRecord[];
    check(out: readonly (LogRecord | null)[]): void;
  };
  /** A record the filter cannot read, and the `__error__` value it must get. */
  readonly unreadable?: { readonly record: LogRecord; readonly error: string };
}

/** Records of unusual shapes: no filter may throw on them or return anything ill-formed. */
function oddRecords(): LogRecord[] {
  return [
    rec(),
    rec({ body: '{' }),
    rec({ body: '{"a":{"b":[1,2,{"c":null}]},"message":"m","log":"l","body":"b"}' }),
    rec({ body: '[1,2,3]' }),
    rec({ body: 'level=info msg="unterminated' }),
    rec({ body: '\u0000\u001b[31mred\u001b[0m \ud83d\ude00 caf\u00e9' }),
    rec({ body: 'x'.repeat(100_000) }),
    rec({ labels: {}, attributes: {} }),
    rec({ labels: { kind: 'auditevent', class: 'audit' }, body: 'not an audit event' }),
    rec({ labels: { kind: 'auditevent', class: 'audit' }, body: '{"kind":"Event"}' }),
    rec({ attributes: { '': 'empty name', 'a.b': 'dot', __error__: 'earlier' } }),
    rec({ timestamp: 0n, observedTimestamp: 0n }),
  ];
}

function deepFreeze(r: LogRecord): LogRecord {
  Object.freeze(r.labels);
  Object.freeze(r.attributes);
  return Object.freeze(r);
}

function copyOf(r: LogRecord): unknown {
  return { ...r, labels: { ...r.labels }, attributes: { ...r.attributes } };
}

function assertWellFormed(out: LogRecord | null, what: string): void {
  if (out === null) return;
  assert.equal(typeof out.timestamp, 'bigint', `${what}: timestamp`);
  assert.equal(typeof out.observedTimestamp, 'bigint', `${what}: observedTimestamp`);
  assert.equal(typeof out.body, 'string', `${what}: body`);
  for (const [k, v] of Object.entries(out.labels)) assert.equal(typeof v, 'string', `${what}: label ${k}`);
  for (const [k, v] of Object.entries(out.attributes))
    assert.equal(typeof v, 'string', `${what}: attribute ${k}`);
}

/** Applies `r` (frozen) and checks that `r` was left as it was. */
function applyChecked(f: Filter, r: LogRecord, what: string): LogRecord | null {
  const frozen = deepFreeze(r);
  const before = copyOf(frozen);
  const out = f.apply(frozen);
  assert.deepEqual(copyOf(frozen), before, `${what}: the input record was changed`);
  assertWellFormed(out, what);
  return out;
}

export function filterContract(type: string, factory: FilterFactory, driver: FilterDriver): void {
  describe(`Filter contract: ${type}`, () => {
    const make = () => build(factory, type, driver.options);

    test('its type is its configuration name', () => {
      assert.equal(make().type, type);
    });

    test('a misspelt option is a ConfigError naming the field', () => {
      assert.throws(
        () => build(factory, type, { ...driver.options, noSuchOption: 1 }),
        (err: unknown) =>
          err instanceof ConfigError && err.path.join('.') === [...pathOf(type), 'noSuchOption'].join('.'),
      );
    });

    if (driver.untouched !== undefined) {
      const untouched = driver.untouched;
      test('a record it leaves alone goes on as the same object', () => {
        const r = deepFreeze(untouched);
        assert.equal(make().apply(r), r);
      });
    }

    if (driver.changes !== undefined) {
      const { records, check } = driver.changes;
      test('does what it is for, without changing the records it is given', () => {
        const f = make();
        check(records.map((r, i) => applyChecked(f, r, `record ${i}`)));
      });
    }

    if (driver.unreadable !== undefined) {
      const { record, error } = driver.unreadable;
      test('a record it cannot read goes on with its body and __error__', () => {
        const out = applyChecked(make(), record, 'unreadable');
        assert.ok(out !== null, 'the record vanished');
        assert.equal(out.body, record.body);
        assert.equal(out.attributes[ERROR_ATTR], error);
      });
    }

    test('never throws and returns well-formed records, whatever the input', () => {
      const f = make();
      for (const [i, r] of oddRecords().entries()) applyChecked(f, r, `odd record ${i}`);
      // Twice: stateful filters (throttle, dedupe) see repeats.
      for (const [i, r] of oddRecords().entries()) applyChecked(f, r, `odd record ${i} again`);
    });
  });
}

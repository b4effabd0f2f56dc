/**
 * The tail hub: tenants and filters; tail frames and filters.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type TailEntry, TailHub } from '../../src/journal/tail-hub.js';
import type { LogRecord } from '../../src/model/record.js';

const rec = (body: string, ns = 'a'): LogRecord => ({
  timestamp: 1n,
  observedTimestamp: 1n,
  labels: { namespace: ns },
  attributes: {},
  body,
});

describe('TailHub', () => {
  test('delivers accepted entries of the subscriber tenant only, once per publish', () => {
    const hub = new TailHub();
    const got: string[][] = [];
    const unsubscribe = hub.subscribe({
      tenant: 't1',
      accepts: (e) => e.labels.namespace === 'a',
      deliver: (es) => got.push(es.map((e) => e.body)),
    });
    hub.publish('t1', [rec('one'), rec('two', 'b'), rec('three')]);
    hub.publish('t2', [rec('other tenant')]);
    hub.publish('t1', [rec('filtered', 'b')]);
    assert.deepEqual(got, [['one', 'three']]);
    unsubscribe();
    assert.equal(hub.size, 0);
    hub.publish('t1', [rec('after')]);
    assert.equal(got.length, 1);
  });

  test('a throwing filter does not fail the publish', () => {
    const hub = new TailHub();
    hub.subscribe({
      tenant: 't',
      accepts: () => {
        throw new Error('bad');
      },
      deliver: () => assert.fail('nothing accepted'),
    });
    hub.publish('t', [rec('x')]);
  });
});

describe('tail frames', () => {
  test('Loki shape: streams by labels (metadata joined), dropped_entries only when some were dropped', async () => {
    const { tailFrame } = await import('../../src/api/loki/tail.js');
    const a: TailEntry = { labels: { app: 'a' }, attributes: {}, timestamp: 10n, body: 'one' };
    const b: TailEntry = { labels: { app: 'a' }, attributes: { trace_id: 't' }, timestamp: 11n, body: 'two' };
    assert.equal(
      tailFrame([a, b, { ...a, timestamp: 12n, body: 'three' }], []),
      '{"streams":[{"stream":{"app":"a"},"values":[["10","one"],["12","three"]]},{"stream":{"app":"a","trace_id":"t"},"values":[["11","two"]]}]}',
    );
    assert.equal(tailFrame([], [a]), '{"dropped_entries":[{"timestamp":"10","labels":{"app":"a"}}]}');
  });
});

describe('tail filters', () => {
  test('every stage through the LogQL evaluator; line filters keep the entry, other stages give its output', async () => {
    const { compileTailFilter } = await import('../../src/api/loki/tail.js');
    const { parseLogql } = await import('../../src/logql/parser.js');
    const e: TailEntry = {
      labels: { app: 'a' },
      attributes: { m: '1' },
      timestamp: 5n,
      body: 'level=error x',
    };
    const lines = parseLogql('{app="a"} |= "error" != "debug" |~ "x$"');
    assert.equal(lines.type, 'log');
    if (lines.type !== 'log') return;
    assert.equal(compileTailFilter(lines)(e), e);
    assert.equal(compileTailFilter(lines)({ ...e, body: 'level=info x' }), undefined);

    const staged = parseLogql('{app="a"} | logfmt | level="error" | line_format "{{.level}}!"');
    if (staged.type !== 'log') return;
    assert.deepEqual(compileTailFilter(staged)(e), {
      labels: { app: 'a', m: '1', level: 'error' },
      attributes: {},
      timestamp: 5n,
      body: 'error!',
    });
    assert.equal(compileTailFilter(staged)({ ...e, body: 'level=info' }), undefined);
  });
});

test('onActive: told when the first subscriber comes and the last leaves, at once if one is there', () => {
  const hub = new TailHub();
  const seen: boolean[] = [];
  hub.onActive((active) => seen.push(active));
  assert.deepEqual(seen, []);
  const sub = { tenant: 't', accepts: () => true, deliver: () => {} };
  const off1 = hub.subscribe(sub);
  const off2 = hub.subscribe({ ...sub });
  assert.deepEqual(seen, [true]);
  off1();
  off1(); // a second call changes nothing
  assert.deepEqual(seen, [true]);
  off2();
  assert.deepEqual(seen, [true, false]);
  const off3 = hub.subscribe(sub);
  const late: boolean[] = [];
  hub.onActive((active) => late.push(active));
  assert.deepEqual(late, [true]);
  off3();
  assert.deepEqual(seen, [true, false, true, false]);
  assert.deepEqual(late, [true, false]);
});

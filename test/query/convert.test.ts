/**
 * Go's conversions as unwrap uses them (the parsers themselves are tested in test/go/), and the
 * Loki JSON shapes of metric results.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  convertBytes,
  convertDuration,
  convertDurationNs,
  convertFloat,
} from '../../src/query/metric/convert.js';
import { instantData, rangeData } from '../../src/query/metric/index.js';

test("unwrap conversions throw Go's error text (it becomes __error_details__)", () => {
  assert.equal(convertFloat('1.5'), 1.5);
  assert.throws(() => convertFloat(' 1'), { message: 'strconv.ParseFloat: parsing " 1": invalid syntax' });
  assert.equal(convertBytes('1,000 B'), 1000);
  assert.throws(() => convertBytes('12 parsecs'), { message: 'unhandled size name: parsecs' });
  assert.equal(convertDuration('1h30m'), 5400);
  assert.equal(convertDuration('-1.5s'), -1.5);
  assert.throws(() => convertDuration('10'), { message: 'time: missing unit in duration "10"' });
  assert.equal(convertDurationNs('1µs'), 1000n);
});

test('Loki JSON shapes', () => {
  const stats = { linesProcessed: 0, bytesProcessed: 0, linesCounted: 0 };
  const time = 1_700_000_000_123_456_789n;
  assert.deepEqual(instantData({ type: 'scalar', value: 2, stats }, time), {
    resultType: 'scalar',
    result: [1_700_000_000.123, '2'],
  });
  assert.deepEqual(
    instantData({ type: 'vector', samples: [{ labels: { a: '1' }, value: 0.5 }], stats }, time),
    {
      resultType: 'vector',
      result: [{ metric: { a: '1' }, value: [1_700_000_000.123, '0.5'] }],
    },
  );
  assert.deepEqual(
    rangeData({
      type: 'matrix',
      series: [{ labels: {}, points: [[time, Number.NaN]] }],
      stats,
    }),
    { resultType: 'matrix', result: [{ metric: {}, values: [[1_700_000_000.123, 'NaN']] }] },
  );
});

/**
 * Go's conversions as unwrap uses them, Go and Prometheus duration printing (limit messages), and
 * the Loki JSON shapes of metric results.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoDurationSeconds, parseGoFloat, parseHumanBytes } from '../../src/query/metric/convert.js';
import { goDuration, instantData, promDuration, rangeData } from '../../src/query/metric/index.js';

const H = 3_600_000_000_000n;

test('strconv.ParseFloat', () => {
  assert.equal(parseGoFloat('1.5'), 1.5);
  assert.equal(parseGoFloat('-2e3'), -2000);
  assert.equal(parseGoFloat('.5'), 0.5);
  assert.equal(parseGoFloat('+Inf'), Number.POSITIVE_INFINITY);
  assert.ok(Number.isNaN(parseGoFloat('NaN')));
  assert.throws(() => parseGoFloat('abc'), { message: 'strconv.ParseFloat: parsing "abc": invalid syntax' });
  assert.throws(() => parseGoFloat(''), { message: 'strconv.ParseFloat: parsing "": invalid syntax' });
  assert.throws(() => parseGoFloat(' 1'), /invalid syntax/);
});

test('humanize.ParseBytes', () => {
  assert.equal(parseHumanBytes('42'), 42);
  assert.equal(parseHumanBytes('1KiB'), 1024);
  assert.equal(parseHumanBytes('2 KB'), 2000);
  assert.equal(parseHumanBytes('1.5mb'), 1_500_000);
  assert.equal(parseHumanBytes('1,000 B'), 1000);
  assert.throws(() => parseHumanBytes('12 parsecs'), { message: 'unhandled size name: parsecs' });
});

test('time.ParseDuration in seconds', () => {
  assert.equal(parseGoDurationSeconds('1h30m'), 5400);
  assert.equal(parseGoDurationSeconds('250ms'), 0.25);
  assert.equal(parseGoDurationSeconds('-1.5s'), -1.5);
  assert.equal(parseGoDurationSeconds('0'), 0);
  assert.equal(parseGoDurationSeconds('1µs'), 1e-6);
  assert.throws(() => parseGoDurationSeconds('10'), { message: 'time: missing unit in duration "10"' });
  assert.throws(() => parseGoDurationSeconds('10x'), { message: 'time: unknown unit "x" in duration "10x"' });
  assert.throws(() => parseGoDurationSeconds('abc'), { message: 'time: invalid duration "abc"' });
});

test('durations print as Go and Prometheus print them', () => {
  assert.equal(goDuration(721n * H + 1_000_000_000n), '721h0m1s');
  assert.equal(goDuration(90_000_000_000n), '1m30s');
  assert.equal(goDuration(1_500_000_000n), '1.5s');
  assert.equal(goDuration(250_000_000n), '250ms');
  assert.equal(goDuration(0n), '0s');
  assert.equal(promDuration(721n * H), '30d1h');
  assert.equal(promDuration(7n * 24n * H), '1w');
  assert.equal(promDuration(90n * 24n * H), '90d');
  assert.equal(promDuration(1_500_000_000n), '1s500ms');
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

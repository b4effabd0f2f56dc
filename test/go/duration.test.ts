/**
 * src/go/duration.ts against its references: the rows of Go's own time.ParseDuration and
 * Duration.String tests (src/time/time_test.go), and of prometheus/common's model.ParseDuration and
 * Duration.String tests (model/time_test.go), plus Loki's combination of the two.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatGoDuration,
  formatPromDuration,
  goDurationSeconds,
  parseDuration,
  parseGoDuration,
  parsePromDuration,
} from '../../src/go/duration.js';

const NS = 1n;
const US = 1000n * NS;
const MS = 1000n * US;
const S = 1000n * MS;
const M = 60n * S;
const H = 60n * M;
const D = 24n * H;
const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);

/** time_test.go parseDurationTests. */
const GO_OK: [string, bigint][] = [
  ['0', 0n],
  ['5s', 5n * S],
  ['30s', 30n * S],
  ['1478s', 1478n * S],
  ['-5s', -5n * S],
  ['+5s', 5n * S],
  ['-0', 0n],
  ['+0', 0n],
  ['5.0s', 5n * S],
  ['5.6s', 5n * S + 600n * MS],
  ['5.s', 5n * S],
  ['.5s', 500n * MS],
  ['1.004s', S + 4n * MS],
  ['100.00100s', 100n * S + MS],
  ['10ns', 10n],
  ['11us', 11n * US],
  ['12µs', 12n * US],
  ['12μs', 12n * US],
  ['13ms', 13n * MS],
  ['15m', 15n * M],
  ['16h', 16n * H],
  ['3h30m', 3n * H + 30n * M],
  ['10.5s4m', 4n * M + 10n * S + 500n * MS],
  ['-2m3.4s', -(2n * M + 3n * S + 400n * MS)],
  ['1h2m3s4ms5us6ns', H + 2n * M + 3n * S + 4n * MS + 5n * US + 6n],
  ['39h9m14.425s', 39n * H + 9n * M + 14n * S + 425n * MS],
  ['52763797000ns', 52763797000n],
  ['0.3333333333333333333h', 20n * M],
  ['9007199254740993ns', (1n << 53n) + 1n],
  ['9223372036854775807ns', MAX],
  ['9223372036854775.807us', MAX],
  ['9223372036s854ms775us807ns', MAX],
  ['-9223372036854775808ns', MIN],
  ['-9223372036854775.808us', MIN],
  ['-9223372036s854ms775us808ns', MIN],
  ['-2562047h47m16.854775808s', MIN],
  ['0.100000000000000000000h', 6n * M],
  ['0.830103483285477580700h', 49n * M + 48n * S + 372539827n],
];

test("time.ParseDuration: the values of Go's own test table", () => {
  for (const [s, want] of GO_OK) assert.deepEqual(parseGoDuration(s), { ok: true, value: want }, s);
});

test("time.ParseDuration: refusals, with Go's error text", () => {
  for (const s of [
    '',
    '3',
    '-',
    's',
    '.',
    '-.',
    '.s',
    '+.s',
    '1d',
    '9223372036854775808ns',
    '9223372036854775.808us',
    '9223372036854ms775us808ns',
    '-9223372036854775809ns',
  ]) {
    assert.equal(parseGoDuration(s).ok, false, s);
  }
  assert.deepEqual(parseGoDuration(''), { ok: false, error: 'time: invalid duration ""' });
  assert.deepEqual(parseGoDuration('"""'), { ok: false, error: 'time: invalid duration "\\"\\"\\""' });
  assert.deepEqual(parseGoDuration('\uFFFD'), {
    ok: false,
    error: 'time: invalid duration "\\xef\\xbf\\xbd"',
  });
  assert.deepEqual(parseGoDuration('9223372036854775810ns'), {
    ok: false,
    error: 'time: invalid duration "9223372036854775810ns"',
  });
  assert.deepEqual(parseGoDuration('10'), { ok: false, error: 'time: missing unit in duration "10"' });
  assert.deepEqual(parseGoDuration('1d'), { ok: false, error: 'time: unknown unit "d" in duration "1d"' });
});

test('Duration.Seconds splits whole and fractional seconds', () => {
  assert.equal(goDurationSeconds(5400n * S), 5400);
  assert.equal(goDurationSeconds(-1500n * MS), -1.5);
  assert.equal(goDurationSeconds(1n * US), 1e-6);
});

test("time.Duration.String: the rows of Go's durationTests", () => {
  const rows: [string, bigint][] = [
    ['0s', 0n],
    ['1ns', 1n],
    ['1.1µs', 1100n],
    ['2.2ms', 2200n * US],
    ['3.3s', 3300n * MS],
    ['4m5s', 4n * M + 5n * S],
    ['4m5.001s', 4n * M + 5001n * MS],
    ['5h6m7.001s', 5n * H + 6n * M + 7001n * MS],
    ['8m0.000000001s', 8n * M + 1n],
    ['2562047h47m16.854775807s', MAX],
    ['-2562047h47m16.854775808s', MIN],
  ];
  for (const [want, d] of rows) assert.equal(formatGoDuration(d), want);
});

test("model.ParseDuration and Duration.String: the rows of Prometheus' test table", () => {
  const rows: [string, bigint, string][] = [
    ['0', 0n, '0s'],
    ['0s', 0n, '0s'],
    ['0w', 0n, '0s'],
    ['324ms', 324n * MS, '324ms'],
    ['3s', 3n * S, '3s'],
    ['5m', 5n * M, '5m'],
    ['1h', H, '1h'],
    ['4d', 4n * D, '4d'],
    ['4d1h', 4n * D + H, '4d1h'],
    ['14d', 14n * D, '2w'],
    ['3w', 21n * D, '3w'],
    ['3w2d1h', 23n * D + H, '23d1h'],
    ['10y', 3650n * D, '10y'],
    ['1y1w1d1h1m1s1ms', 373n * D + H + M + S + MS, '373d1h1m1s1ms'],
  ];
  for (const [text, ns, printed] of rows) {
    assert.deepEqual(parsePromDuration(text), { ok: true, value: ns }, text);
    assert.equal(formatPromDuration(ns), printed, text);
  }
  for (const s of ['1', '1y1m1d', '-1w', '1.5d', 'd', '294y', '292y1000d', '1h30m1h']) {
    assert.equal(parsePromDuration(s).ok, false, s);
  }
  assert.deepEqual(parsePromDuration(''), { ok: false, error: 'empty duration string' });
  assert.deepEqual(parsePromDuration('1.5h'), { ok: false, error: 'unknown unit "." in duration "1.5h"' });
  assert.deepEqual(parsePromDuration('5x'), { ok: false, error: 'unknown unit "x" in duration "5x"' });
});

test("Loki's parseDuration: Prometheus' grammar, then Go's", () => {
  assert.equal(parseDuration('30d'), 30n * D);
  assert.equal(parseDuration('1w2d'), 9n * D);
  assert.equal(parseDuration('1h30m'), 90n * M);
  assert.equal(parseDuration('1.5h'), 90n * M);
  assert.equal(parseDuration('30m1h'), 90n * M); // Go's grammar takes units in any order
  assert.equal(parseDuration('250ms'), 250n * MS);
  assert.equal(parseDuration('0'), 0n);
  assert.equal(parseDuration('-5m'), -5n * M);
  assert.equal(parseDuration('+5m'), 5n * M);
  for (const s of ['', '1.5d', '5x', 'h', '10', '-5d']) assert.equal(parseDuration(s), undefined, s);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpError } from '../../src/api/http/errors.js';
import { tenantOf } from '../../src/api/http/tenant.js';
import {
  parseLimit,
  parseLokiTimestamp,
  parseRange,
  parseSecondsOrDuration,
} from '../../src/api/loki/params.js';

const NOW = 1_763_900_000_000_000_000n;

test('timestamps in every form Loki accepts', () => {
  assert.equal(parseLokiTimestamp('1763900000123456789', 0n), 1_763_900_000_123_456_789n, 'nanoseconds');
  assert.equal(parseLokiTimestamp('1763900000', 0n), NOW, 'seconds');
  assert.equal(parseLokiTimestamp('1763900000.5', 0n), 1_763_900_000_500_000_000n, 'float seconds');
  assert.equal(parseLokiTimestamp('1763900000.1234', 0n), 1_763_900_000_123_000_000n, 'ms rounding as Loki');
  assert.equal(parseLokiTimestamp('2025-11-23T12:13:20.123456789Z', 0n), 1_763_900_000_123_456_789n);
  assert.equal(parseLokiTimestamp('2025-11-23T13:13:20+01:00', 0n), NOW);
  assert.equal(parseLokiTimestamp('', 42n), 42n);
  assert.throws(() => parseLokiTimestamp('yesterday', 0n));
  assert.throws(() => parseLokiTimestamp('99999999999999999999', 0n));
});

test('range defaults: end now, start one hour (or since) before', () => {
  const r = parseRange(new URLSearchParams(), NOW);
  assert.equal(r.end, NOW);
  assert.equal(r.start, NOW - 3_600_000_000_000n);
  const s = parseRange(new URLSearchParams({ since: '5m' }), NOW);
  assert.equal(s.start, NOW - 300_000_000_000n);
  assert.throws(
    () => parseRange(new URLSearchParams({ start: '2', end: '1' }), NOW),
    (e: unknown) => e instanceof HttpError && e.status === 400,
  );
  assert.throws(
    () => parseRange(new URLSearchParams({ start: 'soon' }), NOW),
    (e: unknown) => e instanceof HttpError && /could not parse 'start' parameter/.test(e.message),
  );
});

test('limits and step durations', () => {
  assert.equal(parseLimit(null, 100, 5000), 100);
  assert.equal(parseLimit('20', 100, 5000), 20);
  assert.throws(
    () => parseLimit('5001', 100, 5000),
    /max entries limit per query exceeded, limit > max_entries_limit \(5001 > 5000\)/,
  );
  assert.throws(() => parseLimit('-1', 100, 5000), HttpError);
  assert.equal(parseSecondsOrDuration('15'), 15_000_000_000n);
  assert.equal(parseSecondsOrDuration('1m'), 60_000_000_000n);
  assert.equal(parseSecondsOrDuration('0.5'), 500_000_000n);
});

test('step seconds as Loki reads them: strconv.ParseFloat, then truncated to nanoseconds', () => {
  // Go: time.Duration(1.001 * 1e9) is 1000999999 (the product is 1000999999.9999999): a step of
  // 1.001 ends each window a nanosecond before 1.001 s, so an entry there falls in the next window.
  assert.equal(parseSecondsOrDuration('1.001'), 1_000_999_999n);
  assert.equal(parseSecondsOrDuration('2.003'), 2_003_000_000n);
  assert.equal(parseSecondsOrDuration('0x1p3'), 8_000_000_000n);
  assert.equal(parseSecondsOrDuration('1_0'), 10_000_000_000n);
  assert.throws(
    () => parseSecondsOrDuration('Inf'),
    /cannot parse "Inf" to a valid duration. It overflows int64/,
  );
  assert.throws(() => parseSecondsOrDuration('1e10'), /overflows int64/);
});

test('tenants: default without header, validated with', () => {
  assert.equal(tenantOf(undefined), 'default');
  assert.equal(tenantOf('team-a'), 'team-a');
  assert.throws(() => tenantOf('a/b'), /unsupported character/);
  assert.throws(() => tenantOf('..'), HttpError);
  assert.throws(() => tenantOf('x'.repeat(151)), /too long/);
});

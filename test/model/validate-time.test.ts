/** The one check of entry times (src/model/validate-time.ts): Loki's rules and texts, the store's range. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_STORABLE_NS,
  SENDER_TIME_LIMITS,
  type TimeLimits,
  TimeWindow,
} from '../../src/model/validate-time.js';

const S = 1_000_000_000n;
const DAY = 86_400n * S;
/** 2026-12-01T00:00:00Z */
const NOW = 1_796_083_200n * S;
const LOKI: TimeLimits = {
  rejectOldSamples: true,
  rejectOldSamplesMaxAge: 7n * DAY,
  creationGracePeriod: 600n * S,
};

test("Loki's bounds: older than the max age, newer than the grace period; both ends inclusive", () => {
  const w = new TimeWindow(LOKI, NOW);
  assert.equal(w.oldest, NOW - 7n * DAY);
  assert.equal(w.newest, NOW + 600n * S);
  assert.equal(w.check(NOW), undefined);
  assert.equal(w.check(NOW - 7n * DAY), undefined);
  assert.equal(w.check(NOW - 7n * DAY - 1n), 'too_old');
  assert.equal(w.check(NOW + 600n * S), undefined);
  assert.equal(w.check(NOW + 600n * S + 1n), 'too_new');
  assert.equal(w.check(1n), 'too_old');
});

test('the store range holds whatever the limits: nothing before 1970, nothing past 2^63-1 ns', () => {
  const lax: TimeLimits = {
    rejectOldSamples: false,
    rejectOldSamplesMaxAge: 0n,
    creationGracePeriod: 1000n * 365n * DAY,
  };
  const w = new TimeWindow(lax, NOW);
  assert.equal(w.oldest, 0n);
  assert.equal(w.newest, MAX_STORABLE_NS);
  assert.equal(w.check(0n), undefined);
  assert.equal(w.check(1n), undefined, 'without an age limit 1 ns is storable');
  assert.equal(w.check(-1n), 'too_old');
  assert.equal(w.check(MAX_STORABLE_NS), undefined);
  assert.equal(w.check(MAX_STORABLE_NS + 1n), 'too_new');
  // 9999-12-31, as a protobuf Timestamp may carry it.
  assert.equal(w.check(253_402_300_799n * S), 'too_new');
  // A max age reaching before 1970 stops at 1970.
  assert.equal(new TimeWindow({ ...LOKI, rejectOldSamplesMaxAge: 100_000n * DAY }, NOW).oldest, 0n);
});

test("the refusals read as Loki's", () => {
  const w = new TimeWindow(LOKI, NOW);
  assert.equal(
    w.message('{app="a"}', 1n, 'too_old'),
    'entry for stream \'{app="a"}\' has timestamp too old: 1970-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-11-24T00:00:00Z',
  );
  assert.equal(
    w.message('{app="a"}', 9_214_646_400n * S, 'too_new'),
    'entry for stream \'{app="a"}\' has timestamp too new: 2262-01-01T00:00:00Z',
  );
  assert.equal(
    new TimeWindow(SENDER_TIME_LIMITS, NOW).message('{}', -S, 'too_old'),
    "entry for stream '{}' has timestamp too old: 1969-12-31T23:59:59Z, oldest acceptable timestamp is: 1970-01-01T00:00:00Z",
  );
});

test('a sender refuses only what no server takes', () => {
  const w = new TimeWindow(SENDER_TIME_LIMITS, NOW);
  assert.equal(w.check(1n), undefined);
  assert.equal(w.check(-1n), 'too_old');
  assert.equal(w.check(NOW + 600n * S), undefined);
  assert.equal(w.check(NOW + 601n * S), 'too_new');
});

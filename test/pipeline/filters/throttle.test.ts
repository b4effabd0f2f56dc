import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ThrottleFilter, throttleFilter } from '../../../src/pipeline/filters/throttle.js';
import { build, Clock, rec, throwsConfig } from './helpers.js';

/** Epoch milliseconds at the start of a 10 s (and 60 s) period. */
const START = 1_700_000_040_000;

const throttle = (options: unknown, clock: Clock) =>
  build(throttleFilter, 'throttle', options, clock) as ThrottleFilter;
const r = (container = 'app') => rec({ labels: { container }, body: 'line' });

/** Sends one record at `ms` after START; true when it went on. */
const at = (f: ThrottleFilter, clock: Clock, ms: number, record = r()): boolean => {
  clock.ms = START + ms;
  return f.apply(record) !== null;
};

test('a group passes groupBucketLimit records per period, then nothing until the next period', () => {
  const clock = new Clock();
  const f = throttle({ groupBucketPeriodSeconds: 10, groupBucketLimit: 3, groupResetRateSeconds: -1 }, clock);
  assert.deepEqual(
    [0, 100, 200, 300, 400].map((ms) => at(f, clock, ms)),
    [true, true, true, false, false],
  );
  assert.equal(at(f, clock, 9_999), false, 'still the same period');
  assert.equal(at(f, clock, 10_000), true, 'a new period, the reset wait turned off');
  assert.equal(f.exceeded, 3);
});

test('after a breach, a new period waits until the rate is below groupResetRateSeconds', () => {
  const clock = new Clock();
  // 20 per 10 s: rate limit and default reset rate 2/s.
  const f = throttle({ groupBucketPeriodSeconds: 10, groupBucketLimit: 20 }, clock);
  const passed: number[] = [];
  for (let ms = 0; ms < 20_000; ms += 200) if (at(f, clock, ms)) passed.push(ms);
  assert.equal(passed.length, 20, 'only the first period passes anything, at 5/s');
  assert.equal(passed.at(-1), 3_800);
  assert.equal(at(f, clock, 20_000), false, 'third period, but the rate is still 5/s');
  assert.equal(at(f, clock, 21_000), true, 'the rate fell to 1/s: the group is reset');
  assert.equal(at(f, clock, 22_000), true);
});

test('the default reset rate of a limit below 1/s is 0: blocked for good, as the plugin', () => {
  const clock = new Clock();
  const f = throttle({ groupBucketPeriodSeconds: 10, groupBucketLimit: 3 }, clock);
  assert.deepEqual(
    [0, 1, 2, 3].map((ms) => at(f, clock, ms)),
    [true, true, true, false],
  );
  assert.equal(at(f, clock, 15_000), false);
  assert.equal(at(f, clock, 95_000), false);
});

test('groups are independent; a missing group key is a group of its own', () => {
  const clock = new Clock();
  const f = throttle(
    {
      groupKey: ['labels.container'],
      groupBucketLimit: 1,
      groupBucketPeriodSeconds: 1,
      groupResetRateSeconds: -1,
    },
    clock,
  );
  assert.equal(at(f, clock, 0, r('a')), true);
  assert.equal(at(f, clock, 1, r('a')), false);
  assert.equal(at(f, clock, 2, r('b')), true);
  assert.equal(at(f, clock, 3, rec({ body: 'no container' })), true);
  assert.equal(at(f, clock, 4, rec({ body: 'no container' })), false);
  const two = throttle(
    { groupKey: ['labels.container', 'level'], groupBucketLimit: 1, groupBucketPeriodSeconds: 1 },
    clock,
  );
  assert.equal(at(two, clock, 0, rec({ labels: { container: 'a' }, attributes: { level: 'info' } })), true);
  assert.equal(at(two, clock, 1, rec({ labels: { container: 'a' }, attributes: { level: 'warn' } })), true);
  assert.equal(at(two, clock, 2, rec({ labels: { container: 'a' }, attributes: { level: 'info' } })), false);
});

test('groupDropLogs: false passes everything and counts what was over', () => {
  const clock = new Clock();
  const f = throttle({ groupBucketPeriodSeconds: 10, groupBucketLimit: 2, groupDropLogs: false }, clock);
  const all = [0, 1, 2, 3, 4].map((ms) => at(f, clock, ms));
  assert.deepEqual(all, [true, true, true, true, true]);
  assert.equal(f.exceeded, 3);
});

test('bad options are ConfigErrors naming the field', () => {
  const c = new Clock();
  throwsConfig(
    () => throttle({ groupBucketPeriodSeconds: 10, groupBucketLimit: 20, groupResetRateSeconds: 5 }, c),
    'throttle',
    ['groupResetRateSeconds'],
    /at most .*\(2\)/,
  );
  throwsConfig(
    () => throttle({ groupResetRateSeconds: -2 }, c),
    'throttle',
    ['groupResetRateSeconds'],
    /at least -1/,
  );
  throwsConfig(
    () => throttle({ groupBucketPeriodSeconds: 0 }, c),
    'throttle',
    ['groupBucketPeriodSeconds'],
    /at least 1/,
  );
  throwsConfig(
    () => throttle({ groupBucketLimit: 1.5 }, c),
    'throttle',
    ['groupBucketLimit'],
    /whole number/,
  );
  throwsConfig(() => throttle({ groupKey: [] }, c), 'throttle', ['groupKey'], /at least one/);
  throwsConfig(
    () => throttle({ groupKey: ['a', 'labels.'] }, c),
    'throttle',
    ['groupKey', 1],
    /must name a label/,
  );
  throwsConfig(() => throttle({ group_bucket_limit: 5 }, c), 'throttle', ['group_bucket_limit'], /unknown/);
});

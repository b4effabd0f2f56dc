/**
 * @module The `throttle` filter: fluent-plugin-throttle's rate limit per group of records.
 *
 * ```yaml
 * - throttle:
 *     groupKey: [labels.namespace, labels.container]   # default [labels.container]
 *     groupBucketPeriodSeconds: 60
 *     groupBucketLimit: 6000
 *     groupDropLogs: true
 *     groupResetRateSeconds: 100
 * ```
 *
 * As the plugin: records are grouped by the values of `groupKey` (fields.ts; the plugin's default
 * `kubernetes.container_name` is our `labels.container`; missing values form their own group).
 * Time is cut into periods of `groupBucketPeriodSeconds` aligned on the epoch; a group passes at
 * most `groupBucketLimit` records in a period, the rest of the period is dropped. When a new
 * period begins after the limit was hit, the group stays blocked until its approximate rate
 * (records per second, measured at most once a second, counting dropped records too) is below
 * `groupResetRateSeconds` (default and maximum: limit / period, integer; `-1` turns the wait off;
 * `0` blocks for good). With `groupDropLogs: false` nothing is dropped (the plugin then only logs
 * a warning; we count it in `exceeded`). The clock is the factory context's `now`.
 */
import type { LogRecord } from '../../model/record.js';
import type { Filter, FilterFactory } from '../filter.js';
import { checkFieldName, getField } from './fields.js';

/** One group's counters; times in milliseconds. */
interface Group {
  rateCount: number;
  rateLastReset: number;
  approxRate: number;
  /** Records passed in this period; -1 once the limit is exceeded. */
  bucketCount: number;
  bucketLastReset: number;
}

/** Groups kept before idle ones are forgotten (the plugin keeps all; ours must stay bounded). */
const MAX_GROUPS = 100_000;

export interface ThrottleFilter extends Filter {
  /** Records over the limit so far (dropped, or passed with `groupDropLogs: false`). */
  readonly exceeded: number;
}

export const throttleFilter: FilterFactory = (o, ctx): ThrottleFilter => {
  const keys = o
    .stringList('groupKey', ['labels.container'])
    .map((k, i) => checkFieldName(k, o.at('groupKey').concat(i)));
  if (keys.length === 0) throw o.error('groupKey', 'give at least one field');
  const period = o.integer('groupBucketPeriodSeconds', 60, 1);
  const limit = o.integer('groupBucketLimit', 6000, 1);
  const drop = o.boolean('groupDropLogs', true);
  const rateLimit = Math.floor(limit / period);
  const resetRate = o.number('groupResetRateSeconds', rateLimit, -1);
  if (resetRate > rateLimit)
    throw o.error(
      'groupResetRateSeconds',
      `must be at most groupBucketLimit / groupBucketPeriodSeconds (${rateLimit})`,
    );
  o.done();

  const groups = new Map<string, Group>();
  let exceeded = 0;

  const periodMs = period * 1000;
  const forgetIdle = (now: number) => {
    for (const [k, g] of groups) {
      if (now - g.bucketLastReset > 2 * periodMs && now - g.rateLastReset > 2 * periodMs) groups.delete(k);
    }
  };

  const over = (record: LogRecord): LogRecord | null => {
    exceeded++;
    return drop ? null : record;
  };

  return {
    type: 'throttle',
    get exceeded() {
      return exceeded;
    },
    apply(record: LogRecord): LogRecord | null {
      // Milliseconds, whole: the plugin's float seconds without their rounding surprises.
      const now = Math.floor(ctx.now());
      const id = JSON.stringify(keys.map((k) => getField(record, k) ?? null));
      let g = groups.get(id);
      if (g === undefined) {
        if (groups.size >= MAX_GROUPS) forgetIdle(now);
        g = { rateCount: 0, rateLastReset: now, approxRate: 0, bucketCount: 0, bucketLastReset: now };
        groups.set(id, g);
      }
      g.rateCount++;
      const sinceRateReset = now - g.rateLastReset;
      if (sinceRateReset >= 1000) {
        g.approxRate = Math.round((g.rateCount * 1000) / sinceRateReset);
        g.rateCount = 0;
        g.rateLastReset = now;
      }
      if (Math.floor(now / periodMs) > Math.floor(g.bucketLastReset / periodMs)) {
        // A new period: wait until the rate is back down, when enabled.
        if (g.bucketCount === -1 && resetRate !== -1 && g.approxRate >= resetRate) return over(record);
        g.bucketCount = 0;
        g.bucketLastReset = now;
      } else if (g.bucketCount === -1) {
        return over(record);
      }
      g.bucketCount++;
      if (g.bucketCount > limit) {
        g.bucketCount = -1;
        return over(record);
      }
      return record;
    },
  };
};

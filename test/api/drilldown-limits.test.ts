/**
 * drilldown-limits' retention fields as Loki's validation.Limits marshals them: the global period as
 * a Prometheus duration, and `retention_stream` as StreamRetention's `{period, priority, selector}`
 * (null when there are no rules, as Go writes a nil slice).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { drilldownLimits } from '../../src/api/loki/drilldown-limits.js';
import { parseRetentionPolicy } from '../../src/lifecycle/retention-rules.js';

const base = {
  maxEntriesLimit: 5000,
  queryTimeoutMs: 60_000,
  metricLimits: { maxQueryLength: 0n, maxQueryRange: 0n, maxSeries: 500 },
} as unknown as Parameters<typeof drilldownLimits>[0];

describe('drilldown-limits retention', () => {
  test('no rules: retention_stream is null', () => {
    const out = drilldownLimits(base);
    assert.equal(out.limits.retention_period, '0s');
    assert.equal(out.limits.retention_stream, null);
  });

  test('configured rules are reported with their selector, period and priority', () => {
    const policy = parseRetentionPolicy({
      retention: '30d',
      retentionStream: [
        { selector: '{kind="auditevent"}', period: '1y', priority: 1 },
        { selector: '{namespace="dev"}', period: '24h' },
      ],
    });
    const out = drilldownLimits({
      ...base,
      ...(policy.period === undefined ? {} : { retention: policy.period }),
      retentionStreams: policy.rules,
    });
    assert.equal(out.limits.retention_period, '30d');
    assert.deepEqual(out.limits.retention_stream, [
      { period: '1y', priority: 1, selector: '{kind="auditevent"}' },
      { period: '1d', priority: 0, selector: '{namespace="dev"}' },
    ]);
  });
});

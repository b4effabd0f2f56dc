/**
 * @module GET /loki/api/v1/drilldown-limits: the tenant limits Grafana's Logs Drilldown reads on
 * start (max_query_length for the time picker, max_entries_limit_per_query for its line limit,
 * pattern_ingester_enabled for the Patterns tab, ...), in Loki's shape (pkg/loki
 * DrilldownConfigResponse, from tenantLimitsHandler): `{limits, pattern_ingester_enabled,
 * version}`, `limits` holding the fields of Loki's default `tenant_limits_allow_publish` list,
 * named and encoded as Loki's validation.Limits marshals them to JSON (durations as Prometheus
 * durations: `30d1h`, `0s`).
 *
 * The values are kjournal's own, the same for every tenant: what it enforces (entries limit,
 * query length and range, series, query timeout, retention and per-stream retention), and what it does not do reported as
 * off (service name and level discovery at ingestion, metric aggregation, pattern persistence).
 * Patterns are always answered (mined at query time), so the pattern ingester counts as enabled.
 */

import { formatPromDuration } from '../../go/duration.js';
import type { RetentionRule } from '../../lifecycle/retention-rules.js';
import type { MetricLimits } from '../../query/metric/index.js';
import type { Handler } from '../http/router.js';
import { goJson } from './go-json.js';
import { LOKI_COMPATIBLE_VERSION } from './metadata.js';

export interface DrilldownLimitsOptions {
  readonly maxEntriesLimit: number;
  readonly queryTimeoutMs: number;
  readonly metricLimits: MetricLimits;
  /** The retention period, nanoseconds; undefined keeps everything (Loki's `0s`). */
  readonly retention?: bigint;
  /** Per-stream retention rules (Loki's `retention_stream`). */
  readonly retentionStreams?: readonly RetentionRule[];
}

const MS = 1_000_000n;

/** Loki's default `log_level_fields` (pkg/validation/limits.go). */
const LOG_LEVEL_FIELDS = ['level', 'LEVEL', 'Level', 'Severity', 'severity', 'SEVERITY', 'lvl', 'LVL', 'Lvl'];

export function drilldownLimits(opts: DrilldownLimitsOptions) {
  return {
    limits: {
      discover_log_levels: false,
      discover_service_name: [],
      log_level_fields: LOG_LEVEL_FIELDS,
      max_entries_limit_per_query: opts.maxEntriesLimit,
      max_line_size_truncate: false,
      max_query_bytes_read: '0B',
      max_query_length: formatPromDuration(opts.metricLimits.maxQueryLength),
      max_query_lookback: '0s',
      max_query_range: formatPromDuration(opts.metricLimits.maxQueryRange),
      max_query_series: opts.metricLimits.maxSeries,
      metric_aggregation_enabled: false,
      // Loki's default OTLP config, marshalled by its Go field names (the struct has no JSON tags).
      otlp_config: {
        ResourceAttributes: { IgnoreDefaults: false, AttributesConfig: null },
        ScopeAttributes: null,
        LogAttributes: null,
        SeverityTextAsLabel: false,
      },
      pattern_persistence_enabled: false,
      query_timeout: formatPromDuration(BigInt(opts.queryTimeoutMs) * MS),
      retention_period: formatPromDuration(opts.retention ?? 0n),
      // Loki's StreamRetention marshals period, priority, selector; an empty list is Go's nil.
      retention_stream:
        opts.retentionStreams && opts.retentionStreams.length > 0
          ? opts.retentionStreams.map((r) => ({
              period: formatPromDuration(r.period),
              priority: r.priority,
              selector: r.selector ?? '',
            }))
          : null,
      volume_enabled: true,
      volume_max_series: 1000,
    },
    pattern_ingester_enabled: true,
    version: LOKI_COMPATIBLE_VERSION,
  };
}

export function drilldownLimitsHandler(opts: DrilldownLimitsOptions): Handler {
  const body = drilldownLimits(opts);
  // Loki writes it with encoding/json's Encoder.
  return async () => goJson(200, body);
}

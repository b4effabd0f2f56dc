/**
 * @module The server's Prometheus metrics (prom-client), served at GET /metrics. Names follow
 * Prometheus' conventions (base units as suffixes, `_total` on counters, labels of bounded
 * values); README "Metrics" lists them all.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type ReceiverCounters, receiverCounters } from '../api/receivers/metrics.js';
import type { TailHub } from '../journal/tail-hub.js';
import type { QueryAdmission } from '../query/admission.js';
import type { Store } from '../store/store.js';
import { registerBuildInfo } from '../util/version.js';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly ingestedLines: Counter<'tenant'>;
  readonly ingestedBytes: Counter<'tenant'>;
  readonly rejectedRequests: Counter<'reason'>;
  readonly pushRequests: Counter<'format'>;
  readonly discardedLines: Counter<'reason'>;
  readonly queryDuration: Histogram<'endpoint'>;
  readonly consumerDropped: Counter<'api'>;
  readonly consumersTooSlow: Counter<'api'>;
  /** The receivers of other collectors' protocols (api/receivers/intake.ts). */
  readonly receivers: ReceiverCounters;
  readonly httpRequests: Counter<'route' | 'method' | 'code'>;
  readonly httpDuration: Histogram<'route' | 'method'>;
  /**
   * The children of the HTTP metrics by route, then method (then code), made once per tuple: a
   * request costs three map lookups by strings V8 has hashed already (the route table's own
   * labels) and builds no label object. prom-client still hashes the labels on each inc and
   * observe: about 1.5 µs of the 2 µs a request costs here.
   */
  private readonly httpChildren = new Map<string, Map<string, HttpChildren>>();
  constructor(store: Store) {
    collectDefaultMetrics({ register: this.registry, prefix: 'kjournal_' });
    const registers = [this.registry];
    this.ingestedLines = new Counter({
      name: 'kjournal_ingested_lines_total',
      help: 'Log lines accepted and stored.',
      labelNames: ['tenant'],
      registers,
    });
    this.ingestedBytes = new Counter({
      name: 'kjournal_ingested_bytes_total',
      help: 'Bytes of log lines accepted and stored.',
      labelNames: ['tenant'],
      registers,
    });
    this.rejectedRequests = new Counter({
      name: 'kjournal_rejected_requests_total',
      help: 'Write requests answered with an error, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.pushRequests = new Counter({
      name: 'kjournal_push_requests_total',
      help: 'Push requests decoded, by wire format (json, protobuf).',
      labelNames: ['format'],
      registers,
    });
    this.discardedLines = new Counter({
      name: 'kjournal_discarded_lines_total',
      help: 'Lines refused by validation, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.queryDuration = new Histogram({
      name: 'kjournal_query_duration_seconds',
      help: 'Time to answer a query, by endpoint.',
      labelNames: ['endpoint'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.consumerDropped = new Counter({
      name: 'kjournal_live_consumer_dropped_entries_total',
      help: 'Entries a live tail dropped (and reported in dropped_entries) because its client read too slowly.',
      labelNames: ['api'],
      registers,
    });
    this.consumersTooSlow = new Counter({
      name: 'kjournal_live_consumers_closed_total',
      help: 'Tails and watches closed because their client fell further behind than its buffer.',
      labelNames: ['api'],
      registers,
    });
    // One pair of counters for every receiver, HTTP or not (api/receivers/metrics.ts).
    this.receivers = receiverCounters(this.registry);
    // Loki's loki_request_duration_seconds{method,route,status_code,ws} as a counter with the
    // status and a histogram without it (the counter gives rates by code; the histogram's series
    // stay few). `route` is the route table's name, `other` for paths no route serves.
    this.httpRequests = new Counter({
      name: 'kjournal_http_requests_total',
      help: 'HTTP requests answered, by route (the route table\'s name, "other" for none), method and status code; WebSocket upgrades handed to the tail count as 101.',
      labelNames: ['route', 'method', 'code'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'kjournal_http_request_duration_seconds',
      help: "Time from a request's arrival to its reply (its headers, for a streamed body), by route and method.",
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    registerBuildInfo(this.registry);
    new Gauge({
      name: 'kjournal_store_disk_bytes',
      help: 'Bytes the store occupies on disk, write-ahead log included.',
      registers,
      async collect() {
        this.set((await store.stats()).diskBytes);
      },
    });
    new Gauge({
      name: 'kjournal_store_pending_bytes',
      help: 'Bytes acknowledged but not yet in long-term form (write-ahead log awaiting conversion).',
      registers,
      async collect() {
        this.set((await store.stats()).pendingBytes);
      },
    });
    new Gauge({
      name: 'kjournal_store_damaged_files',
      help: 'Stored files known to be damaged and still in place: reads that need them fail (see kjournal check).',
      registers,
      async collect() {
        this.set((await store.stats()).damagedFiles ?? 0);
      },
    });
    new Gauge({
      name: 'kjournal_store_quarantined_files',
      help: 'Files the store moved to its quarantine directory since it started (damaged log records, unconvertible log segments).',
      registers,
      async collect() {
        this.set((await store.stats()).quarantinedFiles ?? 0);
      },
    });
    new Gauge({
      name: 'kjournal_store_streams',
      help: 'Streams known to the store.',
      registers,
      async collect() {
        this.set((await store.stats()).streams);
      },
    });
  }

  /** Counts one answered HTTP request (api/http/dispatch.ts RequestObserver). */
  observeRequest(route: string, method: string, code: number, seconds: number): void {
    let byMethod = this.httpChildren.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.httpChildren.set(route, byMethod);
    }
    let children = byMethod.get(method);
    if (children === undefined) {
      const m = KNOWN_METHODS.has(method) ? method : 'other';
      children = { duration: this.httpDuration.labels(route, m), method: m, codes: new Map() };
      byMethod.set(method, children);
    }
    children.duration.observe(seconds);
    let count = children.codes.get(code);
    if (count === undefined) {
      count = this.httpRequests.labels(route, children.method, String(code));
      children.codes.set(code, count);
    }
    count.inc();
  }

  /** Gauges of live consumers and of query admission, read when /metrics is scraped. */
  observe(hub: TailHub, admission: QueryAdmission): void {
    const registers = [this.registry];
    new Gauge({
      name: 'kjournal_live_consumers',
      help: 'Open tails and watches subscribed to new entries.',
      registers,
      collect() {
        this.set(hub.size);
      },
    });
    new Gauge({
      name: 'kjournal_queries_running',
      help: 'Queries running now (at most --max-concurrent-queries).',
      registers,
      collect() {
        this.set(admission.running);
      },
    });
    new Gauge({
      name: 'kjournal_queries_queued',
      help: 'Queries waiting for a slot.',
      registers,
      collect() {
        this.set(admission.queued);
      },
    });
    new Counter({
      name: 'kjournal_queries_refused_total',
      help: 'Queries answered 429: the queue of their tenant was full, or their deadline passed in it.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        this.inc({ reason: 'queue_full' }, admission.rejected);
        this.inc({ reason: 'queued_too_long' }, admission.expired);
      },
    });
  }
}

interface HttpChildren {
  readonly duration: Histogram.Internal<'route' | 'method'>;
  /** The method's label: itself, or `other`. */
  readonly method: string;
  readonly codes: Map<number, Counter.Internal>;
}

/** HTTP's methods (RFC 9110, PATCH): any other is counted as `other`, so the label stays bounded. */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

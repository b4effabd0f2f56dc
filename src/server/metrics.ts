/**
 * @module The server's Prometheus metrics (prom-client), served at GET /metrics.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../store/store.js';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly ingestedLines: Counter<'tenant'>;
  readonly ingestedBytes: Counter<'tenant'>;
  readonly rejectedRequests: Counter<'reason'>;
  readonly pushRequests: Counter<'format'>;
  readonly discardedLines: Counter<'reason'>;
  readonly queryDuration: Histogram<'endpoint'>;

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
}

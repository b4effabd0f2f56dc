/**
 * @module The HTTP receivers of other collectors' protocols on the server's one port (issue 17):
 * OTLP/HTTP logs (api/otlp), Elasticsearch bulk and its probes (api/elasticsearch), and systemd's
 * journal upload (api/journal-upload). Each writes through the journal as the Loki push does, with
 * the push's limits and body limit, and counts records and bytes per protocol (journal/intake.ts).
 */

import { registerElasticsearchApi } from '../api/elasticsearch/routes.js';
import type { Router } from '../api/http/router.js';
import { registerJournalUploadApi } from '../api/journal-upload/routes.js';
import { registerOtlpApi } from '../api/otlp/routes.js';
import { DEFAULT_MAX_PUSH_ENTRIES, type PushLimits } from '../formats/loki-push/index.js';
import type { ReceiverMetrics } from '../journal/intake.js';
import type { Journal } from '../journal/journal.js';

export interface HttpReceiversOptions {
  readonly journal: Pick<Journal, 'write' | 'admitWrite'>;
  readonly metrics: ReceiverMetrics;
  readonly limits: PushLimits;
  readonly maxBodyBytes: number;
  /** Records one request may carry; the push's default (100,000) when absent. */
  readonly maxRecords?: number;
  /** kjournal's version (the Elasticsearch root document's build). */
  readonly version: string;
}

export function registerHttpReceivers(router: Router, o: HttpReceiversOptions): void {
  const common = {
    journal: o.journal,
    metrics: o.metrics,
    limits: o.limits,
    maxBodyBytes: o.maxBodyBytes,
    maxRecords: o.maxRecords ?? DEFAULT_MAX_PUSH_ENTRIES,
  };
  registerOtlpApi(router, common);
  registerElasticsearchApi(router, { ...common, version: o.version });
  registerJournalUploadApi(router, common);
}

/**
 * @module The routes of what Kubernetes itself sends (api/ingest/kube-objects.ts): POST
 * /ingest/audit (with the audit policy) and /ingest/events, through the journal, refused on a full
 * disk before they are read. Errors are answered as the Loki API answers them.
 */
import type { AuditPolicy } from '../../audit/policy/index.js';
import type { Journal } from '../../journal/journal.js';
import type { Router } from '../http/router.js';
import { guardWrites } from '../http/write-guard.js';
import { lokiErrorReply } from '../loki/errors.js';
import { auditIngestHandler, eventsIngestHandler, type KubeIngestOptions } from './kube-objects.js';

export interface IngestApiOptions extends KubeIngestOptions {
  readonly journal: Pick<Journal, 'write' | 'admitWrite'>;
  /** Applied to what arrives at /ingest/audit: a policy, or null for none (every event kept). */
  readonly auditPolicy: AuditPolicy | null;
  /** Told of a write refused on a full disk (the server's rejected-requests metric). */
  readonly onWriteRefused?: () => void;
}

export function registerIngestApi(router: Router, o: IngestApiOptions): void {
  const { auditPolicy, onWriteRefused, ...opts } = o;
  // The ingest endpoints check times with the push API's limits (model/validate-time.ts).
  const guarded = (h: Parameters<typeof guardWrites>[0]) => guardWrites(h, o.journal, onWriteRefused);
  router
    .add(['POST'], '/ingest/audit', guarded(auditIngestHandler(opts, auditPolicy)), lokiErrorReply)
    .add(['POST'], '/ingest/events', guarded(eventsIngestHandler(opts)), lokiErrorReply);
}

/**
 * @module The server's one way in for records, whatever API brought them: the audit policy (for the
 * audit intake), the pipeline's flows (what goes to other outputs is queued there; what goes to
 * `journal` comes back), then the store (durable before this resolves), the live tails and the
 * ingest metrics. The Loki push API uses the flows but not the audit policy: a Loki push stores
 * what the client sent, as Loki does.
 */
import { HttpError } from '../api/http/errors.js';
import type { LogRecord } from '../model/record.js';
import type { Pipeline } from '../pipeline/runtime.js';
import type { ServerMetrics } from '../server/metrics.js';
import { InvalidEntryError, type Store } from '../store/store.js';
import { isNoSpaceError } from '../util/disk-space.js';
import { DiskFullError } from './disk-full.js';
import type { TailHub } from './tail-hub.js';

export interface IngestDeps {
  readonly store: Store;
  readonly tailHub: TailHub;
  readonly metrics: ServerMetrics;
  readonly pipeline?: Pipeline;
}

export interface Ingested {
  /** Records stored locally (after the policy and the flows), duplicates not counted. */
  readonly stored: number;
  /** Records equal to ones already stored (stream, time and line): acknowledged, not stored again. */
  readonly duplicates: number;
  readonly firstSeq?: bigint;
}

/** Runs the flows (if any) over `records`: what the local store keeps. */
export function routeRecords(deps: IngestDeps, records: LogRecord[]): LogRecord[] {
  return deps.pipeline ? deps.pipeline.process(records) : records;
}

/**
 * Stores records durably and publishes them to live tails; a record the store refuses is a 400, a
 * full disk a DiskFullError (507).
 */
export async function storeRecords(
  deps: IngestDeps,
  tenant: string,
  records: LogRecord[],
  /** The records' body bytes, when the caller has counted them already. */
  knownBytes?: number,
): Promise<Ingested> {
  if (records.length === 0) return { stored: 0, duplicates: 0 };
  let appended: Awaited<ReturnType<Store['append']>>;
  try {
    appended = await deps.store.append(tenant, records);
  } catch (err) {
    if (err instanceof InvalidEntryError) throw new HttpError(400, err.message, { cause: err });
    // The log cut itself back to what was acknowledged: nothing of this append was stored.
    if (isNoSpaceError(err)) {
      throw new DiskFullError('insufficient storage: the data volume is full (ENOSPC); nothing was stored', {
        cause: err,
      });
    }
    throw err;
  }
  const stored = appended?.stored ?? records;
  const duplicates = appended?.duplicates ?? 0;
  deps.tailHub.publish(tenant, stored, appended?.firstSeq);
  let bytes = duplicates === 0 ? (knownBytes ?? -1) : -1;
  if (bytes < 0) {
    bytes = 0;
    for (const r of stored) bytes += Buffer.byteLength(r.body);
  }
  deps.metrics.ingestedLines.inc({ tenant }, stored.length);
  deps.metrics.ingestedBytes.inc({ tenant }, bytes);
  if (duplicates > 0) deps.metrics.discardedLines.inc({ reason: 'duplicate' }, duplicates);
  return {
    stored: stored.length,
    duplicates,
    ...(appended?.firstSeq !== undefined ? { firstSeq: appended.firstSeq } : {}),
  };
}

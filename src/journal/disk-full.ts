/**
 * @module The journal's writes on a full disk. While free space on the data directory's volume is
 * under `--min-free-disk` (util/disk-space.ts: Elasticsearch's flood-stage watermark is the
 * reference), the write endpoints (Loki push, /ingest/audit, /ingest/events) answer
 * 507 Insufficient Storage (RFC 4918) with Retry-After before reading the body, so that the
 * write-ahead log's conversion and compaction keep the headroom they need; reads go on. A write that
 * still meets ENOSPC in the store (the log cuts itself back to what was acknowledged and rejects)
 * answers the same. Both resume by themselves once a sample finds room again: nothing acknowledged is
 * lost, and nothing refused was acknowledged.
 *
 * 507 rather than Elasticsearch's 429: a 429 reads as "too fast" (Loki's rate limits), while this is
 * about space; Loki's clients (Promtail, Alloy, the kjournal agent) retry every 5xx as they retry 429.
 */
import { type DiskSpaceWatch, formatBytes } from '../util/disk-space.js';

/**
 * What a refused write is told to wait. Space comes back when someone deletes data or grows the
 * volume, not within a second; the guard itself notices room within its 1s sample.
 */
export const DISK_FULL_RETRY_AFTER_S = 10;

/** A write refused because the data volume is (nearly) full. Answered 507 with Retry-After. */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
  readonly code = 'DISK_FULL';
  readonly retryAfterSeconds = DISK_FULL_RETRY_AFTER_S;
}

/** The refusal for the watch's current state. */
export function diskFullError(disk: DiskSpaceWatch): DiskFullError {
  const what = disk.metNoSpace
    ? 'the data volume is full (a write met ENOSPC)'
    : `free space on the data volume (${formatBytes(disk.free)}) is under --min-free-disk (${formatBytes(disk.threshold)})`;
  return new DiskFullError(
    `insufficient storage: ${what}; writes are paused until space is freed, nothing was stored`,
  );
}

/**
 * @module The server's writes on a full disk. While free space on the data directory's volume is
 * under `--min-free-disk` (disk/disk-space.ts: Elasticsearch's flood-stage watermark is the
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
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { Handler } from '../api/http/router.js';
import { type DiskSpaceWatch, formatBytes } from '../disk/disk-space.js';

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

/**
 * `handler` refused at once while `disk` is low (`onRefused` counts it); a DiskFullError from the
 * store path (ENOSPC) marks the watch low, so that the next writes are refused before they reach the
 * store.
 */
export function guardWrites(handler: Handler, disk: DiskSpaceWatch, onRefused?: () => void): Handler {
  return async (ctx) => {
    if (disk.low) {
      onRefused?.();
      throw diskFullError(disk);
    }
    try {
      return await handler(ctx);
    } catch (err) {
      if (err instanceof DiskFullError) disk.noteNoSpace();
      throw err;
    }
  };
}

/** kjournal_disk_free_bytes, kjournal_disk_min_free_bytes and kjournal_disk_writes_paused. */
export function registerDiskMetrics(registry: Registry, disk: DiskSpaceWatch): void {
  const registers = [registry];
  new Gauge({
    name: 'kjournal_disk_free_bytes',
    help: 'Free bytes on the data directory’s volume (sampled every second).',
    registers,
    collect() {
      this.set(disk.free);
    },
  });
  new Gauge({
    name: 'kjournal_disk_min_free_bytes',
    help: 'The --min-free-disk watermark in bytes: under it, writes answer 507.',
    registers,
    collect() {
      this.set(disk.threshold);
    },
  });
  new Gauge({
    name: 'kjournal_disk_writes_paused',
    help: '1 while writes answer 507 for lack of disk space (under the watermark, or after ENOSPC).',
    registers,
    collect() {
      this.set(disk.low ? 1 : 0);
    },
  });
}

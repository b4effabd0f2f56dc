/**
 * @module Free space on the volume of a directory, watched against a low watermark: what the server
 * (for its data directory) and the agent (for its state directory) check before they write, so that
 * they stop taking new data before the disk is full rather than when a write fails.
 *
 * The reference is Elasticsearch's flood-stage disk watermark: past it, indices stop taking writes
 * (429) until usage falls again, and the block is released by itself. Its default is 95% used with
 * at most 100GB of headroom (`cluster.routing.allocation.disk.watermark.flood_stage` and
 * `.flood_stage.max_headroom`): whichever leaves less free space. kjournal's default has the same
 * shape with a smaller cap, 5% of the volume or 1GiB, whichever is smaller: the write-ahead log's
 * conversion writes Parquet parts about a tenth of the log they replace, and compaction rewrites at
 * most 16MiB parts at a time, so a gigabyte is ample headroom, and 5% keeps a small volume usable.
 *
 * Elasticsearch samples disk usage every 30s (`cluster.info.update.interval`); statfs costs a few
 * microseconds, so this samples once a second on a timer (never per request). A write that still
 * meets ENOSPC (another process filled the disk between samples, or the watermark is 0) counts as
 * low at once, until a sample finds at least `max(watermark, 1MiB)` free again.
 */
import { statfs } from 'node:fs/promises';
import { sizeOrZero } from '../util/size.js';

/** The low watermark: free space under the smaller of `bytes` and `percent` of the volume. */
export interface DiskWatermark {
  readonly bytes?: number;
  readonly percent?: number;
}

/** 1GiB or 5% of the volume, whichever is smaller (see the module comment). */
export const DEFAULT_MIN_FREE: DiskWatermark = { bytes: 1024 ** 3, percent: 5 };

/** After an ENOSPC, writes resume only once at least this much is free (and the watermark). */
const RESUME_AFTER_NO_SPACE_BYTES = 1 << 20;
const DEFAULT_INTERVAL_MS = 1000;

/** A write refused for lack of space: ENOSPC, or EDQUOT (a quota, the same to the writer). */
export function isNoSpaceError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * `--min-free-disk`: a size (`2GiB`, `0` for none) or a percentage of the volume (`5%`); undefined
 * when `value` is neither.
 */
export function parseMinFree(value: string): DiskWatermark | undefined {
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(value.trim());
  if (pct) {
    const percent = Number(pct[1]);
    return percent <= 100 ? { percent } : undefined;
  }
  const bytes = sizeOrZero(value);
  return bytes === undefined ? undefined : { bytes };
}

/** The watermark in bytes on a volume of `totalBytes`. */
export function watermarkBytes(w: DiskWatermark, totalBytes: number): number {
  const byPercent = w.percent === undefined ? Number.POSITIVE_INFINITY : (totalBytes * w.percent) / 100;
  const bytes = Math.min(w.bytes ?? Number.POSITIVE_INFINITY, byPercent);
  return Number.isFinite(bytes) ? Math.floor(bytes) : 0;
}

export interface DiskSample {
  /** Bytes an unprivileged writer may still use (statfs f_bavail, as Java's getUsableSpace). */
  readonly free: number;
  readonly total: number;
}

/** statfs(2) of `dir`. */
export async function sampleDisk(dir: string): Promise<DiskSample> {
  const s = await statfs(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

export interface DiskSpaceWatchOptions {
  /** A directory on the volume watched. */
  readonly dir: string;
  readonly minFree: DiskWatermark;
  /** How often free space is sampled (default 1s). */
  readonly intervalMs?: number;
  /** Called when the watch goes low (true) or has room again (false). */
  readonly onChange?: (low: boolean, watch: DiskSpaceWatch) => void;
  /** A failed sample (the last one stays in force). */
  readonly onError?: (err: unknown) => void;
  /** For tests: replaces statfs. */
  readonly sample?: (dir: string) => Promise<DiskSample>;
}

export class DiskSpaceWatch {
  private last: DiskSample = { free: Number.POSITIVE_INFINITY, total: 0 };
  private noSpace = false;
  /** When the last ENOSPC was noted: only a sample begun after it may end the pause. */
  private noSpaceAt = 0;
  private isLow = false;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  private readonly sample: (dir: string) => Promise<DiskSample>;

  constructor(private readonly o: DiskSpaceWatchOptions) {
    this.sample = o.sample ?? sampleDisk;
  }

  /** Takes the first sample (its failure is the caller's), then samples on a timer. */
  async start(): Promise<void> {
    this.last = await this.sample(this.o.dir);
    this.update(performance.now());
    this.timer ??= setInterval(() => {
      this.refresh().catch((err: unknown) => this.o.onError?.(err));
    }, this.o.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Samples now (one sample at a time). */
  refresh(): Promise<void> {
    this.sampling ??= (async () => {
      try {
        const at = performance.now();
        this.last = await this.sample(this.o.dir);
        this.update(at);
      } finally {
        this.sampling = undefined;
      }
    })();
    return this.sampling;
  }

  /** Free bytes at the last sample. */
  get free(): number {
    return this.last.free;
  }

  /** The volume's size at the last sample. */
  get total(): number {
    return this.last.total;
  }

  /** The watermark in bytes on this volume. */
  get threshold(): number {
    return watermarkBytes(this.o.minFree, this.last.total);
  }

  /** Free space is under the watermark, or a write met ENOSPC since the last sample with room. */
  get low(): boolean {
    return this.isLow;
  }

  /** Low because a write met ENOSPC (not only because of the watermark). */
  get metNoSpace(): boolean {
    return this.noSpace;
  }

  /** A write failed with ENOSPC: low at once, until a sample finds room. */
  noteNoSpace(): void {
    this.noSpace = true;
    this.noSpaceAt = performance.now();
    this.update();
  }

  /** Resolves once the watch is not low (at once if it is not), or when `signal` aborts. */
  waitForRoom(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.isLow || signal?.aborted) return resolve();
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Re-evaluates `low`; `sampledAt`: when the sample just taken began (none: no new sample). */
  private update(sampledAt?: number): void {
    const threshold = this.threshold;
    if (
      this.noSpace &&
      sampledAt !== undefined &&
      sampledAt > this.noSpaceAt &&
      this.last.free >= Math.max(threshold, RESUME_AFTER_NO_SPACE_BYTES)
    ) {
      this.noSpace = false;
    }
    const low = this.noSpace || this.last.free < threshold;
    if (low === this.isLow) return;
    this.isLow = low;
    this.o.onChange?.(low, this);
    if (!low) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }
}

/** Bytes as people read them: `512.0MiB`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v.toFixed(1)}${units[i]}`;
}

/** The watermark as the README and `--help` say it: `1GiB or 5% of the volume, whichever is smaller`. */
export function describeWatermark(w: DiskWatermark): string {
  const parts = [
    ...(w.bytes !== undefined ? [formatBytes(w.bytes)] : []),
    ...(w.percent !== undefined ? [`${w.percent}% of the volume`] : []),
  ];
  return parts.length === 2 ? `${parts.join(' or ')}, whichever is smaller` : (parts[0] ?? 'none');
}

/**
 * @module The write-ahead log: segments of text lines, appended with group commit (one write and one
 * fdatasync for every append waiting at that moment). An append resolves only after its fdatasync,
 * so an acknowledged push survives `kill -9` (and power loss, on a disk that honours fsync).
 *
 * Segments are written in a form DuckDB reads directly (delimited text, encode.ts), so a sealed
 * segment is queryable at once and is later converted, in bulk, to Parquet parts.
 *
 * One loop does every write and every seal, in order: a seal waits for at most the batch being
 * written, never for a stream of pushes, and a written segment is at every moment either the
 * active one or in the sealed list. After a failed write or sync the segment is cut back to what
 * was acknowledged and sealed; nothing unacknowledged stays readable.
 */

import type { FileHandle } from 'node:fs/promises';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, mkdirDurable, writeFileAtomic, writeFully } from '../../../disk/fsync.js';
import { goodBytesOf, scanSegment } from './verify.js';

/** The times one append holds for one tenant (what conversion splits by: tenant and day). */
export interface WalSpan {
  readonly tenant: number;
  readonly min: bigint;
  readonly max: bigint;
  /** The greatest sequence number of the append. */
  readonly maxN: number;
}

/** Per tenant index, the least and greatest time a segment holds. */
export type SegmentSpans = ReadonlyMap<number, { readonly min: bigint; readonly max: bigint }>;

/** Widens the span of `tenant` in `spans` to take in [min, max]. */
export function widenSpan(
  spans: Map<number, { min: bigint; max: bigint }>,
  tenant: number,
  min: bigint,
  max: bigint,
): void {
  const have = spans.get(tenant);
  if (!have) spans.set(tenant, { min, max });
  else {
    if (min < have.min) have.min = min;
    if (max > have.max) have.max = max;
  }
}

export interface Segment {
  readonly seq: number;
  readonly path: string;
  readonly bytes: number;
  /** What the segment holds (not known for segments found at startup). */
  readonly spans?: SegmentSpans;
  /**
   * The greatest sequence number in the segment, where known without reading it through DuckDB:
   * from its trailers at replay, from its appends while written. Undefined for older formats.
   */
  readonly maxN?: number;
}

/**
 * `.wal2` segments have a checksum per record (encode.ts); `.wal` ones (the same lines without
 * trailers) and `.ndjson` ones are from before, and are still read, unchecked.
 */
const SEGMENT_NAME = /^(\d{12})\.(wal2|wal|ndjson)$/;

function segmentName(seq: number): string {
  return `${String(seq).padStart(12, '0')}.wal2`;
}

/** The sequence numbers of the segments in `dir`, ascending. */
export async function segmentSeqsOnDisk(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .map((n) => SEGMENT_NAME.exec(n))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** What replay found wrong with a segment, and what it did about it. */
export interface WalProblem {
  readonly segment: string;
  readonly kind: 'torn' | 'damaged';
  /** Bytes dropped (torn) or moved aside (damaged). */
  readonly bytes: number;
  readonly message: string;
}

interface Waiter {
  readonly text: Buffer;
  readonly span: WalSpan;
  resolve(): void;
  reject(err: unknown): void;
}

interface Active {
  readonly seq: number;
  readonly path: string;
  readonly fh: FileHandle;
  /** Bytes acknowledged: the file's valid length. */
  bytes: number;
  readonly createdMs: number;
  /** What the segment holds per tenant, as written. */
  readonly spans: Map<number, { min: bigint; max: bigint }>;
  maxN: number;
}

export interface WalOptions {
  /** Called inside each group commit before the segment write, e.g. to make new stream ids durable. */
  beforeWrite?: () => Promise<void>;
  now?: () => number;
  /** Where a damaged segment's original is moved at replay (its good records stay in the log). */
  quarantineDir?: string;
  /** Told of every torn or damaged segment found at replay. */
  onProblem?: (problem: WalProblem) => void;
}

export class WriteAheadLog {
  private active: Active | undefined;
  private readonly sealedSegments: Segment[] = [];
  private queue: Waiter[] = [];
  private sealWaiters: { resolve(): void; reject(err: unknown): void }[] = [];
  private running: Promise<void> | undefined;
  private nextSeq = 1;
  private appended = 0;
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    private readonly options: WalOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Opens the log. Every segment found on disk is sealed (it holds acknowledged or at least written
   * entries) and checked record by record (verify.ts): a torn last record, from a write that was
   * never acknowledged, is cut off; damaged records are taken out (the original is moved to the
   * quarantine directory) and reported, so that they are never served.
   * Segments with seq <= `convertedThrough` are already in the store's final form and are deleted.
   */
  async open(convertedThrough: number): Promise<void> {
    await mkdirDurable(this.dir);
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    for (const name of names) {
      const [, seqText, ext] = SEGMENT_NAME.exec(name)!;
      const seq = Number(seqText);
      const path = join(this.dir, name);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      if (seq <= convertedThrough) {
        await unlink(path);
        continue;
      }
      const checked =
        ext === 'wal2' ? await this.replaySegment(name, path) : { bytes: await cutTornTail(path) };
      if (checked.bytes === 0) {
        await unlink(path);
        continue;
      }
      this.sealedSegments.push({ seq, path, ...checked });
    }
    this.nextSeq = Math.max(this.nextSeq, convertedThrough + 1);
  }

  /** Checks a segment's records; keeps only the good ones. Returns its size and greatest n after. */
  private async replaySegment(name: string, path: string): Promise<{ bytes: number; maxN: number }> {
    const buf = await readFile(path);
    const scan = scanSegment(buf);
    if (scan.damaged.length > 0) {
      const bad = scan.damaged.reduce((n, d) => n + d.bytes, 0);
      const where = scan.damaged.map((d) => `${d.bytes} bytes at offset ${d.offset}`).join(', ');
      let message = `write-ahead log segment ${name}: ${scan.damaged.length} damaged region(s) (${where}) failed their checksum and are not served; ${scan.records} good record(s) kept`;
      if (this.options.quarantineDir) {
        await mkdirDurable(this.options.quarantineDir);
        const aside = join(this.options.quarantineDir, `${name}.${Date.now()}`);
        await rename(path, aside);
        await fsyncDir(this.dir);
        message += `; the original is in quarantine/${aside.split('/').pop()}`;
      }
      await writeFileAtomic(path, goodBytesOf(buf, scan));
      this.options.onProblem?.({ segment: name, kind: 'damaged', bytes: bad, message });
      return { bytes: scan.goodBytes, maxN: scan.maxN };
    }
    if (scan.tornBytes > 0) {
      const fh = await open(path, 'r+');
      try {
        await fh.truncate(scan.goodBytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.options.onProblem?.({
        segment: name,
        kind: 'torn',
        bytes: scan.tornBytes,
        message: `write-ahead log segment ${name}: dropped a torn last record of ${scan.tornBytes} bytes (a write cut short, never acknowledged)`,
      });
    }
    return { bytes: scan.goodBytes, maxN: scan.maxN };
  }

  /**
   * Appends whole lines (encode.ts); resolves once it is on disk. `span`, the tenant and times the
   * lines hold, tells readers whether the active segment may hold what they look for, and lets
   * conversion split a segment without reading it first.
   */
  append(text: Buffer, span: WalSpan): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ text, span, resolve, reject });
      this.run();
    });
  }

  /**
   * Seals the active segment after the batch being written (if any), so it can be read and
   * converted. Every append that resolved before this call is in a sealed segment afterwards.
   */
  seal(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.sealWaiters.push({ resolve, reject });
      this.run();
    });
  }

  private run(): void {
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0 || this.sealWaiters.length > 0) this.run();
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0 || this.sealWaiters.length > 0) {
      // Seal first: a seal request must not wait behind appends that came after it.
      if (this.sealWaiters.length > 0) {
        const waiters = this.sealWaiters;
        this.sealWaiters = [];
        try {
          await this.sealActive();
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
        continue;
      }
      const batch = this.queue;
      this.queue = [];
      try {
        await this.writeBatch(batch);
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
  }

  private async writeBatch(batch: readonly Waiter[]): Promise<void> {
    await this.options.beforeWrite?.();
    const seg = await this.ensureActive();
    const buf = batch.length === 1 ? batch[0]!.text : Buffer.concat(batch.map((w) => w.text));
    try {
      await writeFully(seg.fh, buf, seg.bytes);
      await seg.fh.datasync();
    } catch (err) {
      // What reached the file is unknown (after a failed fsync Linux may drop the pages): cut the
      // segment back to what was acknowledged and start a new one for the next batch.
      await seg.fh.truncate(seg.bytes).catch(() => undefined);
      await this.sealActive().catch(() => undefined);
      throw err;
    }
    seg.bytes += buf.length;
    this.appended += buf.length;
    for (const { span } of batch) {
      widenSpan(seg.spans, span.tenant, span.min, span.max);
      if (span.maxN > seg.maxN) seg.maxN = span.maxN;
    }
  }

  private async ensureActive(): Promise<Active> {
    if (this.active) return this.active;
    const seq = this.nextSeq++;
    const path = join(this.dir, segmentName(seq));
    const fh = await open(path, 'wx');
    await fsyncDir(this.dir);
    this.active = { seq, path, fh, bytes: 0, createdMs: this.now(), spans: new Map(), maxN: 0 };
    return this.active;
  }

  /** Moves the active segment to the sealed list (in one step, so no reader misses it) and closes it. */
  private async sealActive(): Promise<void> {
    const seg = this.active;
    if (!seg) return;
    this.active = undefined;
    if (seg.bytes > 0) {
      this.sealedSegments.push({
        seq: seg.seq,
        path: seg.path,
        bytes: seg.bytes,
        spans: seg.spans,
        maxN: seg.maxN,
      });
    }
    await seg.fh.close();
    if (seg.bytes === 0) await unlink(seg.path).catch(() => undefined);
  }

  /** The times the active segment holds for `tenant`, as written so far; undefined if none. */
  activeSpan(tenant: number): { readonly min: bigint; readonly max: bigint } | undefined {
    return this.active?.spans.get(tenant);
  }

  /** Bytes in the active segment, and when it was opened. */
  get activeInfo(): { bytes: number; createdMs: number } | undefined {
    return this.active && { bytes: this.active.bytes, createdMs: this.active.createdMs };
  }

  /** Sealed segments, oldest first. */
  get sealed(): readonly Segment[] {
    return this.sealedSegments;
  }

  /** Forgets segments through `seq` (converted); the caller deletes their files when no reader holds them. */
  release(throughSeq: number): Segment[] {
    const gone: Segment[] = [];
    while (this.sealedSegments.length > 0 && this.sealedSegments[0]!.seq <= throughSeq) {
      gone.push(this.sealedSegments.shift()!);
    }
    return gone;
  }

  /**
   * Takes a sealed segment out of the log (it could not be converted and was moved aside), or
   * records that its file was rewritten with fewer lines (`bytes` given). Readers that took a
   * snapshot before keep the file they opened.
   */
  replaceSealed(seq: number, bytes?: number): void {
    const i = this.sealedSegments.findIndex((s) => s.seq === seq);
    if (i < 0) return;
    if (bytes === undefined) this.sealedSegments.splice(i, 1);
    else this.sealedSegments[i] = { ...this.sealedSegments[i]!, bytes };
  }

  get bytes(): number {
    return this.sealedBytes + (this.active?.bytes ?? 0);
  }

  /** Bytes appended (acknowledged) since the log was opened. */
  get appendedBytes(): number {
    return this.appended;
  }

  /** Bytes in sealed segments. */
  get sealedBytes(): number {
    return this.sealedSegments.reduce((n, s) => n + s.bytes, 0);
  }

  async close(): Promise<void> {
    while (this.running) await this.running;
    await this.active?.fh.close();
    this.active = undefined;
  }
}

/** Truncates a segment after its last newline; returns the remaining size. */
async function cutTornTail(path: string): Promise<number> {
  const fh = await open(path, 'r+');
  try {
    const { size } = await fh.stat();
    if (size === 0) return 0;
    const chunk = Buffer.alloc(Math.min(size, 1 << 20));
    let end = size;
    // Walk back to the last '\n'. Lines are bounded by the push line limit, so this ends quickly.
    while (end > 0) {
      const from = Math.max(0, end - chunk.length);
      const { bytesRead } = await fh.read(chunk, 0, end - from, from);
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        const keep = from + nl + 1;
        if (keep < size) {
          await fh.truncate(keep);
          await fh.sync();
        }
        return keep;
      }
      end = from;
    }
    await fh.truncate(0);
    return 0;
  } finally {
    await fh.close();
  }
}

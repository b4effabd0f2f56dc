/**
 * @module The agent's bounded on-disk buffer: a FIFO of batches in segment files under
 * `<state-dir>/buffer/`, so that a server that is down for minutes loses nothing and the agent's
 * memory stays bounded (bodies live on disk; memory holds only a small index entry per batch).
 *
 * Each batch is one frame: `KJB1`, header length, body length, CRC-32 of header and body (all u32
 * big-endian), then the JSON header (id, source, positions, records) and the body (an uncompressed
 * protobuf PushRequest; several concatenated bodies are still one valid PushRequest). A frame is
 * fsynced before `append` resolves. Ids grow by one per batch, across restarts.
 *
 * Nothing is removed from the segments when the server acknowledges: the positions file records
 * the last acknowledged id (positions.ts) and `open` skips the frames up to it; a segment is
 * deleted once every frame in it is acknowledged. A torn frame at the end of the last segment (a
 * crash in the middle of `append`, which had not resolved) is cut off.
 *
 * `append` waits while the buffer holds `maxBytes` or more of unacknowledged frames (a single frame
 * larger than the limit is still taken when the buffer is empty, so nothing can block for ever).
 */
import { type FileHandle, open, readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDir, mkdirDurable, writeFully } from '../store/fsync.js';
import type { Positions } from './source.js';

const MAGIC = 0x4b4a4231; // "KJB1"
const PREFIX = 16;
const SEGMENT_RE = /^(\d{16})\.seg$/;

export interface BufferedBatch {
  readonly id: number;
  readonly source: string;
  readonly positions: Positions;
  readonly records: number;
  /** Size of the body (uncompressed protobuf). */
  readonly bodyBytes: number;
  /** Size of the whole frame on disk. */
  readonly frameBytes: number;
  /** When it was appended (ms since the epoch; 0 for batches found on disk at start). */
  readonly appendedAt: number;
  readonly segment: string;
  readonly offset: number;
}

interface Segment {
  readonly name: string;
  lastId: number;
  size: number;
}

export interface DiskBufferOptions {
  /** The directory of the segments (`<state-dir>/buffer`). */
  readonly dir: string;
  readonly maxBytes: number;
  /** A new segment starts once the current one reaches this size (default: maxBytes / 8, 1..64 MiB). */
  readonly segmentBytes?: number;
}

export class BufferClosedError extends Error {
  override readonly name = 'BufferClosedError';
}

export class DiskBuffer {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly entries: BufferedBatch[] = [];
  private readonly segments: Segment[] = [];
  private active: { seg: Segment; fh: FileHandle } | undefined;
  private lastId = 0;
  private pendingBytes = 0;
  private waiters: (() => void)[] = [];
  private closed = false;
  private appending: Promise<unknown> = Promise.resolve();
  /** Called when the buffer becomes full (true) or has room again (false). */
  onFullChange: ((full: boolean) => void) | undefined;
  private isFull = false;
  /** An append is writing to the active segment: it must not be closed under it. */
  private writing = false;

  constructor(options: DiskBufferOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes =
      options.segmentBytes ?? Math.min(64 << 20, Math.max(1 << 20, Math.floor(options.maxBytes / 8)));
  }

  /** Reads the segments, keeping the frames after `ackedBatch` (the positions file's). */
  async open(ackedBatch: number): Promise<void> {
    await mkdirDurable(this.dir);
    this.lastId = ackedBatch;
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const path = join(this.dir, name);
      const data = await readFile(path);
      const seg: Segment = { name, lastId: 0, size: 0 };
      let off = 0;
      while (off + PREFIX <= data.length) {
        const magic = data.readUInt32BE(off);
        const hlen = data.readUInt32BE(off + 4);
        const blen = data.readUInt32BE(off + 8);
        const crc = data.readUInt32BE(off + 12);
        const end = off + PREFIX + hlen + blen;
        if (magic !== MAGIC || end > data.length || crc32(data.subarray(off + PREFIX, end)) !== crc) break;
        const h = JSON.parse(data.subarray(off + PREFIX, off + PREFIX + hlen).toString('utf8')) as {
          id: number;
          source: string;
          positions: Positions;
          records: number;
        };
        seg.lastId = h.id;
        this.lastId = Math.max(this.lastId, h.id);
        if (h.id > ackedBatch) {
          this.entries.push({
            id: h.id,
            source: h.source,
            positions: h.positions,
            records: h.records,
            bodyBytes: blen,
            frameBytes: end - off,
            appendedAt: 0,
            segment: name,
            offset: off,
          });
          this.pendingBytes += end - off;
        }
        off = end;
      }
      if (off < data.length) {
        if (i !== names.length - 1) throw new Error(`${path}: corrupt frame at byte ${off}`);
        // A torn append: it never resolved, so its batch was never taken; cut it off.
        await truncate(path, off);
      }
      seg.size = off;
      this.segments.push(seg);
    }
    await this.dropAcked();
    this.setFull(this.pendingBytes >= this.maxBytes);
  }

  /** Unacknowledged batches, oldest first (do not mutate). */
  get pending(): readonly BufferedBatch[] {
    return this.entries;
  }

  /** Bytes of unacknowledged frames. */
  get bytes(): number {
    return this.pendingBytes;
  }

  get full(): boolean {
    return this.isFull;
  }

  /**
   * Appends one batch durably; waits first while the buffer is full. Rejects with BufferClosedError
   * if the buffer is closed meanwhile (the batch was then not taken).
   */
  append(source: string, positions: Positions, records: number, body: Uint8Array): Promise<BufferedBatch> {
    const run = this.appending.then(() => this.appendNow(source, positions, records, body));
    this.appending = run.catch(() => undefined);
    return run;
  }

  private async appendNow(
    source: string,
    positions: Positions,
    records: number,
    body: Uint8Array,
  ): Promise<BufferedBatch> {
    const id = this.lastId + 1;
    const header = Buffer.from(JSON.stringify({ id, source, positions, records }), 'utf8');
    const frameBytes = PREFIX + header.length + body.length;
    while (this.pendingBytes > 0 && this.pendingBytes + frameBytes > this.maxBytes) {
      if (this.closed) throw new BufferClosedError('the agent is stopping');
      this.setFull(true);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.closed) throw new BufferClosedError('the agent is stopping');
    const frame = Buffer.allocUnsafe(frameBytes);
    frame.writeUInt32BE(MAGIC, 0);
    frame.writeUInt32BE(header.length, 4);
    frame.writeUInt32BE(body.length, 8);
    header.copy(frame, PREFIX);
    frame.set(body, PREFIX + header.length);
    frame.writeUInt32BE(crc32(frame.subarray(PREFIX)), 12);
    this.writing = true;
    let a: { seg: Segment; fh: FileHandle };
    let offset: number;
    try {
      a = await this.activeSegment(id);
      offset = a.seg.size;
      await writeFully(a.fh, frame, offset);
      await a.fh.sync();
    } finally {
      this.writing = false;
    }
    a.seg.size += frameBytes;
    a.seg.lastId = id;
    this.lastId = id;
    const entry: BufferedBatch = {
      id,
      source,
      positions,
      records,
      bodyBytes: body.length,
      frameBytes,
      appendedAt: Date.now(),
      segment: a.seg.name,
      offset,
    };
    this.entries.push(entry);
    this.pendingBytes += frameBytes;
    this.setFull(this.pendingBytes >= this.maxBytes);
    this.wake();
    return entry;
  }

  private async activeSegment(id: number): Promise<{ seg: Segment; fh: FileHandle }> {
    if (this.active && this.active.seg.size < this.segmentBytes) return this.active;
    if (this.active) await this.active.fh.close();
    const name = `${String(id).padStart(16, '0')}.seg`;
    const fh = await open(join(this.dir, name), 'w');
    await fsyncDir(this.dir);
    const seg: Segment = { name, lastId: id, size: 0 };
    this.segments.push(seg);
    this.active = { seg, fh };
    return this.active;
  }

  /** The body of a pending batch, read back from its segment. */
  async body(b: BufferedBatch): Promise<Buffer> {
    const fh = await open(join(this.dir, b.segment), 'r');
    try {
      const frame = Buffer.allocUnsafe(b.frameBytes);
      const { bytesRead } = await fh.read(frame, 0, b.frameBytes, b.offset);
      if (bytesRead !== b.frameBytes) throw new Error(`${b.segment}: short read of batch ${b.id}`);
      return frame.subarray(b.frameBytes - b.bodyBytes);
    } finally {
      await fh.close();
    }
  }

  /**
   * Forgets the batches up to `id` once the positions file says they were acknowledged, and deletes
   * the segments that hold nothing else.
   */
  async release(id: number): Promise<void> {
    while (this.entries.length > 0 && this.entries[0]!.id <= id) {
      this.pendingBytes -= this.entries.shift()!.frameBytes;
    }
    this.setFull(this.pendingBytes >= this.maxBytes);
    this.wake();
    await this.dropAcked();
  }

  private async dropAcked(): Promise<void> {
    const firstPending = this.entries[0]?.id ?? this.lastId + 1;
    while (this.segments.length > 0 && this.segments[0]!.lastId < firstPending) {
      const seg = this.segments[0]!;
      if (this.active?.seg === seg) {
        // Only roll the active segment once the appends in flight are done with it.
        if (this.writing) break;
        // Detached first, synchronously, so that an append starting meanwhile opens a new segment.
        const fh = this.active.fh;
        this.active = undefined;
        await fh.close();
      }
      this.segments.shift();
      await unlink(join(this.dir, seg.name)).catch(() => undefined);
    }
  }

  /** Resolves when a batch is appended (or the buffer closes, or `signal` aborts). */
  waitForAppend(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.closed || signal?.aborted) return resolve();
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private setFull(full: boolean): void {
    if (full === this.isFull) return;
    this.isFull = full;
    this.onFullChange?.(full);
  }

  /** Rejects appends still waiting for room; closes the active segment. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.appending;
    if (this.active) {
      await this.active.fh.close();
      this.active = undefined;
    }
  }
}

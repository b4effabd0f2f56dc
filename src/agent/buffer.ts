/**
 * @module The agent's bounded on-disk buffer: a FIFO of batches in segment files under
 * `<state-dir>/buffer/`, so that a server that is down for minutes loses nothing and the agent's
 * memory stays bounded (bodies live on disk; memory holds only a small index entry per batch).
 *
 * Each batch is one frame: `KJB1`, header length, body length, CRC-32 of header and body (all u32
 * big-endian), then the JSON header (id, source, positions, records, and `z: "snappy"` when the body
 * is compressed) and the body (a protobuf PushRequest; uncompressed, several concatenated bodies are
 * still one valid PushRequest). The agent stores bodies snappy-compressed, as they are pushed, so a
 * batch pushed alone is sent as it lies in the buffer.
 *
 * A frame is written before `append` resolves, so it survives `kill -9` of the agent from then on.
 * It is fsynced in the background, one fsync for every frame written meanwhile, not in `append`:
 * with an fsync per frame the sources spent a third of their time waiting (bench, agent phase).
 * Power loss can thus take the frames of the last fsync or so; files and the journal are read again
 * from their saved positions (which advance only once the server acknowledged), so only what
 * syslog and events sent in that window is at risk. Ids grow by one per batch, across restarts.
 *
 * The bodies of the newest pending frames are also kept in memory (up to `memoryBytes`), so that
 * the shipper does not read back what was just written.
 *
 * Nothing is removed from the segments when the server acknowledges: the positions file records
 * the last acknowledged id (positions.ts) and `open` skips the frames up to it; a segment is
 * deleted once every frame in it is acknowledged. A torn frame at the end of the last segment (a
 * crash in the middle of `append`, which had not resolved) is cut off.
 *
 * `append` waits while the buffer holds `maxBytes` or more of unacknowledged frames (a single frame
 * larger than the limit is still taken when the buffer is empty, so nothing can block for ever).
 *
 * An append that fails (ENOSPC on a full disk) cuts what it wrote of its frame off again and
 * rejects: the batch was not taken, the segment stays whole, and the next append writes where it
 * would have (agent.ts waits for room and tries again).
 */
import { type FileHandle, open, readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Positions } from '../sources/source.js';
import { fsyncDir, mkdirDurable, writeFully } from '../store/fsync.js';
import { snappyCompress, snappyUncompress } from '../util/snappy.js';

const MAGIC = 0x4b4a4231; // "KJB1"
const PREFIX = 16;
const SEGMENT_RE = /^(\d{16})\.seg$/;

export interface BufferedBatch {
  readonly id: number;
  readonly source: string;
  readonly positions: Positions;
  readonly records: number;
  /** Size of the body as stored (snappy-compressed when `snappy`). */
  readonly bodyBytes: number;
  /** The body is snappy-compressed. */
  readonly snappy: boolean;
  /** Size of the whole frame on disk. */
  readonly frameBytes: number;
  /** When it was appended (ms since the epoch; 0 for batches found on disk at start). */
  readonly appendedAt: number;
  readonly segment: string;
  readonly offset: number;
}

/** Body encodings of a frame. */
export type BodyEncoding = 'identity' | 'snappy';

/** Default for `memoryBytes`. */
const DEFAULT_MEMORY_BYTES = 2 << 20;

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
  /** Bodies of pending frames also kept in memory, newest first taken, up to this many bytes. */
  readonly memoryBytes?: number;
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
  /** Bodies held in memory by batch id, and their bytes. */
  private readonly held = new Map<number, Buffer>();
  private heldBytes = 0;
  private readonly memoryBytes: number;
  /** The background fsync of the active segment, and whether a frame was written since it began. */
  private syncing: Promise<void> | undefined;
  private unsynced = false;

  constructor(options: DiskBufferOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes =
      options.segmentBytes ?? Math.min(64 << 20, Math.max(1 << 20, Math.floor(options.maxBytes / 8)));
    this.memoryBytes = options.memoryBytes ?? DEFAULT_MEMORY_BYTES;
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
          z?: BodyEncoding;
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
            snappy: h.z === 'snappy',
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
   * Appends one batch (written, fsynced in the background); waits first while the buffer is full.
   * Rejects with BufferClosedError if the buffer is closed meanwhile (the batch was then not taken).
   * `body` is kept, not copied: it must not change afterwards.
   */
  append(
    source: string,
    positions: Positions,
    records: number,
    body: Uint8Array,
    encoding: BodyEncoding = 'identity',
  ): Promise<BufferedBatch> {
    const run = this.appending.then(() => this.appendNow(source, positions, records, body, encoding));
    this.appending = run.catch(() => undefined);
    return run;
  }

  private async appendNow(
    source: string,
    positions: Positions,
    records: number,
    body: Uint8Array,
    encoding: BodyEncoding,
  ): Promise<BufferedBatch> {
    const id = this.lastId + 1;
    const snappyBody = encoding === 'snappy';
    const header = Buffer.from(
      JSON.stringify({ id, source, positions, records, ...(snappyBody ? { z: 'snappy' } : {}) }),
      'utf8',
    );
    const frameBytes = PREFIX + header.length + body.length;
    while (this.pendingBytes > 0 && this.pendingBytes + frameBytes > this.maxBytes) {
      if (this.closed) throw new BufferClosedError('the agent is stopping');
      this.setFull(true);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.closed) throw new BufferClosedError('the agent is stopping');
    // The prefix and header, then the body as given: not copied into one frame buffer, which was
    // a body's worth of garbage per batch.
    const head = Buffer.allocUnsafe(PREFIX + header.length);
    head.writeUInt32BE(MAGIC, 0);
    head.writeUInt32BE(header.length, 4);
    head.writeUInt32BE(body.length, 8);
    header.copy(head, PREFIX);
    head.writeUInt32BE(crc32(body, crc32(header)), 12);
    const stored = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.writing = true;
    let a: { seg: Segment; fh: FileHandle };
    let offset: number;
    try {
      a = await this.activeSegment(id);
      offset = a.seg.size;
      try {
        await writeFully(a.fh, head, offset);
        await writeFully(a.fh, stored, offset + head.length);
      } catch (err) {
        // Part of the frame may be in the file: without the cut, a shorter frame written over it
        // later would leave its tail behind, and a reopened buffer would find garbage between frames.
        await a.fh.truncate(offset).catch(() => undefined);
        throw err;
      }
    } finally {
      this.writing = false;
    }
    this.syncInBackground(a.fh);
    a.seg.size += frameBytes;
    a.seg.lastId = id;
    this.lastId = id;
    const entry: BufferedBatch = {
      id,
      source,
      positions,
      records,
      bodyBytes: body.length,
      snappy: snappyBody,
      frameBytes,
      appendedAt: Date.now(),
      segment: a.seg.name,
      offset,
    };
    this.entries.push(entry);
    this.pendingBytes += frameBytes;
    if (this.heldBytes + body.length <= this.memoryBytes) {
      this.held.set(id, stored);
      this.heldBytes += body.length;
    }
    this.setFull(this.pendingBytes >= this.maxBytes);
    this.wake();
    return entry;
  }

  /** Fsyncs `fh` now, or again once the fsync under way ends if frames were written meanwhile. */
  private syncInBackground(fh: FileHandle): void {
    this.unsynced = true;
    if (this.syncing) return;
    const loop = async (): Promise<void> => {
      while (this.unsynced) {
        this.unsynced = false;
        // A failed fsync is not the append's failure (it was written, and survives kill -9); the
        // segment is fsynced again with the next frame or when it is closed.
        await fh.sync().catch(() => undefined);
      }
    };
    this.syncing = loop().finally(() => {
      this.syncing = undefined;
    });
  }

  /** Ends the background fsync and fsyncs what it did not cover; before a segment is closed. */
  private async syncNow(fh: FileHandle): Promise<void> {
    await this.syncing;
    if (this.unsynced) {
      this.unsynced = false;
      await fh.sync();
    }
  }

  private async activeSegment(id: number): Promise<{ seg: Segment; fh: FileHandle }> {
    if (this.active && this.active.seg.size < this.segmentBytes) return this.active;
    if (this.active) {
      const full = this.active;
      // Detached before anything can fail: a segment that could not be created (a full disk) is
      // tried again by the next append, never on the closed handle.
      this.active = undefined;
      await this.syncNow(full.fh).finally(() => full.fh.close());
    }
    const name = `${String(id).padStart(16, '0')}.seg`;
    const fh = await open(join(this.dir, name), 'w');
    await fsyncDir(this.dir);
    const seg: Segment = { name, lastId: id, size: 0 };
    this.segments.push(seg);
    this.active = { seg, fh };
    return this.active;
  }

  /** The body of a pending batch, uncompressed. */
  async body(b: BufferedBatch): Promise<Buffer> {
    const stored = await this.storedBody(b);
    return b.snappy ? snappyUncompress(stored) : stored;
  }

  /** The body of a pending batch snappy-compressed, as a push carries it. */
  async compressedBody(b: BufferedBatch): Promise<Buffer> {
    const stored = await this.storedBody(b);
    return b.snappy ? stored : snappyCompress(stored);
  }

  /** The body of a pending batch as stored: from memory, or read back from its segment. */
  private async storedBody(b: BufferedBatch): Promise<Buffer> {
    const kept = this.held.get(b.id);
    if (kept) return kept;
    const fh = await open(join(this.dir, b.segment), 'r');
    try {
      // The body ends the frame: only it is read.
      const body = Buffer.allocUnsafe(b.bodyBytes);
      const { bytesRead } = await fh.read(body, 0, b.bodyBytes, b.offset + b.frameBytes - b.bodyBytes);
      if (bytesRead !== b.bodyBytes) throw new Error(`${b.segment}: short read of batch ${b.id}`);
      return body;
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
      const e = this.entries.shift()!;
      this.pendingBytes -= e.frameBytes;
      if (this.held.delete(e.id)) this.heldBytes -= e.bodyBytes;
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
        await this.syncing;
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
      await this.syncNow(this.active.fh);
      await this.active.fh.close();
      this.active = undefined;
    }
  }
}

/**
 * @module Chunked GELF over UDP (Graylog's GELFChunkManager): a datagram that starts with the magic
 * bytes 0x1e 0x0f is one chunk: an 8-byte message id, the sequence number, the sequence count
 * (at most 128), then a slice of the payload. A message is complete when every chunk has arrived;
 * chunks of a message not complete within 5 seconds are dropped, as Graylog does. Bounds: at most
 * `maxMessages` messages in assembly, `maxBytes` bytes per message and `maxTotalBytes` (16 MiB)
 * held over all of them; beyond, the chunk is refused.
 */
import { FormatError, malformed } from '../errors.js';

export const GELF_CHUNK_MAGIC_0 = 0x1e;
export const GELF_CHUNK_MAGIC_1 = 0x0f;
const MAX_CHUNKS = 128;
const EXPIRE_MS = 5_000;

interface Assembly {
  readonly parts: (Buffer | undefined)[];
  received: number;
  bytes: number;
  readonly started: number;
}

export function isGelfChunk(b: Buffer): boolean {
  return b.length >= 2 && b[0] === GELF_CHUNK_MAGIC_0 && b[1] === GELF_CHUNK_MAGIC_1;
}

export class GelfChunks {
  private readonly assemblies = new Map<string, Assembly>();
  /** Messages dropped incomplete (expired). */
  expired = 0;
  /** Bytes held over every message in assembly. */
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxMessages = 1000,
    private readonly now: () => number = Date.now,
    private readonly maxTotalBytes = 16 << 20,
  ) {}

  /** Adds a chunk; returns the whole payload once its last chunk arrives. Throws FormatError. */
  add(chunk: Buffer): Buffer | undefined {
    if (chunk.length < 12) throw malformed('GELF chunk shorter than its 12-byte header');
    const id = chunk.toString('hex', 2, 10);
    const seq = chunk[10]!;
    const count = chunk[11]!;
    if (count === 0 || count > MAX_CHUNKS || seq >= count) {
      throw malformed(`GELF chunk ${seq} of ${count}: the count must be 1 to ${MAX_CHUNKS}`);
    }
    this.expire();
    let a = this.assemblies.get(id);
    if (!a) {
      if (this.assemblies.size >= this.maxMessages) {
        throw new FormatError('too-large', `more than ${this.maxMessages} chunked GELF messages in assembly`);
      }
      a = { parts: new Array(count), received: 0, bytes: 0, started: this.now() };
      this.assemblies.set(id, a);
    }
    if (a.parts.length !== count) throw malformed('GELF chunks of one message disagree on the count');
    if (a.parts[seq] !== undefined) return undefined; // a duplicate
    const body = chunk.subarray(12);
    if (a.bytes + body.length > this.maxBytes) {
      this.drop(id, a);
      throw new FormatError('too-large', `chunked GELF message over the limit of ${this.maxBytes} bytes`);
    }
    if (this.total + body.length > this.maxTotalBytes) {
      throw new FormatError(
        'too-large',
        `chunked GELF messages in assembly hold ${this.total} bytes, the limit is ${this.maxTotalBytes}`,
      );
    }
    a.bytes += body.length;
    this.total += body.length;
    a.parts[seq] = Buffer.from(body);
    a.received++;
    if (a.received < count) return undefined;
    this.drop(id, a);
    return Buffer.concat(a.parts as Buffer[]);
  }

  private drop(id: string, a: Assembly): void {
    this.assemblies.delete(id);
    this.total -= a.bytes;
  }

  private expire(): void {
    const cutoff = this.now() - EXPIRE_MS;
    for (const [id, a] of this.assemblies) {
      if (a.started >= cutoff) break; // insertion order is start order
      this.drop(id, a);
      this.expired++;
    }
  }
}

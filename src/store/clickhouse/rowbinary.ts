/**
 * @module ClickHouse's RowBinary format, both ways: what the ClickHouse store inserts and reads.
 * Binary rather than a text format so that bodies travel byte for byte (no escaping of tabs, NULs
 * or newlines) and 64-bit numbers stay exact; RowBinary is in every ClickHouse since 2017, 18.16
 * included (/work/shared/notes/clickhouse-18.16.md). UInt64 is 8 bytes little-endian, String a
 * LEB128 length and its bytes, Array(T) a LEB128 count and its elements.
 */
import { endianness } from 'node:os';

const U64 = new BigUint64Array(1);
const U64_BYTES = new Uint8Array(U64.buffer);
const MAX_U64 = (1n << 64n) - 1n;
/** A typed array is in the machine's byte order; RowBinary is little-endian. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** Builds a RowBinary body in one growing buffer. */
export class RowBinaryWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  uint8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  uint64s(list: readonly bigint[]): void {
    this.varint(list.length);
    for (const v of list) this.uint64(v);
  }

  uint64(v: bigint): void {
    this.ensure(8);
    if (!LITTLE_ENDIAN || v < 0n || v > MAX_U64)
      this.buf.writeBigUInt64LE(v, this.pos); // throws when out of range
    else {
      // Through a typed array: Buffer's writeBigUInt64LE splits the value with BigInt shifts, which
      // allocate; four of them per entry were 6% of a ClickHouse ingest's profile (10x slower).
      U64[0] = v;
      const buf = this.buf;
      const p = this.pos;
      buf[p] = U64_BYTES[0]!;
      buf[p + 1] = U64_BYTES[1]!;
      buf[p + 2] = U64_BYTES[2]!;
      buf[p + 3] = U64_BYTES[3]!;
      buf[p + 4] = U64_BYTES[4]!;
      buf[p + 5] = U64_BYTES[5]!;
      buf[p + 6] = U64_BYTES[6]!;
      buf[p + 7] = U64_BYTES[7]!;
    }
    this.pos += 8;
  }

  private varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** A string as UTF-8 (lone surrogates become U+FFFD, as everywhere in the store). */
  string(s: string): void {
    // At most 3 bytes per UTF-16 code unit.
    const max = s.length * 3;
    if (max < 128) {
      this.ensure(1 + max);
      const n = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
  }

  strings(list: readonly string[]): void {
    this.varint(list.length);
    for (const s of list) this.string(s);
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far (a view: do not write more while it is used). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Thrown when a RowBinary answer ends inside a value: the caller waits for more bytes. */
export class NeedMore extends Error {}

const NEED_MORE = new NeedMore('RowBinary value continues in the next chunk');

/** Reads RowBinary values from a buffer; throws NeedMore at its end. */
export class RowBinaryReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  uint8(): number {
    if (this.pos + 1 > this.buf.length) throw NEED_MORE;
    return this.buf[this.pos++]!;
  }

  uint32(): number {
    if (this.pos + 4 > this.buf.length) throw NEED_MORE;
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  uint64s(): bigint[] {
    const n = this.varint();
    const out = new Array<bigint>(n);
    for (let i = 0; i < n; i++) out[i] = this.uint64();
    return out;
  }

  uint64(): bigint {
    if (this.pos + 8 > this.buf.length) throw NEED_MORE;
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A UInt64 known to be below 2^53 (counts, byte sums, bucket numbers) as a number. */
  uint64Number(): number {
    if (this.pos + 8 > this.buf.length) throw NEED_MORE;
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  int64Number(): number {
    if (this.pos + 8 > this.buf.length) throw NEED_MORE;
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return Number(v);
  }

  private varint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw NEED_MORE;
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
  }

  string(): string {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw NEED_MORE;
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  strings(): string[] {
    const n = this.varint();
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.string();
    return out;
  }
}

/**
 * Rows of a RowBinary answer as they arrive: `read` decodes one row from the reader; a row cut by
 * a chunk boundary is decoded again once the next chunk is there.
 */
export async function* rowBinaryRows<T>(
  chunks: AsyncIterable<Buffer>,
  read: (r: RowBinaryReader) => T,
  batchRows = 4096,
): AsyncGenerator<T[]> {
  let rest: Buffer | undefined;
  let batch: T[] = [];
  for await (const chunk of chunks) {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    const r = new RowBinaryReader(buf);
    let start = 0;
    try {
      while (!r.done) {
        start = r.pos;
        batch.push(read(r));
        if (batch.length >= batchRows) {
          yield batch;
          batch = [];
        }
      }
      start = r.pos;
    } catch (err) {
      if (!(err instanceof NeedMore)) throw err;
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  if (rest && rest.length > 0)
    throw new Error(`ClickHouse answer ends inside a row (${rest.length} bytes left)`);
}

/**
 * @module Encoding a `logproto.PushRequest` by writing the wire format directly: the agent's hot
 * path (a third of its time went to protobufjs's fromObject and writer). Two passes: sizes first
 * (every string's UTF-8 length kept), then one buffer written front to back. The structured
 * metadata of an entry is usually one object shared by every line of a file, so its encoded bytes
 * are cached per object and copied. The bytes are exactly protobufjs's for the same message (a
 * test compares them), and protobufjs still encodes what this does not: a time before 1970.
 */
import { Buffer } from 'node:buffer';
import type { PushEntry } from './types.js';

/** What encodePushRequest takes: a labels string as a client would send it, and entries. */
export interface EncodableStream {
  labels: string;
  entries: readonly PushEntry[];
}

const NS = 1_000_000_000n;

/** Bytes of a varint; a negative int64 takes ten. */
export function varintSize(n: number): number {
  if (n < 0) return 10;
  let s = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

export function writeVarint(buf: Buffer, pos: number, n: number): number {
  if (n < 0) {
    // int64 as two's complement (seconds before 1970), as protobufjs writes it.
    let u = BigInt.asUintN(64, BigInt(n));
    while (u >= 128n) {
      buf[pos++] = Number(u & 127n) | 128;
      u >>= 7n;
    }
    buf[pos++] = Number(u);
    return pos;
  }
  while (n >= 128) {
    buf[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** A length-delimited field's whole size: tag (one byte for fields 1-15), length, payload. */
export const fieldSize = (len: number): number => 1 + varintSize(len) + len;
/** The same for a proto3 string, which is left out when empty (as protobufjs leaves it out). */
export const stringSize = (len: number): number => (len === 0 ? 0 : fieldSize(len));
/** A varint scalar field (tag and value), left out when zero. */
export const scalarSize = (n: number): number => (n === 0 ? 0 : 1 + varintSize(n));

/** Encoded `structuredMetadata` fields (tag 3) of one metadata object, by object. */
const metadataBytes = new WeakMap<object, Buffer>();

/** The `structuredMetadata` fields of an entry with this metadata (cached per object: copy, do not modify). */
export function encodeMetadata(meta: Readonly<Record<string, string>>): Buffer {
  let cached = metadataBytes.get(meta);
  if (cached) return cached;
  let size = 0;
  const pairs: [string, number, string, number][] = [];
  for (const name in meta) {
    const value = meta[name]!;
    const n = Buffer.byteLength(name);
    const v = Buffer.byteLength(value);
    pairs.push([name, n, value, v]);
    size += fieldSize(stringSize(n) + stringSize(v));
  }
  cached = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const [name, n, value, v] of pairs) {
    cached[pos++] = 0x1a; // EntryAdapter.structuredMetadata
    pos = writeVarint(cached, pos, stringSize(n) + stringSize(v));
    if (n > 0) {
      cached[pos++] = 0x0a; // LabelPairAdapter.name
      pos = writeVarint(cached, pos, n);
      pos += cached.write(name, pos, 'utf8');
    }
    if (v > 0) {
      cached[pos++] = 0x12; // LabelPairAdapter.value
      pos = writeVarint(cached, pos, v);
      pos += cached.write(value, pos, 'utf8');
    }
  }
  metadataBytes.set(meta, cached);
  return cached;
}

/**
 * Whole seconds and nanoseconds of nanosecond times, the last second remembered: a batch's entries
 * mostly share it, and then one subtraction gives both instead of a bigint division and a remainder.
 */
export class SecondSplitter {
  /** The whole seconds (floor) of the last time split. */
  seconds = 0;
  private start = 1n;
  private end = 0n;

  /** Splits `ts`: sets `seconds` and returns the nanoseconds within it. */
  nanos(ts: bigint): number {
    if (ts < this.start || ts >= this.end) {
      let whole = ts / NS;
      if (ts < whole * NS) whole -= 1n; // floor, for times before 1970
      this.seconds = Number(whole);
      this.start = whole * NS;
      this.end = this.start + NS;
    }
    return Number(ts - this.start);
  }
}

/**
 * A buffer an encoder may write into and hand back a view of, grown as needed: for a caller that
 * uses each message before it encodes the next (the agent compresses it at once), so that a
 * megabyte per batch is not allocated and left for the GC.
 */
export interface Scratch {
  buf?: Buffer;
}

/**
 * Writes an EntryAdapter's field header, its size, its timestamp and its line's tag and length:
 * the line's bytes and any metadata go at the position returned.
 */
export function writeEntryHead(
  buf: Buffer,
  pos: number,
  entrySize: number,
  sec: number,
  nano: number,
  lineLen: number,
): number {
  buf[pos++] = 0x12; // StreamAdapter.entries
  pos = writeVarint(buf, pos, entrySize);
  buf[pos++] = 0x0a; // EntryAdapter.timestamp
  pos = writeVarint(buf, pos, scalarSize(sec) + scalarSize(nano));
  if (sec !== 0) {
    buf[pos++] = 0x08; // Timestamp.seconds
    pos = writeVarint(buf, pos, sec);
  }
  if (nano !== 0) {
    buf[pos++] = 0x10; // Timestamp.nanos
    pos = writeVarint(buf, pos, nano);
  }
  if (lineLen > 0) {
    buf[pos++] = 0x12; // EntryAdapter.line
    pos = writeVarint(buf, pos, lineLen);
  }
  return pos;
}

/** `bytes` to write a message into: a view of `scratch` (grown as needed), or a new Buffer. */
export function outputBuffer(bytes: number, scratch?: Scratch): Buffer {
  if (scratch === undefined) return Buffer.allocUnsafe(bytes);
  if (scratch.buf === undefined || scratch.buf.length < bytes) {
    scratch.buf = Buffer.allocUnsafe(Math.max(bytes, (scratch.buf?.length ?? 0) * 2));
  }
  return scratch.buf.subarray(0, bytes);
}

/**
 * Encodes a PushRequest (uncompressed: Loki expects it snappy-compressed on the wire); undefined
 * when an entry is before 1970 (negative seconds), which the caller encodes with protobufjs.
 */
export function encodePushRequestFast(
  streams: readonly EncodableStream[],
  scratch?: Scratch,
): Buffer | undefined {
  // Pass 1: sizes. Per entry: seconds, nanos, line length, entry size; per stream: labels length,
  // stream size.
  const secs: number[] = [];
  const nanos: number[] = [];
  const lineLens: number[] = [];
  const entrySizes: number[] = [];
  const labelLens: number[] = [];
  const streamSizes: number[] = [];
  let total = 0;
  const split = new SecondSplitter();
  for (const s of streams) {
    const labelLen = Buffer.byteLength(s.labels);
    let streamSize = stringSize(labelLen);
    for (const e of s.entries) {
      const ts = e.timestamp;
      if (ts < 0n) return undefined;
      const nano = split.nanos(ts);
      const sec = split.seconds;
      const tsSize = scalarSize(sec) + scalarSize(nano);
      const lineLen = Buffer.byteLength(e.line);
      let entrySize = fieldSize(tsSize) + stringSize(lineLen);
      if (e.metadata !== undefined) entrySize += encodeMetadata(e.metadata).length;
      secs.push(sec);
      nanos.push(nano);
      lineLens.push(lineLen);
      entrySizes.push(entrySize);
      streamSize += fieldSize(entrySize);
    }
    labelLens.push(labelLen);
    streamSizes.push(streamSize);
    total += fieldSize(streamSize);
  }
  // Pass 2: write.
  const buf = outputBuffer(total, scratch);
  let pos = 0;
  let i = 0;
  streams.forEach((s, si) => {
    buf[pos++] = 0x0a; // PushRequest.streams
    pos = writeVarint(buf, pos, streamSizes[si]!);
    if (labelLens[si]! > 0) {
      buf[pos++] = 0x0a; // StreamAdapter.labels
      pos = writeVarint(buf, pos, labelLens[si]!);
      pos += buf.write(s.labels, pos, 'utf8');
    }
    for (const e of s.entries) {
      const sec = secs[i]!;
      const nano = nanos[i]!;
      pos = writeEntryHead(buf, pos, entrySizes[i]!, sec, nano, lineLens[i]!);
      if (lineLens[i]! > 0) {
        pos += buf.write(e.line, pos, 'utf8');
      }
      if (e.metadata !== undefined) pos += encodeMetadata(e.metadata).copy(buf, pos);
      i++;
    }
  });
  if (pos !== total) throw new Error(`push encoder: wrote ${pos} bytes, sized ${total}`);
  return buf;
}

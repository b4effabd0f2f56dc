/**
 * @module Loki's protobuf push body, `logproto.PushRequest` (pkg/push/push.proto): streams of
 * {labels, entries}, each entry a google.protobuf.Timestamp, a line and structured metadata pairs.
 *
 * The schema is declared here for protobufjs, which encodes (tests and the benchmark push with it).
 * Decoding walks the wire format directly instead: it is the ingest hot path, so it builds our
 * PushEntry (bigint nanoseconds) without protobufjs's intermediate objects and Long seconds, and it
 * fails with the texts of Loki's own decoder (pkg/push/types.go, gogo-generated code), so a Loki user
 * reads `proto: wrong wireType = 0 for field Line` or `unexpected EOF` as from Loki.
 */
import { Buffer } from 'node:buffer';
import protobuf from 'protobufjs';
import { MAX_JSON_VALUES } from '../../util/json-bounds.js';
import { FormatError, malformed } from '../errors.js';
import { type EncodableStream, encodePushRequestFast, type Scratch } from './encode.js';
import { tooManyEntries } from './json.js';
import { setOwn } from './labels.js';
import { type DecodedStream, GO_ZERO_TIME_NS, type PushEntry } from './types.js';

/** push.proto, in protobufjs's JSON form (gogoproto options dropped: they only shape the Go code). */
const SCHEMA = {
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Timestamp: {
              fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } },
            },
          },
        },
      },
    },
    logproto: {
      nested: {
        PushRequest: {
          fields: {
            streams: { rule: 'repeated', type: 'StreamAdapter', id: 1 },
            format: { type: 'string', id: 2 },
          },
        },
        StreamAdapter: {
          fields: {
            labels: { type: 'string', id: 1 },
            entries: { rule: 'repeated', type: 'EntryAdapter', id: 2 },
            hash: { type: 'uint64', id: 3 },
          },
        },
        LabelPairAdapter: {
          fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        EntryAdapter: {
          fields: {
            timestamp: { type: 'google.protobuf.Timestamp', id: 1 },
            line: { type: 'string', id: 2 },
            structuredMetadata: { rule: 'repeated', type: 'LabelPairAdapter', id: 3 },
            parsed: { rule: 'repeated', type: 'LabelPairAdapter', id: 4 },
          },
        },
      },
    },
  },
};

export const pushProtoRoot: protobuf.Root = protobuf.Root.fromJSON(SCHEMA);
export const PushRequestType: protobuf.Type = pushProtoRoot.lookupType('logproto.PushRequest');

export type { EncodableStream };

const NS = 1_000_000_000n;

function toInt64(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}

/**
 * Encodes a PushRequest (uncompressed: Loki expects it snappy-compressed on the wire): directly
 * (encode.ts), or with protobufjs for what that does not take (times before 1970).
 */
export function encodePushRequest(streams: readonly EncodableStream[], scratch?: Scratch): Uint8Array {
  return encodePushRequestFast(streams, scratch) ?? encodeWithProtobufjs(streams);
}

/** The same message through protobufjs: the reference the direct encoder is tested against. */
export function encodeWithProtobufjs(streams: readonly EncodableStream[]): Uint8Array {
  const message = {
    streams: streams.map((s) => ({
      labels: s.labels,
      entries: s.entries.map((e) => {
        let seconds = e.timestamp / NS;
        let nanos = e.timestamp % NS;
        if (nanos < 0n) {
          seconds -= 1n;
          nanos += NS;
        }
        return {
          // protobufjs takes int64 as a number, or as a decimal string beyond 2^53.
          timestamp: { seconds: toInt64(seconds), nanos: Number(nanos) },
          line: e.line,
          structuredMetadata: Object.entries(e.metadata ?? {}).map(([name, value]) => ({ name, value })),
        };
      }),
    })),
  };
  return PushRequestType.encode(PushRequestType.fromObject(message)).finish();
}

// ---- decoding ----------------------------------------------------------------------------------

/** A decode failure carrying Loki's text; turned into a malformed FormatError at the top. */
class WireError extends Error {}

const UNEXPECTED_EOF = 'unexpected EOF';
const INT_OVERFLOW = 'proto: integer overflow';
const NEGATIVE_LENGTH = 'proto: negative length found during unmarshaling';
const TWO_POW_63 = 2 ** 63;

/** A cursor over one message's bytes [pos, end). */
class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    public end: number,
  ) {}

  /** An unsigned varint as a number (exact up to 2^53, which covers every length and tag). */
  uvarint(): number {
    const buf = this.buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError(UNEXPECTED_EOF);
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new WireError(INT_OVERFLOW);
  }

  /** The varint from `start` to the cursor (just read with `uvarint`), exactly, as a 64-bit bigint. */
  uvarint64At(start: number): bigint {
    let v = 0n;
    for (let i = this.pos - 1; i >= start; i--) v = (v << 7n) | BigInt(this.buf[i]! & 0x7f);
    return BigInt.asUintN(64, v);
  }

  /** A length prefix, checked against what is left, as gogo's generated code checks it. */
  length(): number {
    const n = this.uvarint();
    if (n >= TWO_POW_63) throw new WireError(NEGATIVE_LENGTH);
    if (this.pos + n > this.end) throw new WireError(UNEXPECTED_EOF);
    return n;
  }

  string(): string {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    return n === 0 ? '' : this.buf.toString('utf8', start, this.pos);
  }

  /** gogo's skip function for an unknown field whose tag was just read. */
  skip(wireType: number): void {
    let depth = 0;
    for (;;) {
      switch (wireType) {
        case 0:
          this.uvarint();
          break;
        case 1:
          if (this.pos + 8 > this.end) throw new WireError(UNEXPECTED_EOF);
          this.pos += 8;
          break;
        case 2: {
          const n = this.length(); // read before `this.pos`: the prefix moves it
          this.pos += n;
          break;
        }
        case 3:
          depth++;
          break;
        case 4:
          if (depth === 0) throw new WireError('proto: unexpected end of group');
          depth--;
          break;
        case 5:
          if (this.pos + 4 > this.end) throw new WireError(UNEXPECTED_EOF);
          this.pos += 4;
          break;
        default:
          throw new WireError(`proto: illegal wireType ${wireType}`);
      }
      if (depth === 0) return;
      wireType = this.uvarint() % 8;
    }
  }
}

/**
 * Reads the next tag of a message named `message`; returns [field, wireType].
 * The checks and texts are those of gogo's generated Unmarshal.
 */
function readTag(c: Cursor, message: string): [number, number] {
  const wire = c.uvarint();
  const wireType = wire % 8;
  const field = Math.floor(wire / 8);
  if (wireType === 4) throw new WireError(`proto: ${message}: wiretype end group for non-group`);
  if (field <= 0 || field > 0x7fffffff) {
    throw new WireError(`proto: ${message}: illegal tag ${field | 0} (wire type ${wire})`);
  }
  return [field, wireType];
}

function expectWire(actual: number, wanted: number, field: string): void {
  if (actual !== wanted) throw new WireError(`proto: wrong wireType = ${actual} for field ${field}`);
}

/** The last whole second turned into nanoseconds: a push's entries mostly share their second. */
let lastSecond = 0;
let lastSecondNs = 0n;

/**
 * gogo types.Timestamp, then Loki's validateTimestamp (pkg/push/timestamp.go). Seconds and nanos
 * are read as numbers when their varints are short (every time from year 0001 to 9999 on the
 * positive side, and nanos in range), as bigints otherwise, so an error shows Go's exact values.
 */
function readTimestamp(c: Cursor): bigint {
  const end = c.length() + c.pos;
  const outer = c.end;
  c.end = end;
  let seconds: number | bigint = 0;
  let nanos = 0;
  while (c.pos < end) {
    const [field, wireType] = readTag(c, 'Timestamp');
    if (field === 1) {
      expectWire(wireType, 0, 'Seconds');
      const start = c.pos;
      const n = c.uvarint();
      seconds = c.pos - start <= 7 ? n : BigInt.asIntN(64, c.uvarint64At(start));
    } else if (field === 2) {
      expectWire(wireType, 0, 'Nanos');
      const start = c.pos;
      const n = c.uvarint();
      nanos = n < 2 ** 31 ? n : Number(BigInt.asIntN(32, c.uvarint64At(start)));
    } else {
      c.skip(wireType);
    }
  }
  c.end = outer;
  const shown = () => `&types.Timestamp{Seconds: ${seconds},\nNanos: ${nanos},\n}`;
  if (seconds < -62_135_596_800) throw new WireError(`timestamp: ${shown()} before 0001-01-01`);
  if (seconds >= 253_402_300_800) throw new WireError(`timestamp: ${shown()} after 10000-01-01`);
  if (nanos < 0 || nanos >= 1e9) throw new WireError(`timestamp: ${shown()}: nanos not in range [0, 1e9)`);
  const s = Number(seconds); // in range: exact
  if (s !== lastSecond) {
    lastSecond = s;
    lastSecondNs = BigInt(s) * NS;
  }
  return lastSecondNs + BigInt(nanos);
}

/** A LabelPairAdapter, added to `into` (a later pair with the same name wins). */
function readPair(c: Cursor, into: Record<string, string>): void {
  const end = c.length() + c.pos;
  const outer = c.end;
  c.end = end;
  let name = '';
  let value = '';
  while (c.pos < end) {
    const [field, wireType] = readTag(c, 'LabelPairAdapter');
    if (field === 1) {
      expectWire(wireType, 2, 'Name');
      name = c.string();
    } else if (field === 2) {
      expectWire(wireType, 2, 'Value');
      value = c.string();
    } else {
      c.skip(wireType);
    }
  }
  c.end = outer;
  setOwn(into, name, value);
}

/**
 * The structured metadata that ended the previous entry of a stream, as bytes: an agent sends the
 * same metadata with every line of a file, so an entry whose remaining bytes are exactly those
 * shares the previous entry's object instead of decoding it again (and the WAL encodes one object
 * once). Shared objects are never changed downstream.
 */
interface MetadataMemo {
  start: number;
  length: number;
  metadata: Record<string, string>;
}

/**
 * Whether buf[a, a + n) equals buf[b, b + n). A loop: metadata is tens of bytes, and Buffer#compare's
 * argument checks and native call cost more than comparing them (bench, agent phase).
 */
function sameBytes(buf: Buffer, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}

function readEntry(c: Cursor, memo: { last?: MetadataMemo }, budget: Budget): PushEntry {
  const end = c.length() + c.pos;
  const outer = c.end;
  c.end = end;
  // An entry without a timestamp keeps Go's zero time, as in Loki.
  let timestamp = GO_ZERO_TIME_NS;
  let line = '';
  let metadata: Record<string, string> | undefined;
  // Where the entry's metadata fields began, while nothing but metadata followed.
  let metaStart = -1;
  while (c.pos < end) {
    const fieldStart = c.pos;
    const [field, wireType] = readTag(c, 'EntryAdapter');
    if (field !== 3) metaStart = -1;
    switch (field) {
      case 1:
        expectWire(wireType, 2, 'Timestamp');
        timestamp = readTimestamp(c);
        break;
      case 2:
        expectWire(wireType, 2, 'Line');
        line = c.string();
        break;
      case 3: {
        expectWire(wireType, 2, 'StructuredMetadata');
        if (metadata === undefined) {
          metaStart = fieldStart;
          const last = memo.last;
          if (
            last !== undefined &&
            last.length === end - fieldStart &&
            sameBytes(c.buf, last.start, fieldStart, last.length)
          ) {
            metadata = last.metadata;
            c.pos = end;
            metaStart = -2; // taken from the memo
            break;
          }
          metadata = {};
        }
        spendPair(budget);
        readPair(c, metadata);
        break;
      }
      case 4:
        // `parsed` is only for query responses; it is decoded (so a broken one fails as in Loki) and dropped.
        expectWire(wireType, 2, 'Parsed');
        spendPair(budget);
        readPair(c, {});
        break;
      default:
        c.skip(wireType);
    }
  }
  c.end = outer;
  if (metaStart >= 0 && metadata !== undefined)
    memo.last = { start: metaStart, length: end - metaStart, metadata };
  return { timestamp, line, metadata };
}

/**
 * What one push may still hold: entries and streams each take one of `left`, metadata pairs one of
 * `pairsLeft` (as many as a JSON body's values: a pair costs what a JSON value does), 413 past either.
 */
interface Budget {
  left: number;
  readonly max: number;
  pairsLeft: number;
}

function spend(budget: Budget): void {
  if (--budget.left < 0) throw tooManyEntries(budget.max);
}

function spendPair(budget: Budget): void {
  if (--budget.pairsLeft < 0) {
    throw new FormatError(
      'too-large',
      `request body too large: a push may hold at most ${MAX_JSON_VALUES} structured metadata pairs`,
    );
  }
}

function readStream(c: Cursor, budget: Budget): DecodedStream {
  const end = c.length() + c.pos;
  const outer = c.end;
  c.end = end;
  let labelsText = '';
  const entries: PushEntry[] = [];
  const memo: { last?: MetadataMemo } = {};
  while (c.pos < end) {
    const [field, wireType] = readTag(c, 'StreamAdapter');
    switch (field) {
      case 1:
        // Loki's hand-written Stream.Unmarshal names this field StructuredMetadata (a copy-paste slip); kept.
        expectWire(wireType, 2, 'StructuredMetadata');
        labelsText = c.string();
        break;
      case 2:
        expectWire(wireType, 2, 'Entries');
        spend(budget);
        entries.push(readEntry(c, memo, budget));
        break;
      case 3:
        expectWire(wireType, 0, 'Hash');
        c.uvarint();
        break;
      default:
        c.skip(wireType);
    }
  }
  c.end = outer;
  return { labelsText, entries };
}

/**
 * Decodes an uncompressed PushRequest; throws a malformed FormatError with Loki's message.
 * Strings are decoded as UTF-8 (invalid bytes become U+FFFD; Go would keep them).
 */
export function decodePushRequest(bytes: Uint8Array, maxEntries = Number.POSITIVE_INFINITY): DecodedStream[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const c = new Cursor(buf, 0, buf.length);
  const streams: DecodedStream[] = [];
  const budget: Budget = { left: maxEntries, max: maxEntries, pairsLeft: MAX_JSON_VALUES };
  try {
    while (c.pos < c.end) {
      const [field, wireType] = readTag(c, 'PushRequest');
      if (field === 1) {
        expectWire(wireType, 2, 'Streams');
        spend(budget);
        streams.push(readStream(c, budget));
      } else if (field === 2) {
        expectWire(wireType, 2, 'Format');
        c.string();
      } else {
        c.skip(wireType);
      }
    }
  } catch (err) {
    if (err instanceof WireError) throw malformed(err.message);
    throw err;
  }
  return streams;
}

/**
 * @module OTLP/HTTP's protobuf encoding of logs: `ExportLogsServiceRequest`
 * (opentelemetry-proto collector/logs/v1, logs/v1, common/v1, resource/v1) read by walking the wire
 * format, and the answers written the same way (`ExportLogsServiceResponse` with its
 * `partial_success`, and `google.rpc.Status` for a refused request, as the OTLP/HTTP spec asks).
 * Walked by hand, as the Loki push's protobuf is (loki-push/proto.ts): it is the ingest hot path,
 * and it yields bigint nanoseconds directly. Unknown fields are skipped, as protobuf requires.
 */
import { Buffer } from 'node:buffer';
import { malformed } from '../errors.js';
import {
  type AnyValue,
  emptyLogRecord,
  emptyScope,
  idHex,
  type KeyValue,
  KvList,
  MAX_ANY_VALUE_DEPTH,
  type OtlpLogRecord,
  type OtlpResourceLogs,
  type OtlpScope,
  type OtlpScopeLogs,
} from './model.js';

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    public end: number,
  ) {
    this.pos = start;
  }

  eof(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('proto: unexpected EOF');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw malformed('proto: integer overflow');
  }

  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('proto: unexpected EOF');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw malformed('proto: integer overflow');
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw malformed('proto: unexpected EOF');
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw malformed('proto: unexpected EOF');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw malformed('proto: unexpected EOF');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field's [start, end). */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw malformed('proto: unexpected EOF');
    this.pos = end;
    return [start, end];
  }

  string(): string {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw malformed('proto: unexpected EOF');
    this.pos = end;
    return this.buf.toString('utf8', start, end);
  }

  bytes(): Uint8Array {
    const [s, e] = this.span();
    return this.buf.subarray(s, e);
  }

  /**
   * Enters a length-delimited field: returns the end of the outer message, and reads the inner one
   * until `leave(outer)` (one Reader for a whole request: no object per nested message).
   */
  enter(): number {
    const len = this.varint();
    const outer = this.end;
    const end = this.pos + len;
    if (end > outer) throw malformed('proto: unexpected EOF');
    this.end = end;
    return outer;
  }

  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  skip(wire: number): void {
    switch (wire) {
      case VARINT:
        this.varint64();
        return;
      case I64:
        this.pos += 8;
        break;
      case LEN:
        this.span();
        return;
      case I32:
        this.pos += 4;
        break;
      default:
        throw malformed(`proto: illegal wireType ${wire}`);
    }
    if (this.pos > this.end) throw malformed('proto: unexpected EOF');
  }
}

/** The field number of a tag (its wire type is `tag & 7`); 0 is illegal. */
function fieldOf(tag: number): number {
  const field = Math.floor(tag / 8);
  if (field === 0) throw malformed('proto: illegal tag 0');
  return field;
}

function expect(wire: number, want: number, field: string): void {
  if (wire !== want) throw malformed(`proto: wrong wireType = ${wire} for field ${field}`);
}

function anyValue(r: Reader, depth: number): AnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH)
    throw malformed(`proto: AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  let v: AnyValue = null;
  while (!r.eof()) {
    const ft = r.varint();
    const f = fieldOf(ft);
    const w = ft & 7;
    switch (f) {
      case 1:
        expect(w, LEN, 'StringValue');
        v = r.string();
        break;
      case 2:
        expect(w, VARINT, 'BoolValue');
        v = r.varint() !== 0;
        break;
      case 3:
        expect(w, VARINT, 'IntValue');
        v = r.varint64();
        break;
      case 4:
        expect(w, I64, 'DoubleValue');
        v = r.double();
        break;
      case 5: {
        expect(w, LEN, 'ArrayValue');
        const outer = r.enter();
        const values: AnyValue[] = [];
        while (!r.eof()) {
          const aft = r.varint();
          const af = fieldOf(aft);
          const aw = aft & 7;
          if (af === 1) {
            expect(aw, LEN, 'Values');
            const o = r.enter();
            values.push(anyValue(r, depth + 1));
            r.leave(o);
          } else r.skip(aw);
        }
        r.leave(outer);
        v = values;
        break;
      }
      case 6: {
        expect(w, LEN, 'KvlistValue');
        const outer = r.enter();
        v = new KvList(keyValues(r, depth + 1));
        r.leave(outer);
        break;
      }
      case 7:
        expect(w, LEN, 'BytesValue');
        v = r.bytes();
        break;
      default:
        r.skip(w);
    }
  }
  return v;
}

/** The `values` (field 1) of a KeyValueList. */
function keyValues(r: Reader, depth: number): KeyValue[] {
  const out: KeyValue[] = [];
  while (!r.eof()) {
    const ft = r.varint();
    const f = fieldOf(ft);
    const w = ft & 7;
    if (f === 1) {
      expect(w, LEN, 'Values');
      const o = r.enter();
      out.push(keyValue(r, depth));
      r.leave(o);
    } else r.skip(w);
  }
  return out;
}

function keyValue(r: Reader, depth: number): KeyValue {
  let key = '';
  let value: AnyValue = null;
  while (!r.eof()) {
    const ft = r.varint();
    const f = fieldOf(ft);
    const w = ft & 7;
    if (f === 1) {
      expect(w, LEN, 'Key');
      key = r.string();
    } else if (f === 2) {
      expect(w, LEN, 'Value');
      const o = r.enter();
      value = anyValue(r, depth + 1);
      r.leave(o);
    } else r.skip(w);
  }
  return { key, value };
}

function logRecord(r: Reader): OtlpLogRecord {
  const rec = emptyLogRecord();
  while (!r.eof()) {
    const ft = r.varint();
    const f = fieldOf(ft);
    const w = ft & 7;
    switch (f) {
      case 1:
        expect(w, I64, 'TimeUnixNano');
        rec.timeUnixNano = r.fixed64();
        break;
      case 11:
        expect(w, I64, 'ObservedTimeUnixNano');
        rec.observedTimeUnixNano = r.fixed64();
        break;
      case 2:
        expect(w, VARINT, 'SeverityNumber');
        rec.severityNumber = r.varint();
        break;
      case 3:
        expect(w, LEN, 'SeverityText');
        rec.severityText = r.string();
        break;
      case 5: {
        expect(w, LEN, 'Body');
        const o = r.enter();
        rec.body = anyValue(r, 0);
        r.leave(o);
        break;
      }
      case 6: {
        expect(w, LEN, 'Attributes');
        const o = r.enter();
        rec.attributes.push(keyValue(r, 0));
        r.leave(o);
        break;
      }
      case 7:
        expect(w, VARINT, 'DroppedAttributesCount');
        rec.droppedAttributesCount = r.varint();
        break;
      case 8:
        expect(w, I32, 'Flags');
        rec.flags = r.fixed32();
        break;
      case 9:
        expect(w, LEN, 'TraceId');
        rec.traceId = idHex(r.bytes());
        break;
      case 10:
        expect(w, LEN, 'SpanId');
        rec.spanId = idHex(r.bytes());
        break;
      default:
        r.skip(w);
    }
  }
  return rec;
}

function scope(r: Reader): OtlpScope {
  const s = emptyScope();
  while (!r.eof()) {
    const ft = r.varint();
    const f = fieldOf(ft);
    const w = ft & 7;
    if (f === 1) {
      expect(w, LEN, 'Name');
      s.name = r.string();
    } else if (f === 2) {
      expect(w, LEN, 'Version');
      s.version = r.string();
    } else if (f === 3) {
      expect(w, LEN, 'Attributes');
      const o = r.enter();
      s.attributes.push(keyValue(r, 0));
      r.leave(o);
    } else if (f === 4) {
      expect(w, VARINT, 'DroppedAttributesCount');
      s.droppedAttributesCount = r.varint();
    } else r.skip(w);
  }
  return s;
}

function scopeLogs(r: Reader, count: { n: number; max: number }): OtlpScopeLogs {
  const sl: OtlpScopeLogs = { scope: emptyScope(), logRecords: [] };
  while (!r.eof()) {
    const ft = r.varint();
    const f = fieldOf(ft);
    const w = ft & 7;
    if (f === 1) {
      expect(w, LEN, 'Scope');
      const o = r.enter();
      sl.scope = scope(r);
      r.leave(o);
    } else if (f === 2) {
      expect(w, LEN, 'LogRecords');
      if (++count.n > count.max) throw tooManyRecords(count.max);
      const o = r.enter();
      sl.logRecords.push(logRecord(r));
      r.leave(o);
    } else r.skip(w);
  }
  return sl;
}

function resourceLogs(r: Reader, count: { n: number; max: number }): OtlpResourceLogs {
  const rl: OtlpResourceLogs = { attributes: [], scopeLogs: [] };
  while (!r.eof()) {
    const ft = r.varint();
    const f = fieldOf(ft);
    const w = ft & 7;
    if (f === 1) {
      expect(w, LEN, 'Resource');
      const outer = r.enter();
      while (!r.eof()) {
        const rft = r.varint();
        const rf = fieldOf(rft);
        const rw = rft & 7;
        if (rf === 1) {
          expect(rw, LEN, 'Attributes');
          const o = r.enter();
          rl.attributes.push(keyValue(r, 0));
          r.leave(o);
        } else r.skip(rw);
      }
      r.leave(outer);
    } else if (f === 2) {
      expect(w, LEN, 'ScopeLogs');
      const o = r.enter();
      rl.scopeLogs.push(scopeLogs(r, count));
      r.leave(o);
    } else r.skip(w);
  }
  return rl;
}

export function tooManyRecords(max: number) {
  return malformed(`too many log records in one request: limit is ${max}`);
}

/** Decodes an `ExportLogsServiceRequest`; FormatError `malformed` when it is not one. */
export function decodeOtlpProto(buf: Buffer, maxRecords: number): OtlpResourceLogs[] {
  const r = new Reader(buf, 0, buf.length);
  const out: OtlpResourceLogs[] = [];
  const count = { n: 0, max: maxRecords };
  while (!r.eof()) {
    const ft = r.varint();
    const f = fieldOf(ft);
    const w = ft & 7;
    if (f === 1) {
      expect(w, LEN, 'ResourceLogs');
      const o = r.enter();
      out.push(resourceLogs(r, count));
      r.leave(o);
    } else r.skip(w);
  }
  return out;
}

function varintBytes(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const bytes: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    bytes.push(b);
  } while (v > 0n);
  return Buffer.from(bytes);
}

function lenField(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varintBytes(field * 8 + LEN), varintBytes(payload.length), payload]);
}

/** `ExportLogsServiceResponse`: empty when everything was taken, else its `partial_success`. */
export function encodeOtlpProtoResponse(rejected: number, errorMessage: string): Buffer {
  if (rejected === 0 && errorMessage === '') return Buffer.alloc(0);
  const parts: Buffer[] = [];
  if (rejected !== 0) parts.push(varintBytes(1 * 8 + VARINT), varintBytes(rejected));
  if (errorMessage !== '') parts.push(lenField(2, Buffer.from(errorMessage, 'utf8')));
  return lenField(1, Buffer.concat(parts));
}

/** `google.rpc.Status` {code, message}: the body of a refused OTLP/HTTP request. */
export function encodeRpcStatus(code: number, message: string): Buffer {
  const parts: Buffer[] = [];
  if (code !== 0) parts.push(varintBytes(1 * 8 + VARINT), varintBytes(code));
  if (message !== '') parts.push(lenField(2, Buffer.from(message, 'utf8')));
  return Buffer.concat(parts);
}

/**
 * @module The Fluentd forward protocol v1, server side (the reference server is Fluentd's
 * in_forward; the text is the "Forward Protocol Specification v1"): the four event modes of a
 * decoded top-level value, and the handshake's PING.
 *
 * - Message: `[tag, time, record, option?]`.
 * - Forward: `[tag, [[time, record], ...], option?]`.
 * - PackedForward: `[tag, entries, option?]`, `entries` a bin (or str) holding the concatenated
 *   msgpack of each `[time, record]`.
 * - CompressedPackedForward: the same with `option.compressed == "gzip"` and `entries` gzipped
 *   (several gzip members may follow one another, as the spec allows). fluent-logger sends
 *   `compressed: "text"` for plain PackedForward: anything but "gzip" is plain.
 * - time: an integer of seconds, a float (some loggers send one), or EventTime, ext type 0 of 8
 *   bytes: seconds and nanoseconds as big-endian uint32.
 * - option: `chunk` asks for `{ack: chunk}` once the events are stored; `size` and other keys are
 *   ignored (fluent-logger puts bytes in `size`, the spec events).
 *
 * Anything else is `malformed` (the listener drops the connection and logs why, as in_forward does);
 * a decompressed stream past `maxBytes`, or more than `maxEvents`, is `too-large`.
 */
import { gunzipSync } from 'node:zlib';
import { addExtension, Unpackr } from 'msgpackr';
import { FormatError, malformed } from '../errors.js';

/** EventTime (ext type 0): kept as nanoseconds since the epoch. */
class EventTime {
  constructor(readonly ns: bigint) {}
}

// msgpackr's extensions are global; type 0 is the forward protocol's EventTime everywhere it is read.
addExtension({
  type: 0,
  unpack(b: Buffer | Uint8Array): EventTime {
    if (b.length !== 8) throw malformed(`EventTime of ${b.length} bytes, not 8`);
    const v = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
    return new EventTime(BigInt(v.readUInt32BE(0)) * 1_000_000_000n + BigInt(v.readUInt32BE(4)));
  },
});

// Maps as plain objects; records (msgpackr's own extension) off: a peer's bytes are plain msgpack.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export type FluentRecord = Record<string, unknown>;

export interface ForwardEvent {
  readonly timeNs: bigint;
  readonly record: FluentRecord;
}

export interface ForwardMessage {
  readonly type: 'events';
  readonly mode: 'Message' | 'Forward' | 'PackedForward' | 'CompressedPackedForward';
  readonly tag: string;
  readonly events: ForwardEvent[];
  /** The chunk id to acknowledge, when the client asked for an ack. */
  readonly chunk?: string;
}

export interface Ping {
  readonly type: 'ping';
  readonly clientHostname: string;
  readonly sharedKeySalt: Buffer;
  readonly sharedKeyHexdigest: string;
  readonly username: string;
  readonly passwordDigest: string;
}

export interface DecodeLimits {
  /** Largest decompressed entries stream of a CompressedPackedForward message. */
  readonly maxBytes: number;
  /** Most events in one message. */
  readonly maxEvents: number;
}

/** Decodes one complete top-level msgpack value (see msgpack-framer.ts). */
export function unpackValue(bytes: Buffer): unknown {
  try {
    return unpackr.unpack(bytes);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw malformed(`invalid msgpack: ${(err as Error).message}`, err);
  }
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

const asBytes = (v: unknown): Buffer | undefined =>
  Buffer.isBuffer(v)
    ? v
    : v instanceof Uint8Array
      ? Buffer.from(v.buffer, v.byteOffset, v.length)
      : typeof v === 'string'
        ? Buffer.from(v, 'latin1')
        : undefined;

const asText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : undefined;

/** A forward time in nanoseconds; throws for anything that is not one. */
export function timeOf(v: unknown): bigint {
  if (v instanceof EventTime) return v.ns;
  if (typeof v === 'bigint' && v >= 0n) return v * 1_000_000_000n;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
    if (Number.isInteger(v)) return BigInt(v) * 1_000_000_000n;
    const s = Math.floor(v);
    return BigInt(s) * 1_000_000_000n + BigInt(Math.round((v - s) * 1e9));
  }
  throw malformed(`invalid event time ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`);
}

function event(entry: unknown, where: string): ForwardEvent {
  if (!Array.isArray(entry) || entry.length < 2) throw malformed(`${where}: an entry is not [time, record]`);
  const record = entry[1];
  if (!isMap(record)) throw malformed(`${where}: a record is not a map`);
  return { timeNs: timeOf(entry[0]), record };
}

function gunzipAll(data: Buffer, maxBytes: number): Buffer {
  try {
    // zlib reads concatenated gzip members as one stream, as the spec's "may be concatenated" needs.
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FormatError('too-large', `decompressed forward entries over the limit of ${maxBytes} bytes`);
    }
    throw malformed(`CompressedPackedForward entries are not gzip: ${(err as Error).message}`, err);
  }
}

function packedEvents(stream: Buffer, limits: DecodeLimits, where: string): ForwardEvent[] {
  const events: ForwardEvent[] = [];
  try {
    unpackr.unpackMultiple(stream, (entry: unknown) => {
      if (events.length >= limits.maxEvents) {
        throw new FormatError('too-large', `${where}: more than ${limits.maxEvents} events in one message`);
      }
      events.push(event(entry, where));
    });
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw malformed(`${where}: invalid msgpack in entries: ${(err as Error).message}`, err);
  }
  return events;
}

/** The events of a decoded top-level value, or the PING of a handshake. */
export function decodeForward(value: unknown, limits: DecodeLimits): ForwardMessage | Ping {
  if (!Array.isArray(value) || value.length < 2) throw malformed('a forward message is an array [tag, ...]');
  if (value[0] === 'PING') return ping(value);
  const tag = asText(value[0]);
  if (tag === undefined || tag === '') throw malformed('a forward message starts with a non-empty tag');
  const second = value[1];
  let optionAt = 2;
  let mode: ForwardMessage['mode'];
  let events: ForwardEvent[];
  if (Array.isArray(second)) {
    mode = 'Forward';
    if (second.length > limits.maxEvents) {
      throw new FormatError('too-large', `more than ${limits.maxEvents} events in one message`);
    }
    events = second.map((e) => event(e, 'Forward'));
  } else if (second instanceof Uint8Array || typeof second === 'string') {
    const option = isMap(value[2]) ? value[2] : {};
    const raw = asBytes(second)!;
    if (option.compressed === 'gzip') {
      mode = 'CompressedPackedForward';
      events = packedEvents(gunzipAll(raw, limits.maxBytes), limits, mode);
    } else {
      mode = 'PackedForward';
      events = packedEvents(raw, limits, mode);
    }
  } else {
    mode = 'Message';
    if (value.length < 3 || !isMap(value[2])) throw malformed('Message mode: [tag, time, record] with a map');
    events = [{ timeNs: timeOf(second), record: value[2] }];
    optionAt = 3;
  }
  const option = value[optionAt];
  if (option !== undefined && option !== null && !isMap(option)) throw malformed('the option is not a map');
  const chunk = isMap(option) ? option.chunk : undefined;
  if (chunk !== undefined && typeof chunk !== 'string') throw malformed('option.chunk is not a string');
  return { type: 'events', mode, tag, events, ...(chunk !== undefined ? { chunk } : {}) };
}

function ping(v: unknown[]): Ping {
  // ['PING', client_hostname, shared_key_salt, sha512_hex(...), username, password_digest]
  const host = asText(v[1]);
  const salt = asBytes(v[2]);
  const digest = asText(v[3]);
  if (v.length < 4 || host === undefined || salt === undefined || digest === undefined) {
    throw malformed('PING: expected ["PING", hostname, salt, digest, username, password digest]');
  }
  return {
    type: 'ping',
    clientHostname: host,
    sharedKeySalt: salt,
    sharedKeyHexdigest: digest,
    username: asText(v[4]) ?? '',
    passwordDigest: asText(v[5]) ?? '',
  };
}

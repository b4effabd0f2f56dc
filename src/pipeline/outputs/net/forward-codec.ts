/**
 * @module The Fluentd forward protocol v1, client side: PackedForward and CompressedPackedForward
 * messages, server responses (acks, HELO, PONG) read from a byte stream, and the shared-key digests
 * of the handshake.
 *
 * - PackedForward: `[tag, entries, option]` with `entries` a bin holding the concatenated msgpack of
 *   each `[EventTime, record]`, and `option` `{size, chunk}` (plus `compressed: "gzip"` for
 *   CompressedPackedForward, where `entries` is gzipped).
 * - EventTime is ext type 0 as fixext 8 (`0xd7 0x00`), seconds and nanoseconds as big-endian uint32.
 *   It is written by hand: msgpackr's `addExtension` cannot pack an extension of type 0.
 * - `chunk` is a unique id (16 random bytes in base64); the server answers `{ack: chunk}`.
 * - Handshake: the server sends `["HELO", {nonce, auth, keepalive}]`; the client answers
 *   `["PING", self_hostname, shared_key_salt, hex(sha512(salt + self_hostname + nonce + shared_key)),
 *   username, hex(sha512(auth + username + password))]`; the server answers `["PONG", ok, reason,
 *   server_hostname, hex(sha512(salt + server_hostname + nonce + shared_key))]`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { NS_PER_SECOND } from '../../../model/time.js';

export const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false });

/** EventTime: `d7 00` + seconds + nanoseconds (uint32 big-endian each). */
export function eventTime(ns: bigint): Buffer {
  const t = ns < 0n ? 0n : ns;
  const b = Buffer.alloc(10);
  b[0] = 0xd7;
  b[1] = 0x00;
  b.writeUInt32BE(Number((t / NS_PER_SECOND) & 0xffffffffn), 2);
  b.writeUInt32BE(Number(t % NS_PER_SECOND), 6);
  return b;
}

/** One `[EventTime, record]` entry. */
export function entry(ns: bigint, record: Readonly<Record<string, string>>): Buffer {
  return Buffer.concat([Buffer.from([0x92]), eventTime(ns), packr.pack(record)]);
}

export interface PackedMessage {
  readonly chunk: string;
  readonly bytes: Buffer;
}

/** A PackedForward (or, with `gzip`, CompressedPackedForward) message; `chunk` only when `ack`. */
export function packedForward(
  tag: string,
  entries: readonly Buffer[],
  gzip: boolean,
  ack = true,
): PackedMessage {
  const chunk = randomBytes(16).toString('base64');
  const stream = Buffer.concat(entries);
  const option: Record<string, string | number> = { size: entries.length };
  if (ack) option.chunk = chunk;
  if (gzip) option.compressed = 'gzip';
  const bytes = packr.pack([tag, gzip ? gzipSync(stream) : stream, option]);
  return { chunk, bytes: Buffer.from(bytes) };
}

/** Decodes the msgpack values of a byte stream as they complete. */
export class MsgpackReader {
  private buf: Buffer = Buffer.alloc(0);

  /** The complete values in `chunk` (and what was held back); throws on malformed data. */
  push(chunk: Buffer): unknown[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: unknown[] = [];
    let consumed = 0;
    try {
      unpackr.unpackMultiple(this.buf, (value: unknown, _start?: number, end?: number) => {
        out.push(value);
        consumed = end ?? this.buf.length;
      });
      consumed = this.buf.length;
    } catch (err) {
      if (!(err instanceof Error && (err as { incomplete?: boolean }).incomplete)) throw err;
      const last = (err as { lastPosition?: number }).lastPosition;
      if (typeof last === 'number') consumed = last;
    }
    this.buf = this.buf.subarray(consumed);
    return out;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
  }
}

/** The chunk id of an ack response, or undefined. */
export function ackOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const ack = (value as Record<string, unknown>).ack;
  return typeof ack === 'string' ? ack : undefined;
}

const asBuffer = (v: unknown): Buffer =>
  Buffer.isBuffer(v)
    ? v
    : v instanceof Uint8Array
      ? Buffer.from(v)
      : Buffer.from(typeof v === 'string' ? v : '');

export const sha512hex = (...parts: (Buffer | string)[]): string => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

export interface Helo {
  readonly nonce: Buffer;
  readonly auth: Buffer;
}

export function heloOf(value: unknown): Helo | undefined {
  if (!Array.isArray(value) || value[0] !== 'HELO') return undefined;
  const opts = (typeof value[1] === 'object' && value[1] !== null ? value[1] : {}) as Record<string, unknown>;
  return { nonce: asBuffer(opts.nonce), auth: asBuffer(opts.auth) };
}

export interface HandshakeCredentials {
  readonly sharedKey: string;
  readonly selfHostname: string;
  readonly username?: string;
  readonly password?: string;
}

/** `salt` is the shared key salt as sent (a hex string). */
export function ping(helo: Helo, c: HandshakeCredentials, salt: string): Buffer {
  const digest = sha512hex(salt, c.selfHostname, helo.nonce, c.sharedKey);
  const user = c.username ?? '';
  const passDigest = user === '' ? '' : sha512hex(helo.auth, user, c.password ?? '');
  return Buffer.from(packr.pack(['PING', c.selfHostname, salt, digest, user, passDigest]));
}

/** Checks a PONG; returns the reason it is not a success, or undefined. */
export function checkPong(
  value: unknown,
  helo: Helo,
  c: HandshakeCredentials,
  salt: string,
): string | undefined {
  if (!Array.isArray(value) || value[0] !== 'PONG') return 'expected PONG';
  const [, ok, reason, serverHost, digest] = value as unknown[];
  if (ok !== true) return `authentication failed: ${String(reason ?? '')}`;
  const want = sha512hex(salt, String(serverHost ?? ''), helo.nonce, c.sharedKey);
  if (digest !== want) return 'the server did not prove it knows the shared key';
  return undefined;
}

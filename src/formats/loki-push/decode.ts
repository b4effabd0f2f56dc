/**
 * @module A `POST /loki/api/v1/push` body to streams, with Loki's choices (pkg/loghttp/push/push.go):
 *
 * - Content-Encoding: none, `snappy` (accepted and ignored: protobuf is always snappy-decoded),
 *   `gzip`, `deflate` (raw DEFLATE, as Go's compress/flate reads it, not zlib-wrapped); anything
 *   else fails with `Content-Encoding "br" not supported`. Names are matched exactly, as Go does.
 * - Content-Type goes through Go's mime.ParseMediaType: `application/json` (any parameters) is
 *   JSON; every other type is snappy-compressed protobuf. Loki returns no 415: an unknown type is
 *   read as protobuf and fails there. (The server answers 415 before decoding for types that are
 *   never a push, such as a form or text: src/api/loki/routes.ts.) A missing Content-Type fails with `mime: no media type`
 *   (Loki's comment says it means protobuf, but the parse rejects it first).
 * - Each stream's labels are parsed here, and a bad one fails the whole request with
 *   `couldn't parse labels: ...`, as Loki's ParseLokiRequest does before validation.
 *
 * Every failure is a FormatError (../errors.ts): `malformed` (the API answers 400, Loki's status for
 * a push it cannot parse), or `too-large` for a body over the size limits (413 `request body too
 * large: ...` as in Loki's push handler).
 *
 * Bounds Loki does not have, because a small body must not cost the server gigabytes: a JSON body
 * deeper than 1,000 levels or with more than 2 million values is refused before it is parsed
 * (src/util/json-bounds.ts), and a push of more than `maxEntries` entries (or streams) is refused
 * while it is decoded, before its entries are built: each costs a few hundred bytes of heap however
 * empty, so 60 KB of gzip'd `[],[],…` once ran the heap out. `inflatePushBody` undoes gzip and
 * deflate as a stream, so the JSON scanner refuses a bomb after its first kilobytes.
 */
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { goQuote } from '../../go/quote.js';
import { checkJsonBounds, DEFAULT_JSON_BOUNDS, JsonBoundsError } from '../../util/json-bounds.js';
import { withJsonText } from '../../util/json-text.js';
import { snappyUncompress } from '../../util/snappy.js';
import { FormatError, jsonBoundsFormatError, malformed } from '../errors.js';
import { decodeJsonPush } from './json.js';
import { LabelParseError, parseLabels } from './labels.js';
import { parseMediaType } from './media-type.js';
import { decodePushRequest } from './proto.js';
import type { DecodedStream, PushStream } from './types.js';

export interface DecodeOptions {
  /** Largest body accepted as received (compressed). */
  maxBodyBytes?: number;
  /** Largest body accepted once gzip, deflate or snappy is undone. */
  maxDecompressedBytes?: number;
  /** Most entries one push may hold (streams count as entries too); DEFAULT_MAX_PUSH_ENTRIES. */
  maxEntries?: number;
  /** The JSON text was already checked against the JSON bounds as it arrived. */
  jsonBoundsChecked?: boolean;
}

/**
 * Entries per push. Clients batch fewer: Promtail and Alloy send about 1 MiB, Vector at most
 * 100,000 events. An entry the server refuses costs about 650 bytes of heap however empty (measured:
 * 246,000 empty entries took the server from 112 to 276 MB), so this keeps one push near 65 MB.
 */
export const DEFAULT_MAX_PUSH_ENTRIES = 100_000;

/**
 * 100 MiB for both limits. Loki takes its limit per tenant (MaxPushSize) and we could not confirm
 * its default; 100 MiB is far above what agents send (Promtail and Alloy batch about 1 MiB).
 */
export const DEFAULT_MAX_PUSH_BYTES = 100 * 1024 * 1024;

function tooLarge(what: string, size: number, max: number): FormatError {
  // Loki: "request body too large: " + "%w than max (%d vs %d)".
  return new FormatError('too-large', `request body too large: ${what} than max (${size} vs ${max})`);
}

function zlibError(err: unknown, kind: 'gzip' | 'flate', max: number): FormatError {
  if (err instanceof FormatError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ERR_BUFFER_TOO_LARGE') return tooLarge('decompressed message size too large', max + 1, max);
  const detail = e.message ?? String(err);
  if (detail.includes('unexpected end of file')) return malformed('unexpected EOF', err);
  if (kind === 'gzip' && detail.includes('incorrect header check')) {
    return malformed('gzip: invalid header', err);
  }
  if (kind === 'gzip' && detail.includes('incorrect data check')) {
    return malformed('gzip: invalid checksum', err);
  }
  return malformed(`${kind}: corrupt input (${detail})`, err);
}

function inflated(out: Buffer, max: number): Buffer {
  // maxOutputLength lets through exactly max + 1 bytes, one too many.
  if (out.length > max) throw tooLarge('decompressed message size too large', out.length, max);
  return out;
}

/** Undoes gzip or deflate as a stream, handing each inflated chunk to `onChunk` (which may throw). */
function inflateStream(
  body: Buffer,
  kind: 'gzip' | 'flate',
  max: number,
  onChunk: ((chunk: Buffer) => void) | undefined,
): Promise<Buffer> {
  const z = kind === 'gzip' ? zlib.createGunzip() : zlib.createInflateRaw();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      z.destroy();
      reject(err instanceof JsonBoundsError ? jsonBoundsFormatError(err) : zlibError(err, kind, max));
    };
    z.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > max) {
        fail(tooLarge('decompressed message size too large', size, max));
        return;
      }
      try {
        onChunk?.(chunk);
      } catch (err) {
        fail(err);
        return;
      }
      chunks.push(chunk);
    });
    z.on('error', fail);
    z.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    z.end(body);
  });
}

/**
 * The body with its Content-Encoding undone, as `decodePushBody` does it, but gzip and deflate as a
 * stream whose chunks `onChunk` sees (the JSON bounds scanner), so a bomb stops inflating early.
 */
export async function inflatePushBody(
  body: Buffer,
  contentEncoding: string | undefined,
  max: number,
  onChunk?: (chunk: Buffer) => void,
): Promise<Buffer> {
  const encoding = contentEncoding ?? '';
  if (encoding === 'gzip') {
    if (body.length === 0) throw malformed('EOF');
    return inflateStream(body, 'gzip', max, onChunk);
  }
  if (encoding === 'deflate') return inflateStream(body, 'flate', max, onChunk);
  const plain = decompress(body, encoding, max);
  onChunk?.(plain);
  return plain;
}

function decompress(body: Buffer, encoding: string, max: number): Buffer {
  switch (encoding) {
    case '':
    case 'snappy':
      return body;
    case 'gzip':
      // Go's gzip.NewReader fails on an empty body with io.EOF's text.
      if (body.length === 0) throw malformed('EOF');
      try {
        return inflated(zlib.gunzipSync(body, { maxOutputLength: max + 1 }), max);
      } catch (err) {
        throw zlibError(err, 'gzip', max);
      }
    case 'deflate':
      try {
        return inflated(zlib.inflateRawSync(body, { maxOutputLength: max + 1 }), max);
      } catch (err) {
        throw zlibError(err, 'flate', max);
      }
    default:
      throw malformed(`Content-Encoding ${goQuote(encoding)} not supported`);
  }
}

/** The decoded length a raw snappy block announces (its leading uvarint), or -1 if unreadable. */
function snappyDecodedLength(block: Buffer): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < block.length && i < 5; i++) {
    const b = block[i]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 128;
  }
  return -1;
}

function unsnappy(block: Buffer, max: number, mediaType: string): Buffer {
  // Loki's text is Go's snappy error alone; a client that sent JSON or text under another type
  // learns why its body was taken for protobuf.
  const hint =
    mediaType === 'application/x-protobuf'
      ? ''
      : ` (a Content-Type other than application/json means snappy-compressed protobuf, got ${goQuote(mediaType)})`;
  const size = snappyDecodedLength(block);
  if (size < 0) throw malformed(`snappy: corrupt input${hint}`);
  if (size > 0xffffffff) throw malformed(`snappy: decoded block is too large${hint}`);
  if (size > max) throw tooLarge('message size too large', size, max);
  try {
    return snappyUncompress(block);
  } catch (err) {
    // Go's snappy says "snappy: corrupt input"; the native one adds where it broke, which we keep.
    const detail = (err as Error).message;
    const message = detail.startsWith('snappy: ') ? detail : `snappy: corrupt input (${detail})`;
    throw malformed(`${message}${hint}`, err);
  }
}

/** Parses each stream's labels (cached per distinct string) into a PushStream. */
function withLabels(decoded: DecodedStream[]): PushStream[] {
  const out: PushStream[] = new Array(decoded.length);
  for (let i = 0; i < decoded.length; i++) {
    const d = decoded[i]!;
    try {
      const parsed = parseLabels(d.labelsText);
      out[i] = {
        labelsText: parsed.text,
        labels: parsed.labels as Record<string, string>,
        entries: d.entries,
      };
    } catch (err) {
      if (err instanceof LabelParseError) {
        throw malformed(`couldn't parse labels: ${err.message}`, err);
      }
      throw err;
    }
  }
  return out;
}

/**
 * Decodes a push body as Loki does. Throws FormatError (malformed, or too-large over the size
 * limits) with a message in Loki's words.
 */
export function decodePushBody(
  body: Buffer,
  contentType: string | undefined,
  contentEncoding: string | undefined,
  options: DecodeOptions = {},
): PushStream[] {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_PUSH_BYTES;
  const maxDecompressed = options.maxDecompressedBytes ?? DEFAULT_MAX_PUSH_BYTES;
  if (body.length > maxBody) throw tooLarge('message size too large', body.length, maxBody);

  const encoding = contentEncoding ?? '';
  // gzip and deflate stop at the limit (zlib's maxOutputLength); snappy is checked before decoding.
  const plain = decompress(body, encoding, maxDecompressed);
  return decodeInflatedPushBody(plain, contentType, options);
}

/** `decodePushBody` after its Content-Encoding step: `plain` is what `inflatePushBody` returned. */
export function decodeInflatedPushBody(
  plain: Buffer,
  contentType: string | undefined,
  options: DecodeOptions = {},
): PushStream[] {
  const maxDecompressed = options.maxDecompressedBytes ?? DEFAULT_MAX_PUSH_BYTES;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_PUSH_ENTRIES;
  let mediaType: string;
  try {
    mediaType = parseMediaType(contentType ?? '');
  } catch (err) {
    throw malformed((err as Error).message, err);
  }

  if (mediaType === 'application/json') {
    if (!options.jsonBoundsChecked) {
      try {
        checkJsonBounds(plain, DEFAULT_JSON_BOUNDS);
      } catch (err) {
        throw err instanceof JsonBoundsError ? jsonBoundsFormatError(err) : err;
      }
    }
    return withLabels(withJsonText(plain, (text) => decodeJsonPush(text, maxEntries)));
  }
  // Any other type, application/x-protobuf included: snappy-compressed protobuf.
  return withLabels(decodePushRequest(unsnappy(plain, maxDecompressed, mediaType), maxEntries));
}

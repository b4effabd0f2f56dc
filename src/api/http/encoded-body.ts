/**
 * @module A receiver's request body, read with its limit and its Content-Encoding undone (gzip, and
 * deflate), as the Loki push reads its own (api/loki/push-body.ts): the body's bytes are limited
 * as they arrive (413 naming the limit), the inflated bytes as they inflate, and a JSON body is fed
 * to the depth and value scanner on the way, so a bomb is refused after its first kilobytes.
 */
import type { IncomingMessage } from 'node:http';
import { inflatePushBody } from '../../formats/loki-push/index.js';
import { JsonBoundsError, JsonBoundsScanner } from '../../util/json-bounds.js';
import { readBody } from './body.js';
import { HttpError, jsonBoundsHttpError } from './errors.js';

export interface EncodedBodyOptions {
  /** Bytes of the body as sent, and once inflated. */
  readonly maxBodyBytes: number;
  /** Scan the (inflated) body as JSON text for its depth and number of values. */
  readonly json?: boolean;
  /** Told how many bytes arrived, even when the body is then refused (the receivers' counters). */
  readonly onWireBytes?: (n: number) => void;
}

const ENCODINGS = ['gzip', 'deflate'];

/** The request's Content-Encoding, lower-cased; '' when it has none or says `identity`. */
export function contentEncoding(req: IncomingMessage): string {
  const raw = req.headers['content-encoding']?.trim().toLowerCase() ?? '';
  return raw === 'identity' ? '' : raw;
}

/** The body, inflated; HttpError 413/415, FormatError for a broken gzip stream. */
export async function readEncodedBody(req: IncomingMessage, opts: EncodedBodyOptions): Promise<Buffer> {
  const encoding = contentEncoding(req);
  if (encoding !== '' && !ENCODINGS.includes(encoding)) {
    req.resume();
    throw new HttpError(
      415,
      `unsupported Content-Encoding ${JSON.stringify(encoding)}: send gzip, deflate or identity`,
    );
  }
  const scanner = opts.json ? new JsonBoundsScanner() : undefined;
  const scan = scanner && ((chunk: Buffer) => scanner.write(chunk));
  let received = 0;
  try {
    const body = await readBody(req, opts.maxBodyBytes, (chunk) => {
      received += chunk.length;
      if (encoding === '') scan?.(chunk);
    });
    opts.onWireBytes?.(body.length);
    received = -1;
    return encoding === '' ? body : await inflatePushBody(body, encoding, opts.maxBodyBytes, scan);
  } catch (err) {
    if (received >= 0) opts.onWireBytes?.(received);
    throw err instanceof JsonBoundsError ? jsonBoundsHttpError(err) : err;
  }
}

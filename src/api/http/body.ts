/**
 * @module Reading a request body with a size limit: a body over the limit is a 413 and reading stops
 * at once, so an oversized request costs no more memory than the limit. An optional check sees each
 * chunk as it arrives (the JSON depth scanner): when it throws, reading stops the same way.
 *
 * The promise always settles: a body already read elsewhere fails at once (it would otherwise wait
 * for an `end` that has passed), and a client that goes away mid-body fails it on `close`.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

export function readBody(
  req: IncomingMessage,
  limit: number,
  onChunk?: (chunk: Buffer) => void,
): Promise<Buffer> {
  if (req.readableEnded || req.readableDidRead) {
    return Promise.reject(new Error('request body already read: a second reader would wait forever'));
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const stop = (err: unknown): void => {
      settled = true;
      req.removeListener('data', onData);
      req.resume();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        stop(tooLarge(limit));
        return;
      }
      try {
        onChunk?.(chunk);
      } catch (err) {
        stop(err);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!settled) stop(err);
    });
    req.on('close', () => {
      if (!settled) stop(new Error('the client closed the connection before the request body was complete'));
    });
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body too large: limit is ${limit} bytes`);
}

export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Whether the request carries a body (RFC 9112 §6.3: a Content-Length above 0 or a Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return length !== 0;
}

/** The body's media type, lower-cased without parameters; undefined without a Content-Type. */
export function bodyMediaType(req: IncomingMessage): string | undefined {
  const value = req.headers['content-type'];
  if (value === undefined) return undefined;
  return value.split(';', 1)[0]!.trim().toLowerCase();
}

/**
 * The 415 for a body of a type the route does not read (RFC 9110 §15.5.16), naming those it does.
 * Answered at once: the handler never waits for a body it will not read.
 */
export function checkBodyType(
  req: IncomingMessage,
  path: string,
  accepted: readonly string[] | undefined,
): void {
  if (accepted === undefined || !hasBody(req)) return;
  const type = bodyMediaType(req);
  if (type === undefined || accepted.includes(type)) return;
  throw new HttpError(
    415,
    `unsupported Content-Type ${JSON.stringify(type)}: ${path} takes ${accepted.join(' or ')}`,
  );
}

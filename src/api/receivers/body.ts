/**
 * @module The body of an HTTP receiver's request: read up to the server's `--max-body-size`
 * (413 past it, naming the limit), then inflated per `Content-Encoding` (gzip, deflate) up to the
 * same limit once decompressed, so a small compressed body cannot grow past it in memory.
 */
import type { IncomingMessage } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { readBody } from '../http/body.js';
import { HttpError } from '../http/errors.js';

export async function readReceiverBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const raw = await readBody(req, limit);
  const encoding = (req.headers['content-encoding'] ?? '').toLowerCase().trim();
  if (encoding === '' || encoding === 'identity') return raw;
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    throw new HttpError(415, `unsupported Content-Encoding ${JSON.stringify(encoding)}: use gzip or deflate`);
  }
  try {
    return encoding === 'gzip'
      ? gunzipSync(raw, { maxOutputLength: limit })
      : inflateSync(raw, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, `request body too large once decompressed: limit is ${limit} bytes`);
    }
    throw new HttpError(400, `the ${encoding} body does not decompress: ${(err as Error).message}`);
  }
}

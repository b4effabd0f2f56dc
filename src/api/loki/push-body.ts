/**
 * @module Reading a push body off the request with its bounds checked as it arrives: a JSON body is
 * fed to the depth and value scanner chunk by chunk as it is received, or as it inflates when it is
 * gzip'd or deflated, so a nested-JSON bomb is refused (400) after its first kilobytes, with no more
 * memory than those, instead of being inflated to tens of MB and parsed into gigabytes.
 */
import type { IncomingMessage } from 'node:http';
import {
  type DecodeOptions,
  decodeInflatedPushBody,
  inflatePushBody,
  type PushStream,
  parseMediaType,
} from '../../formats/loki-push/index.js';
import { JsonBoundsError, JsonBoundsScanner } from '../../util/json-bounds.js';
import { readBody } from '../http/body.js';
import { jsonBoundsHttpError } from '../http/errors.js';

export interface PushBodyOptions extends DecodeOptions {
  readonly maxBodyBytes: number;
  readonly maxDecompressedBytes: number;
}

/** Whether the Content-Type is JSON (else the body is protobuf, or the decoder will say it is bad). */
function isJson(contentType: string | undefined): boolean {
  try {
    return parseMediaType(contentType ?? '') === 'application/json';
  } catch {
    return false;
  }
}

/** Reads, inflates and decodes a push body; FormatError as `decodePushBody` throws them. */
export async function readPushBody(req: IncomingMessage, opts: PushBodyOptions): Promise<PushStream[]> {
  const contentType = req.headers['content-type'];
  const encoding = req.headers['content-encoding'];
  const scanner = isJson(contentType) ? new JsonBoundsScanner() : undefined;
  const scan = scanner && ((chunk: Buffer) => scanner.write(chunk));
  try {
    const identity = encoding === undefined || encoding === '' || encoding === 'snappy';
    const body = await readBody(req, opts.maxBodyBytes, identity ? scan : undefined);
    const plain = await inflatePushBody(
      body,
      encoding,
      opts.maxDecompressedBytes,
      identity ? undefined : scan,
    );
    return decodeInflatedPushBody(plain, contentType, { ...opts, jsonBoundsChecked: scanner !== undefined });
  } catch (err) {
    throw err instanceof JsonBoundsError ? jsonBoundsHttpError(err) : err;
  }
}

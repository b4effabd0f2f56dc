/**
 * @module Every request's id: the client's `X-Request-Id` when it sent a usable one (a proxy's or
 * an ingress's id, so that their logs and ours name the request alike), else a new one. It is
 * answered in `X-Request-Id`, and the server's log line of a failed request carries it, so a user
 * can hand the operator the id of the error they met.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What a client's id may be: the characters of UUIDs, ULIDs, hex, base64 and Envoy's or nginx's
 * ids, at most 128 of them. Anything else (spaces, quotes, control characters, a long value) is
 * replaced, so an id can neither forge nor bloat a log line.
 */
const CLIENT_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/** A random prefix per process and a counter: unique without a random draw per request. */
const PREFIX = randomBytes(4).toString('hex');
let seq = 0;

export function newRequestId(): string {
  seq = (seq + 1) >>> 0;
  return PREFIX + seq.toString(16).padStart(8, '0');
}

/** The request's id: the client's if it is usable, else a new one. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && CLIENT_ID.test(given) ? given : newRequestId();
}

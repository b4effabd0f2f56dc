/**
 * @module Continue tokens for paged lists: opaque to clients, validated here. A token carries the
 * position after the last item of the page (timestamp and sequence number), the time window of the
 * first page (so that later pages read the same window however long the client takes), the list's
 * resourceVersion and a fingerprint of the request, so that a token is only good for the list
 * that issued it. A checksum catches damaged tokens.
 */
import { createHash } from 'node:crypto';
import { KubeError } from './status.js';

export interface ContinueState {
  /** Fingerprint of resource, namespace and selectors. */
  readonly query: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly afterTimestamp: bigint;
  readonly afterSeq: bigint;
  readonly resourceVersion: string;
}

const VERSION = 1;

export function queryFingerprint(parts: readonly (string | undefined)[]): string {
  return createHash('sha256')
    .update(JSON.stringify(parts.map((p) => p ?? null)))
    .digest('base64url')
    .slice(0, 16);
}

function checksum(body: string): string {
  return createHash('sha256').update(`kjournal-continue:${body}`).digest('base64url').slice(0, 12);
}

export function encodeContinue(state: ContinueState): string {
  const body = JSON.stringify([
    VERSION,
    state.query,
    state.start.toString(),
    state.end.toString(),
    state.afterTimestamp.toString(),
    state.afterSeq.toString(),
    state.resourceVersion,
  ]);
  return Buffer.from(`${body}.${checksum(body)}`, 'utf8').toString('base64url');
}

const invalid = (why: string): KubeError =>
  new KubeError(400, 'BadRequest', `continue key is not valid: ${why}`);

const INT = /^-?\d{1,20}$/;

/** Decodes and checks a token against the request's fingerprint; a 400 Status when it is not one. */
export function decodeContinue(token: string, query: string): ContinueState {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid('not a token this server issued');
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const dot = text.lastIndexOf('.');
  if (dot < 0) throw invalid('not a token this server issued');
  const body = text.slice(0, dot);
  if (checksum(body) !== text.slice(dot + 1)) throw invalid('damaged or not a token this server issued');
  let parts: unknown;
  try {
    parts = JSON.parse(body);
  } catch {
    throw invalid('damaged');
  }
  if (!Array.isArray(parts) || parts.length !== 7 || parts[0] !== VERSION) {
    throw invalid('issued by another version of the server');
  }
  const [, q, start, end, ts, seq, rv] = parts as unknown[];
  if (
    typeof q !== 'string' ||
    typeof rv !== 'string' ||
    ![start, end, ts, seq].every((v) => typeof v === 'string' && INT.test(v))
  ) {
    throw invalid('damaged');
  }
  if (q !== query) {
    throw invalid('it belongs to a list with another resource, namespace or selector');
  }
  return {
    query: q,
    start: BigInt(start as string),
    end: BigInt(end as string),
    afterTimestamp: BigInt(ts as string),
    afterSeq: BigInt(seq as string),
    resourceVersion: rv,
  };
}

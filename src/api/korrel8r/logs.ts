/**
 * @module GET /api/v1/korrel8r/logs?query=log:<class>:<selector>&limit=&start=&end=: korrel8r log
 * objects as a JSON array, oldest first. Errors are JSON `{"error": "..."}` with the status.
 */
import type { GetLogsOptions } from '../../korrel8r/get.js';
import type { LogObject } from '../../korrel8r/objects.js';
import { type Korrel8rLogQuery, Korrel8rQueryError, parseKorrel8rQuery } from '../../korrel8r/query.js';
import { nowNs } from '../../model/time.js';
import { badRequest } from '../http/errors.js';
import { ERROR_ID_HEADER } from '../http/internal-error.js';
import { type ErrorHandler, type Handler, json } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { lokiErrorReply } from '../loki/errors.js';
import { parseLimit, parseRange } from '../loki/params.js';

export interface Korrel8rLogsOptions {
  /** korrel8r's log objects from the store (src/korrel8r/get.ts, bound to the store). */
  readonly getLogs: (query: Korrel8rLogQuery, opts: GetLogsOptions) => Promise<LogObject[]>;
  readonly maxEntriesLimit: number;
  readonly now?: () => bigint;
  /** A query still running after this is cancelled (504); default one minute. */
  readonly queryTimeoutMs?: number;
}

export function korrel8rLogsHandler(opts: Korrel8rLogsOptions): Handler {
  const now = opts.now ?? nowNs;
  return async ({ req, params, signal, restriction }) => {
    const tenant = tenantOf(req.headers['x-scope-orgid']);
    const text = params.get('query');
    if (text === null || text.trim() === '') throw badRequest('query must not be empty');
    const query = parseKorrel8rQuery(text);
    const { start, end } = parseRange(params, now());
    const limit = parseLimit(params.get('limit'), 100, opts.maxEntriesLimit);
    const objects = await opts.getLogs(query, {
      tenant,
      start,
      end: end + 1n,
      limit,
      signal: signal ?? AbortSignal.timeout(opts.queryTimeoutMs ?? 60_000),
      ...(restriction ? { restriction } : {}),
    });
    return json(200, objects);
  };
}

export const korrel8rErrorReply: ErrorHandler = (err) => {
  if (err instanceof Korrel8rQueryError) return json(400, { error: err.message });
  const reply = lokiErrorReply(err);
  const message = typeof reply.body === 'string' ? reply.body.trimEnd() : 'error';
  const out = json(reply.status, { error: message });
  // Retry-After and an internal error's id go along.
  const kept = Object.entries(reply.headers ?? {}).filter(
    ([k]) => k === 'retry-after' || k === ERROR_ID_HEADER,
  );
  return kept.length === 0 ? out : { ...out, headers: { ...out.headers, ...Object.fromEntries(kept) } };
};

/**
 * @module The Loki API's one error-to-response place: plain text with the status, as Loki answers.
 */
import { ForbiddenError } from '../../auth/errors.js';
import { DiskFullError } from '../../journal/disk-full.js';
import { RefusedRecordsError } from '../../journal/errors.js';
import { LogqlParseError, LogqlUnsupportedError } from '../../logql/errors.js';
import { LogPipelineCompileError } from '../../logql/stages/errors.js';
import { QueryMemoryLimitError, TooManyOutstandingQueriesError } from '../../query/admission.js';
import {
  LogPipelineError,
  MetricEvalError,
  MetricLimitError,
  QueryCancelledError,
} from '../../query/metric/index.js';
import { PatternLimitError } from '../../query/patterns/mine.js';
import { DamagedDataError, StoreQueryError, StoreUnavailableError } from '../../query/scan.js';
import { ClientGoneError } from '../http/admit.js';
import { asHttpError } from '../http/errors.js';
import { ERROR_ID_HEADER, internalError } from '../http/internal-error.js';
import { type Reply, text } from '../http/router.js';

export function lokiErrorReply(err: unknown): Reply {
  const http = asHttpError(err);
  if (http) return text(http.status, `${http.message}\n`);
  if (err instanceof ForbiddenError) return text(403, `${err.message}\n`);
  // Records the journal refuses (a stream of another class, an entry the store cannot take).
  if (err instanceof RefusedRecordsError) return text(400, `${err.message}\n`);
  // A full data volume (journal/disk-full.ts): 507 with Retry-After, which Loki's clients retry.
  if (err instanceof DiskFullError) {
    const reply = text(507, `${err.message}\n`);
    return { ...reply, headers: { ...reply.headers, 'retry-after': String(err.retryAfterSeconds) } };
  }
  if (err instanceof LogqlParseError) return text(400, `${err.message}\n`);
  if (err instanceof LogqlUnsupportedError) return text(400, `${err.message}\n`);
  // A stage Loki refuses when it builds the pipeline (`| json a="a..b"`): the query's fault.
  if (err instanceof LogPipelineCompileError) return text(400, `${err.message}\n`);
  if (err instanceof MetricLimitError || err instanceof LogPipelineError || err instanceof MetricEvalError) {
    return text(400, `${err.message}\n`);
  }
  // Loki's query frontend: "too many outstanding requests" is a 429 (here with a Retry-After).
  if (err instanceof TooManyOutstandingQueriesError) {
    return {
      status: 429,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': String(err.retryAfterSeconds) },
      body: `${err.message}\n`,
    };
  }
  if (err instanceof QueryMemoryLimitError) return text(503, `${err.message}\n`);
  // A bound of pattern detection (query/patterns/mine.ts): narrow the query, as for a metric limit.
  if (err instanceof PatternLimitError) return text(400, `${err.message}\n`);
  // Nobody reads the answer; Loki logs such a cancellation as 499 (nginx's "client closed request").
  if (err instanceof ClientGoneError) return text(499, `${err.message}\n`);
  // Loki's query frontend answers a query past its timeout with 504.
  if (err instanceof QueryCancelledError) return text(504, `${err.message}\n`);
  // The store rejects with the deadline's own reason (AbortSignal.timeout).
  if (err instanceof DOMException && err.name === 'TimeoutError') {
    return text(504, 'query timed out: context deadline exceeded\n');
  }
  // A shared store (ClickHouse) that cannot be reached: 503 with Retry-After, which pushers retry.
  if (err instanceof StoreUnavailableError) {
    const reply = text(503, `${err.message}\n`);
    return { ...reply, headers: { ...reply.headers, 'retry-after': String(err.retryAfterSeconds) } };
  }
  // A read the shared store refused (its reason) or ran out of time for.
  if (err instanceof StoreQueryError) {
    if (err.kind === 'timeout') return text(504, `${err.message}\n`);
    if (err.kind === 'busy') {
      const reply = text(429, `${err.message}\n`);
      return { ...reply, headers: { ...reply.headers, 'retry-after': '1' } };
    }
    return text(400, `${err.message}\n`);
  }
  // Damaged stored data: a 500 that names the part (relative to the data directory), no contents.
  if (err instanceof DamagedDataError) return text(500, `${err.message}\n`);
  const { id, message } = internalError(err);
  const reply = text(500, `${message}\n`);
  return { ...reply, headers: { ...reply.headers, [ERROR_ID_HEADER]: id } };
}

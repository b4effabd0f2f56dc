/**
 * @module The OTLP/HTTP logs receiver's routes (api/otlp/logs.ts) and its one error-to-response
 * place: a `google.rpc.Status` in the request's encoding, as the OTLP/HTTP spec asks of a refused
 * request ("Failures"), with the status and Retry-After of api/receivers/errors.ts. Writes are
 * refused before the body is read while the disk is full or writes queue (api/receivers/intake.ts).
 */
import { encodeRpcStatus } from '../../formats/otlp/index.js';
import { bodyMediaType } from '../http/body.js';
import type { ErrorHandler, Reply, Router } from '../http/router.js';
import { guardWrites } from '../http/write-guard.js';
import { receiverError, receiverErrorHeaders } from '../receivers/errors.js';
import { isOtlpJson, OTLP_JSON, OTLP_PROTO_TYPES, type OtlpOptions, otlpLogsHandler } from './logs.js';

/** The paths: Loki 3's, and OTLP/HTTP's default. */
export const OTLP_LOGS_PATHS = ['/otlp/v1/logs', '/v1/logs'] as const;

/** gRPC status codes (google.rpc.Code) for the HTTP statuses a receiver answers. */
function grpcCode(status: number): number {
  if (status === 401) return 16; // UNAUTHENTICATED
  if (status === 403) return 7; // PERMISSION_DENIED
  if (status === 413 || status === 429) return 8; // RESOURCE_EXHAUSTED
  if (status === 503 || status === 507) return 14; // UNAVAILABLE
  if (status >= 500) return 13; // INTERNAL
  return 3; // INVALID_ARGUMENT
}

export function otlpErrorReply(err: unknown, req: Parameters<ErrorHandler>[1]['req']): Reply {
  const e = receiverError(err, 503);
  const json = isOtlpJson(bodyMediaType(req));
  const code = grpcCode(e.status);
  return {
    status: e.status,
    headers: {
      'content-type': json ? OTLP_JSON : 'application/x-protobuf',
      ...receiverErrorHeaders(e),
    },
    body: json ? JSON.stringify({ code, message: e.message }) : encodeRpcStatus(code, e.message),
  };
}

export function registerOtlpApi(router: Router, o: OtlpOptions): void {
  const handler = guardWrites(otlpLogsHandler(o), o.intake);
  const onError: ErrorHandler = (err, ctx) => otlpErrorReply(err, ctx.req);
  for (const path of OTLP_LOGS_PATHS) {
    router.add(['POST'], path, handler, onError, { bodyTypes: [OTLP_JSON, ...OTLP_PROTO_TYPES] });
  }
}

/**
 * @module Kubernetes `Status` errors: every failure on the `core.kjournal` API is answered as
 * kube-apiserver answers it (`kind: Status`, `status: Failure`, a reason and the HTTP code), never as
 * plain text.
 */

/** The reasons kjournal answers with (metav1.StatusReason). */
export type StatusReason =
  | 'BadRequest'
  | 'NotFound'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'Timeout'
  | 'InternalError'
  | 'Unauthorized'
  | 'Forbidden'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'ServiceUnavailable';

const REASON_OF_CODE: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** An error that becomes a Kubernetes Status with this code and reason. */
export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const kubeBadRequest = (message: string): KubeError => new KubeError(400, 'BadRequest', message);

export function kubeNotFound(resource: string, name: string): KubeError {
  return new KubeError(404, 'NotFound', `${resource}.core.kjournal "${name}" not found`, {
    name,
    group: 'core.kjournal',
    kind: resource,
  });
}

/** The reason kube-apiserver gives for an HTTP code. */
export function reasonOf(code: number): StatusReason {
  return REASON_OF_CODE[code] ?? (code >= 500 ? 'InternalError' : 'BadRequest');
}

export interface StatusObject {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: StatusReason;
  readonly details?: Record<string, unknown>;
  readonly code: number;
}

export function statusObject(
  code: number,
  reason: StatusReason,
  message: string,
  details?: Record<string, unknown>,
): StatusObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

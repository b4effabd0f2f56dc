/**
 * @module Read handlers behind query admission (src/query/admission.ts): the request's deadline
 * starts when it arrives (queued time counts against the query timeout) and ends early if the
 * client goes away, as Loki cancels a query whose request context is cancelled; the handler runs
 * in an admission slot of the request's tenant and sees the deadline as `ctx.signal`.
 */
import type { QueryAdmission } from '../../query/admission.js';
import { timeoutSignal } from '../../util/timeout-signal.js';
import type { Handler } from './router.js';
import { tenantOf } from './tenant.js';

/** The client closed its connection before the answer: nobody is waiting for the query. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
  readonly code = 'client_gone';
  constructor() {
    super('the client closed the connection');
  }
}

export function admitted(admission: QueryAdmission, timeoutMs: number, handler: Handler): Handler {
  return async (ctx) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    const gone = new AbortController();
    const socket = ctx.req.socket;
    const onClose = (): void => gone.abort(new ClientGoneError());
    socket.once('close', onClose);
    // Not AbortSignal.timeout: inside AbortSignal.any it can be collected and never fire (timeout-signal.ts).
    const deadline = timeoutSignal(timeoutMs);
    try {
      const signal = AbortSignal.any([deadline.signal, gone.signal]);
      return await admission.run(tenant, signal, () => handler({ ...ctx, signal }));
    } finally {
      deadline.clear();
      socket.off('close', onClose);
    }
  };
}

/**
 * @module A deadline as an AbortSignal, for use inside `AbortSignal.any`. Node 20's
 * `AbortSignal.any` holds its source signals weakly, and `AbortSignal.timeout`'s timer holds its
 * signal weakly too: a timeout that nothing else references is collected at the next GC and never
 * fires, so the combined signal never aborts (seen as a 1 s query deadline that did not fire under
 * a loaded test run; `node --expose-gc` shows it at once). Here the timer's callback holds the
 * controller, so the signal lives until it fires or is cleared.
 */

export interface TimeoutSignal {
  /** Aborts after `ms` with a DOMException named TimeoutError, as `AbortSignal.timeout` does. */
  readonly signal: AbortSignal;
  /** Stops the timer (the work finished first). */
  clear(): void;
}

export function timeoutSignal(ms: number): TimeoutSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, ms);
  // As AbortSignal.timeout: a pending deadline does not keep the process alive.
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * @module Waiting that an abort cuts short: resolves after `ms`, or at once when `signal` aborts
 * (never rejects), so a polling loop checks its signal and ends.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

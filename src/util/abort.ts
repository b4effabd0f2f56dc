/**
 * @module A promise raced against an AbortSignal: what a sender waiting on a socket and a source
 * waiting on an API server both need, since neither the socket nor the library's watch takes a signal.
 */

/** `p`'s outcome, or `onAbort()`'s as soon as `signal` aborts (at once if it has); `p` goes on. */
export function raceAbort<T, U>(p: Promise<T>, signal: AbortSignal, onAbort: () => U): Promise<T | U> {
  return new Promise<T | U>((resolve, reject) => {
    const abort = () => {
      try {
        resolve(onAbort());
      } catch (err) {
        reject(err);
      }
    };
    if (signal.aborted) {
      abort();
      return;
    }
    signal.addEventListener('abort', abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}

/**
 * @module When to try again and how long to wait. Overload (429) and server errors (5xx) pass; so do
 * dropped connections and refused connects (a restarting server). A TLS verification failure or a
 * malformed URL will not fix itself, so it fails at once.
 */

export interface RetryPolicy {
  /** Total attempts, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

const PERMANENT = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ERR_SSL|DEPTH_ZERO|ERR_INVALID|HOSTNAME_MISMATCH/;

export function isRetryableError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true;
  return !PERMANENT.test(code);
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed so waits really grow, the other half
 * random so many clients that failed together do not come back together. `retryAfterS` (a server's
 * Retry-After) raises the wait, capped by maxDelayMs.
 */
export function backoffMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterS?: number,
  random = Math.random,
): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = step / 2 + random() * (step / 2);
  const floor = retryAfterS !== undefined && Number.isFinite(retryAfterS) ? retryAfterS * 1000 : 0;
  return Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, floor)));
}

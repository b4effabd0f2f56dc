/**
 * @module The one check of entry timestamps that every intake applies: the Loki push API
 * (loki-push/validate.ts), `/ingest/audit` and `/ingest/events` (api/ingest/kube-objects.ts),
 * `kjournal import` (through the push API) and the agent, before a record is buffered
 * (agent/agent.ts). Rules and texts are Loki's distributor's (pkg/distributor/validator.go
 * ValidateEntry, pkg/validation/validate.go):
 *  - older than now − `reject_old_samples_max_age` (when `reject_old_samples`):
 *    `entry for stream '<labels>' has timestamp too old: <ts>, oldest acceptable timestamp is: <ts>`
 *    (Loki's discard reason `greater_than_max_sample_age`; here `too_old`);
 *  - newer than now + `creation_grace_period`:
 *    `entry for stream '<labels>' has timestamp too new: <ts>` (`too_far_in_future`; here `too_new`).
 *
 * Beyond Loki, two bounds of the store: it keeps signed 64-bit nanoseconds since 1970 (a DuckDB
 * BIGINT column), so an entry before 1970 is always too old, and one past 2^63−1 ns (2262-04-11)
 * always too new, whatever the limits say. An Event dated 2263 got in once and wedged the store:
 * conversion failed on it for ever.
 */
import { formatRfc3339 } from '../ingest/loki-push/go-format.js';

/** Why an entry's time is refused; the value of `X-Kjournal-Entries-Refused` and of metrics. */
export type TimeRefusal = 'too_old' | 'too_new';

/** The part of Loki's limits about time (the server's `ServerConfig.limits` carry them). */
export interface TimeLimits {
  /** `reject_old_samples`. */
  readonly rejectOldSamples: boolean;
  /** `reject_old_samples_max_age`, nanoseconds. */
  readonly rejectOldSamplesMaxAge: bigint;
  /** `creation_grace_period`, nanoseconds: how far in the future an entry may be. */
  readonly creationGracePeriod: bigint;
}

/** The largest time the store can hold: 2^63 − 1 ns, 2262-04-11T23:47:16.854775807Z. */
export const MAX_STORABLE_NS = 2n ** 63n - 1n;

/**
 * Loki's default grace period (pkg/validation/limits.go: `creation_grace_period: 10m`); the agent
 * uses it, not knowing the server's.
 */
export const DEFAULT_CREATION_GRACE_PERIOD_NS = 10n * 60_000_000_000n;

/**
 * What a sender that does not know the server's limits can still check: only what no server takes
 * (before 1970, past the grace period, past the store's range). The age limit is the server's.
 */
export const SENDER_TIME_LIMITS: TimeLimits = Object.freeze({
  rejectOldSamples: false,
  rejectOldSamplesMaxAge: 0n,
  creationGracePeriod: DEFAULT_CREATION_GRACE_PERIOD_NS,
});

/**
 * Only the store's range (1970 to 2262): what a sender that leaves every limit to the server still
 * refuses, since a Loki JSON push cannot even carry a time past 2^63−1 ns (its timestamps are
 * int64 strings; the server would refuse the whole request). `kjournal import` checks this.
 */
export const STORE_RANGE_LIMITS: TimeLimits = Object.freeze({
  rejectOldSamples: false,
  rejectOldSamplesMaxAge: 0n,
  creationGracePeriod: MAX_STORABLE_NS,
});

/** The accepted span at one moment: computed once per request or batch, then `check` per entry. */
export class TimeWindow {
  /** The oldest accepted time (inclusive). */
  readonly oldest: bigint;
  /** The newest accepted time (inclusive). */
  readonly newest: bigint;

  constructor(limits: TimeLimits, nowNs: bigint) {
    const oldest = limits.rejectOldSamples ? nowNs - limits.rejectOldSamplesMaxAge : 0n;
    this.oldest = oldest > 0n ? oldest : 0n;
    const newest = nowNs + limits.creationGracePeriod;
    this.newest = newest < MAX_STORABLE_NS ? newest : MAX_STORABLE_NS;
  }

  /** Undefined when `ts` is acceptable, else why not. */
  check(ts: bigint): TimeRefusal | undefined {
    if (ts < this.oldest) return 'too_old';
    if (ts > this.newest) return 'too_new';
    return undefined;
  }

  /** Loki's text for a refused entry of the stream whose labels read `streamText`. */
  message(streamText: string, ts: bigint, refusal: TimeRefusal): string {
    return refusal === 'too_old'
      ? `entry for stream '${streamText}' has timestamp too old: ${formatRfc3339(ts)}, oldest acceptable timestamp is: ${formatRfc3339(this.oldest)}`
      : `entry for stream '${streamText}' has timestamp too new: ${formatRfc3339(ts)}`;
  }
}

/**
 * @module The Store interface: what every storage backend (embedded DuckDB, ClickHouse) provides.
 * A contract test suite (test/store/contract.ts) runs unchanged against every implementation.
 */
import type { Attributes, Labels, LogRecord } from '../model/record.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A stream matcher. Regular expressions are RE2 and fully anchored, as in Loki. */
export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export type LineFilterOp = '|=' | '!=' | '|~' | '!~';

/**
 * A line filter the store can evaluate: substring (case-sensitive) or RE2 regular expression
 * (unanchored, as Loki's `|~`). `or` lists alternatives that are OR-ed with `value`.
 */
export interface LineFilter {
  readonly op: LineFilterOp;
  readonly value: string;
  readonly or?: readonly string[];
}

export type Direction = 'forward' | 'backward';

/**
 * A necessary condition that later pipeline stages imply: an entry can pass them only if `literal`
 * is in its body or structured metadata, as is or escaped (a parser unescapes values), or its stream
 * has the label `label` (under any of its names) or one of `orLabels`. The store may skip other
 * entries; it need not.
 */
export interface ContentHint {
  readonly label: string;
  readonly literal: string;
  /** Other labels that, when the stream has one, let its entries pass whatever their content. */
  readonly orLabels?: readonly string[];
}

/** What to read: one tenant, a half-open time range [start, end), stream matchers and line filters. */
export interface Selection {
  readonly tenant: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly matchers: readonly LabelMatcher[];
  readonly lineFilters: readonly LineFilter[];
  /**
   * Cancels the work (a query deadline): the store stops, and rejects with the signal's reason,
   * as soon as it can.
   */
  readonly signal?: AbortSignal;
}

export interface EntryQuery extends Selection {
  readonly direction: Direction;
  /** At most this many entries; no limit when undefined. */
  readonly limit?: number;
  /** Conditions that the caller's later stages imply; the store may use them to skip entries. */
  readonly hints?: readonly ContentHint[];
  /**
   * A condition on a stream's labels that the caller's later stages imply, beyond what matchers
   * can say (a Kubernetes label selector reads a pod label under the first of several names that a
   * stream has); the store may skip the streams that fail it, and need not.
   */
  readonly streamFilter?: (labels: Labels) => boolean;
  /**
   * The caller does not need the entries in time order (it counts them): without a `limit`, the
   * store may return them in any order, which spares it a sort.
   */
  readonly unordered?: boolean;
  /**
   * A cursor: only entries strictly after this one in the query's order (`(timestamp, seq)`
   * ascending for `forward`, descending for `backward`). Pages that resume from the last entry of
   * the previous page never skip or repeat an entry, however many share a timestamp.
   */
  readonly after?: EntryCursor;
  /** Only entries appended after the one with this sequence number (`seq > afterSeq`). */
  readonly afterSeq?: bigint;
}

/** A position in the store's total order of entries: timestamp, then sequence number. */
export interface EntryCursor {
  readonly timestamp: bigint;
  readonly seq: bigint;
}

/**
 * What an append stored. Entries equal in stream, timestamp and line to one already stored are
 * duplicates: acknowledged, not stored again. `stored` are the records kept, in order, with the
 * sequence numbers firstSeq, firstSeq+1, ... When nothing was stored (no records, or duplicates
 * only), `firstSeq` is the number the next stored entry may take: greater than `lastSeq()` before.
 */
export interface AppendResult {
  readonly firstSeq: bigint;
  readonly stored: readonly LogRecord[];
  readonly duplicates: number;
}

/** Entries that one append stored, as `Store.watchAppends` announces them. */
export interface AppendedEntries {
  readonly tenant: string;
  /** In sequence order; each with its stream (id and labels) and sequence number. */
  readonly entries: readonly StoredEntry[];
}

/** A stream as the store knows it. `id` is stable for (tenant, labels). */
export interface StreamRef {
  readonly id: bigint;
  readonly labels: Labels;
}

export interface StoredEntry {
  readonly stream: StreamRef;
  readonly timestamp: bigint;
  readonly observedTimestamp: bigint;
  readonly attributes: Attributes;
  readonly body: string;
  /**
   * The entry's sequence number: unique in the store, increasing in append order, never reused
   * (not even after a restart). With the timestamp it orders entries totally (see
   * EntryQuery.after); the kube API's resourceVersions, watches and continue tokens are made of
   * it, so every backend assigns one.
   */
  readonly seq: bigint;
}

export interface StreamCount {
  readonly stream: StreamRef;
  readonly entries: number;
  readonly bytes: number;
}

/**
 * Entries and body bytes of one stream (and one structured-metadata set) in one time bucket:
 * bucket k holds the entries with timestamps in (origin + k*width, origin + (k+1)*width],
 * left-open like Loki's range windows.
 */
export interface BucketCount {
  readonly stream: StreamRef;
  /** The structured metadata these entries share: entries that differ in it are counted apart. */
  readonly attributes: Attributes;
  readonly bucket: number;
  readonly entries: number;
  readonly bytes: number;
}

export interface StoreStats {
  /** Bytes the store occupies on disk, write-ahead log included. */
  readonly diskBytes: number;
  /** Bytes acknowledged but not yet in the store's long-term form (e.g. an unconverted log). */
  readonly pendingBytes: number;
  readonly streams: number;
  /** Files known to be damaged and still in place (reads that need them fail). */
  readonly damagedFiles?: number;
  /** Files moved aside (quarantined) since the store opened, whole or after salvage. */
  readonly quarantinedFiles?: number;
}

/**
 * An entry the store cannot keep (too large, a time before 1970 or after 2262, the range of
 * nanoseconds in a signed 64-bit integer); nothing of the append was stored.
 */
export class InvalidEntryError extends RangeError {
  override readonly name = 'InvalidEntryError';
}

/**
 * A deletion (Loki's delete request): the entries of `tenant` in [start, end] (both inclusive, as
 * Loki's) whose stream matches `matchers` and whose line passes `lineFilters`.
 */
export interface Deletion {
  readonly id: string;
  readonly tenant: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly matchers: readonly LabelMatcher[];
  readonly lineFilters: readonly LineFilter[];
}

/** A retention rule (Loki's `retention_stream`): streams its matchers select keep `period`. */
export interface RetentionRule {
  readonly matchers: readonly LabelMatcher[];
  /** Nanoseconds. */
  readonly period: bigint;
  /** Of the rules a stream matches, the highest priority applies; on a tie, the shortest period. */
  readonly priority: number;
  /** The selector as configured, for reports (Loki's `selector`). */
  readonly selector?: string;
}

/** What the store keeps: every stream `period` (undefined: for ever) unless a rule says otherwise. */
export interface RetentionPolicy {
  readonly period?: bigint;
  readonly rules: readonly RetentionRule[];
}

/** The longest period a policy keeps any stream; undefined when some stream is kept for ever. */
/**
 * countByBucket's selection: throws RangeError for a width that is not positive, and starts it
 * after `origin` (only timestamps after the origin belong to a bucket). Every store's countByBucket
 * begins with it.
 */
export function bucketSelection(selection: Selection, origin: bigint, width: bigint): Selection {
  if (width <= 0n) throw new RangeError(`bucket width must be positive, got ${width}`);
  return selection.start <= origin ? { ...selection, start: origin + 1n } : selection;
}

export function longestRetention(policy: RetentionPolicy): bigint | undefined {
  if (policy.period === undefined) return undefined;
  let longest = policy.period;
  for (const r of policy.rules) if (r.period > longest) longest = r.period;
  return longest;
}

/** What a retention policy would remove now, per rule (`rule` -1: streams no rule applies to). */
export interface RetentionReport {
  readonly rule: number;
  readonly streams: number;
  readonly entries: number;
  readonly bytes: number;
}

/** The greatest timestamp a store keeps: nanoseconds in a signed 64-bit integer (2262-04-11). */
export const MAX_TIMESTAMP_NS = (1n << 63n) - 1n;

/**
 * A read needed more memory than the store's limit leaves it (StoreConfig.queryMemoryLimit; the
 * embedded backend's DuckDB "Out of Memory Error"): not damage and not a fault of the store; the
 * message is the backend's own.
 */
export class StoreMemoryError extends Error {
  override readonly name = 'StoreMemoryError';
  readonly code = 'STORE_MEMORY';
}

/**
 * The store cannot serve now (a shared backend is unreachable): nothing was stored or read; the
 * caller tries again later. APIs answer 503 with Retry-After.
 */
export class StoreUnavailableError extends Error {
  override readonly name: string = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE';
  /** When trying again is worth it. */
  readonly retryAfterSeconds: number = 5;
}

/**
 * The store cannot start with this configuration, and retrying will not help: a shared backend
 * refused the credentials or the rights, or holds a schema newer than this kjournal; a data
 * directory of a newer format (duckdb/format.ts). The CLI exits 2 with the message.
 */
export class StoreSetupError extends Error {
  override readonly name: string = 'StoreSetupError';
  /** `STORE_SETUP`, or a subclass's own (the embedded store's format: duckdb/format.ts). */
  readonly code: string = 'STORE_SETUP';
}

/**
 * The backend refused a read (a shared backend's own check: too many rows, a bad expression,
 * too many queries) or ran out of time; the message is the backend's reason. APIs answer 400,
 * 429 (`busy`) or 504 (`timeout`).
 */
export class StoreQueryError extends Error {
  override readonly name = 'StoreQueryError';
  readonly code = 'STORE_QUERY';
  constructor(
    message: string,
    readonly kind: 'refused' | 'busy' | 'timeout',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Stored data that a read needs cannot be read (a damaged part): the read fails, naming it, rather
 * than answer without it. `kjournal check --repair` moves such files aside.
 */
export class DamagedDataError extends Error {
  override readonly name = 'DamagedDataError';
  readonly code = 'DAMAGED_DATA';
  constructor(
    /** The damaged files, by their names under the data directory. */
    readonly files: readonly string[],
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `stored data needed by this request is damaged: ${files.join(', ')} (${reason}); run \`kjournal check\` on the data directory`,
      options,
    );
  }
}

/** A damaged file that `checkStore` found (src/store/open.ts). */
export interface CheckProblem {
  /** The file, relative to the data directory. */
  readonly file: string;
  readonly problem: string;
  /** What `repair` did about it, when it did something. */
  readonly repaired?: string;
}

/** What `kjournal check` reports: the files checked, the damage found, what was done about it. */
export interface CheckReport {
  /** Files of the long-term form checked (the embedded backend's Parquet parts). */
  readonly parts: number;
  /** Files of the write-ahead log checked. */
  readonly segments: number;
  readonly problems: readonly CheckProblem[];
  /** Notes that are not damage: a torn last record (dropped at the next start), leftovers. */
  readonly notes: readonly string[];
  /** Files already in quarantine/ before this check. */
  readonly quarantined: number;
  /** The layout of the local data (the embedded store's FORMAT file), when it has one that reads. */
  readonly format?: number;
}

export interface Store {
  /** Opens the store, replaying anything acknowledged but not yet in its final form. */
  open(): Promise<void>;
  /**
   * Appends records for a tenant. Resolves only when the records survive `kill -9` of the process;
   * an append that rejects stored nothing the caller must retry. Resolves with the sequence
   * numbers the stored records took (see AppendResult), also for an empty append.
   */
  append(tenant: string, records: readonly LogRecord[]): Promise<AppendResult>;
  /**
   * The largest sequence number of an acknowledged append (0 before any, and the same after a
   * reopen): every entry with a sequence number up to it is visible to reads. Never decreases.
   */
  lastSeq(): bigint;
  /**
   * Announces appends: `listener` gets the entries of every append that becomes visible to reads
   * from now on, whoever made it, each entry once, in increasing sequence number. Live tails and
   * kube watches follow the store this way (src/store/follow.ts), not the pushes of their own
   * process, so that they see what other processes or replicas appended to the same store. A
   * listener must not block (it runs on the append's path) and what it throws is ignored; the
   * returned function stops the announcements.
   *
   * What "whoever" means depends on the backend. The embedded store has one writer: the process
   * that holds its data directory (util/dir-lock.ts); `kjournal import` and agents append through
   * that process's API, an offline writer is locked out, so announcing its own appends, after they
   * are durable, announces every append. A shared backend (several replicas writing one database)
   * announces by polling for sequence numbers above the last it announced (`afterSeq` reads), at
   * its poll interval: a tail then lags by up to that interval, never misses or repeats an entry.
   * A reader that must not miss what came between a sequence number and its subscription reads
   * that range with `afterSeq` first (followAppends in src/store/follow.ts does both).
   */
  watchAppends(listener: (appended: AppendedEntries) => void): () => void;
  /** Entries in time order (per `direction`), at most `limit`. Sees every append that resolved before. */
  entries(query: EntryQuery): AsyncIterable<StoredEntry[]>;
  /** Number of entries that a selection matches. */
  count(selection: Selection): Promise<number>;
  /** Entries and body bytes per stream that a selection matches; streams without entries are left out. */
  countByStream(selection: Selection): Promise<StreamCount[]>;
  /**
   * Entries and body bytes that a selection matches, per stream, structured-metadata set and time
   * bucket (see BucketCount; `width` > 0, every selected timestamp > `origin`). Empty buckets are
   * left out. Metric queries count per step with it instead of reading entries. With
   * `{ bytes: false }` the store may skip reading bodies and report `bytes` as 0.
   */
  countByBucket(
    selection: Selection,
    origin: bigint,
    width: bigint,
    options?: { readonly bytes?: boolean },
  ): Promise<BucketCount[]>;
  /** The streams that have entries matching the stream matchers in [start, end). */
  streams(
    tenant: string,
    matchers: readonly LabelMatcher[],
    start: bigint,
    end: bigint,
  ): Promise<StreamRef[]>;
  /**
   * Applies a retention policy at time `now`: every entry older than its stream's period goes (whole
   * days where every stream of a day expired, else the expired streams' entries). Returns how many
   * day partitions were removed or rewritten.
   */
  applyRetention(now: bigint, policy: RetentionPolicy): Promise<number>;
  /** What `applyRetention(now, policy)` would remove from `tenant`, per rule; nothing is changed. */
  retentionReport(tenant: string, now: bigint, policy: RetentionPolicy): Promise<RetentionReport[]>;
  /**
   * The deletions in force: every read leaves out the entries they select, from the moment this
   * returns (they may still be on disk until `purge`).
   */
  setDeletions(deletions: readonly Deletion[]): void;
  /** Removes the entries `deletion` selects from disk for good; resolves once they are gone. */
  purge(deletion: Deletion): Promise<void>;
  stats(): Promise<StoreStats>;
  /**
   * The tenants the store has stored entries for, sorted (a tenant whose entries have all gone
   * may still be listed). Optional: `kjournal migrate` needs it of the store it copies from, and
   * nothing else does.
   */
  tenants?(): Promise<string[]>;
  /**
   * Why the store cannot serve now (a shared backend unreachable), or undefined when it can: the
   * server's /ready fails while it says something. Absent: always ready once open.
   */
  unavailable?(): string | undefined;
  close(): Promise<void>;
}

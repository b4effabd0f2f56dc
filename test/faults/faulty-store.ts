/**
 * @module A Store that injects read failures: it delegates to a real store and, when armed, makes
 * `entries` fail after some batches (mid-stream, as an out-of-memory or an unreadable part does in
 * DuckDB), makes the counting and stream reads reject, or ends `entries` early without an error.
 * For the fault suite (test/faults/partial-results.test.ts): no query path may report success with
 * what a failed read returned before it failed.
 */
import type {
  AppendResult,
  BucketCount,
  Deletion,
  EntryQuery,
  LabelMatcher,
  RetentionPolicy,
  RetentionReport,
  Selection,
  Store,
  StoredEntry,
  StoreStats,
  StreamCount,
  StreamRef,
} from '../../src/store/store.js';

/** What a failed read rejects with: recognisable in answers, so a test knows the fault was reported. */
export class InjectedReadError extends Error {
  override readonly name = 'InjectedReadError';
  readonly code = 'INJECTED_READ_FAULT';
  constructor(op: string) {
    super(`injected read fault in ${op}`);
  }
}

export type ReadOp = 'entries' | 'count' | 'countByStream' | 'countByBucket' | 'streams';

export interface Faults {
  /** `entries` delivers this many batches, then fails (0: fails before the first batch). */
  readonly entriesAfterBatches?: number;
  /**
   * `throw` (the default): `entries` throws InjectedReadError. `truncate`: it just ends, as a
   * complete iteration would; no caller can tell that apart from the end of the data.
   */
  readonly entriesMode?: 'throw' | 'truncate';
  /** These reads reject with InjectedReadError. */
  readonly reject?: readonly Exclude<ReadOp, 'entries'>[];
}

export class FaultyStore implements Store {
  private faults: Faults = {};
  /** Injected failures so far, per operation: proof that a request reached the fault. */
  readonly fired = new Map<ReadOp, number>();

  /**
   * @param inner the real store
   * @param batchSize `entries` batches are cut to at most this many entries, so that a failure
   *   after N batches lands in the middle of a result of any size
   */
  constructor(
    readonly inner: Store,
    private readonly batchSize = 10,
  ) {}

  /** Arms the given faults (replacing earlier ones); `{}` disarms. */
  arm(faults: Faults): void {
    this.faults = faults;
    this.fired.clear();
  }

  firedTotal(): number {
    let n = 0;
    for (const v of this.fired.values()) n += v;
    return n;
  }

  private fire(op: ReadOp): void {
    this.fired.set(op, (this.fired.get(op) ?? 0) + 1);
  }

  private maybeReject(op: Exclude<ReadOp, 'entries'>): void {
    if (this.faults.reject?.includes(op)) {
      this.fire(op);
      throw new InjectedReadError(op);
    }
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  append(tenant: string, records: Parameters<Store['append']>[1]): Promise<AppendResult> {
    return this.inner.append(tenant, records);
  }

  lastSeq(): bigint {
    return this.inner.lastSeq();
  }

  watchAppends(listener: Parameters<Store['watchAppends']>[0]): () => void {
    return this.inner.watchAppends(listener);
  }

  async *entries(query: EntryQuery): AsyncIterable<StoredEntry[]> {
    const failAfter = this.faults.entriesAfterBatches;
    const mode = this.faults.entriesMode ?? 'throw';
    let delivered = 0;
    const stop = (): boolean => {
      if (failAfter === undefined || delivered < failAfter) return false;
      this.fire('entries');
      if (mode === 'throw') throw new InjectedReadError('entries');
      return true;
    };
    if (stop()) return;
    for await (const batch of this.inner.entries(query)) {
      for (let i = 0; i < batch.length; i += this.batchSize) {
        yield batch.slice(i, i + this.batchSize);
        delivered++;
        if (stop()) return;
      }
    }
  }

  async count(selection: Selection): Promise<number> {
    this.maybeReject('count');
    return this.inner.count(selection);
  }

  async countByStream(selection: Selection): Promise<StreamCount[]> {
    this.maybeReject('countByStream');
    return this.inner.countByStream(selection);
  }

  async countByBucket(
    selection: Selection,
    origin: bigint,
    width: bigint,
    options?: { readonly bytes?: boolean },
  ): Promise<BucketCount[]> {
    this.maybeReject('countByBucket');
    return this.inner.countByBucket(selection, origin, width, options);
  }

  async streams(
    tenant: string,
    matchers: readonly LabelMatcher[],
    start: bigint,
    end: bigint,
  ): Promise<StreamRef[]> {
    this.maybeReject('streams');
    return this.inner.streams(tenant, matchers, start, end);
  }

  applyRetention(now: bigint, policy: RetentionPolicy): Promise<number> {
    return this.inner.applyRetention(now, policy);
  }

  retentionReport(tenant: string, now: bigint, policy: RetentionPolicy): Promise<RetentionReport[]> {
    return this.inner.retentionReport(tenant, now, policy);
  }

  setDeletions(deletions: readonly Deletion[]): void {
    this.inner.setDeletions(deletions);
  }

  purge(deletion: Deletion): Promise<void> {
    return this.inner.purge(deletion);
  }

  stats(): Promise<StoreStats> {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

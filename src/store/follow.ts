/**
 * @module Following a store's appends, for any backend: what live tails and kube watches need.
 * `followAppends` subscribes to `Store.watchAppends` first and then reads what was stored after a
 * sequence number (`afterSeq`: a kube watch's resourceVersion), so that nothing appended in between
 * is missed, and delivers each entry once, in sequence order. `feedTails` hands every announcement
 * to a tail hub. Whoever appended the entries (this process, another replica of a shared backend)
 * makes no difference.
 */
import type { LogRecord } from '../model/record.js';
import type { EntryQuery, Store, StoredEntry } from './store.js';

export interface FollowOptions {
  /**
   * The tenant and what to read of the entries already stored after `afterSeq` (time range,
   * matchers, `limit`: reaching it counts as `truncated`, so ask for one more than you accept);
   * live entries are the tenant's, unfiltered: `deliver` picks what it wants.
   */
  readonly query: Omit<EntryQuery, 'afterSeq' | 'after' | 'direction'>;
  /** Entries with a greater sequence number than this; absent: those appended from now on. */
  readonly afterSeq?: bigint;
  /** New entries of the tenant, in increasing sequence number, each once. Must not block. */
  readonly deliver: (entries: readonly StoredEntry[]) => void;
}

export interface Follow {
  /**
   * Resolves once the entries stored after `afterSeq` are delivered (at once without one):
   * `truncated` when they reached the query's `limit` (the reader is too far behind; a kube watch
   * answers 410 Gone then, and closes the follow). Rejects when reading them failed; the follow is closed then.
   */
  readonly ready: Promise<{ readonly truncated: boolean }>;
  /** Stops delivering. */
  close(): void;
}

export function followAppends(store: Store, options: FollowOptions): Follow {
  const { query, deliver } = options;
  let closed = false;
  /** The greatest sequence number delivered (or known to be before the start). */
  let cursor = options.afterSeq ?? 0n;
  /** Live entries that arrived while the stored ones were read. */
  let buffered: StoredEntry[] | undefined = options.afterSeq === undefined ? undefined : [];
  const unsubscribe = store.watchAppends((appended) => {
    if (closed || appended.tenant !== query.tenant) return;
    if (buffered) {
      buffered.push(...appended.entries);
      return;
    }
    const fresh = appended.entries.filter((e) => e.seq > cursor);
    if (fresh.length === 0) return;
    cursor = fresh[fresh.length - 1]!.seq;
    deliver(fresh);
  });
  const close = (): void => {
    closed = true;
    unsubscribe();
  };
  if (options.afterSeq === undefined) {
    // Subscribed first: what is announced from here on and is not yet counted in lastSeq() is new.
    cursor = store.lastSeq();
    return { ready: Promise.resolve({ truncated: false }), close };
  }
  const afterSeq = options.afterSeq;
  // Subscribed first: every entry announced from here on is above `visible`. The replay stops at
  // it: an entry above it that a read already finds (a shared store's other server acknowledged
  // it, lastSeq() has not passed it yet) comes with its announcement, in sequence order, and
  // so does any entry below it still in flight elsewhere: replaying it now would move the cursor
  // past those and lose them.
  const visible = store.lastSeq();
  const ready = (async () => {
    const stored: StoredEntry[] = [];
    let read = 0;
    for await (const batch of store.entries({ ...query, direction: 'forward', afterSeq })) {
      if (closed) break;
      read += batch.length;
      for (const e of batch) if (e.seq <= visible) stored.push(e);
    }
    const truncated = query.limit !== undefined && read >= query.limit;
    // Entries come in time order; a follower wants them in the order they were appended.
    stored.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    const replayed = new Set(stored.map((e) => e.seq));
    const live = (buffered ?? []).filter((e) => e.seq > afterSeq && !replayed.has(e.seq));
    buffered = undefined;
    const all = live.length === 0 ? stored : [...stored, ...live].sort((a, b) => (a.seq < b.seq ? -1 : 1));
    if (all.length > 0) cursor = all[all.length - 1]!.seq;
    if (!closed && all.length > 0) deliver(all);
    return { truncated };
  })();
  ready.catch(close);
  return { ready, close };
}

/**
 * Feeds live tails from the store's announcements (Store.watchAppends) rather than from the pushes
 * of this process: `publish` gets each tenant's new entries as records, with the sequence number of
 * the first, in runs of consecutive numbers (the shape of the tail hub's `publish`). The server
 * calls it once, with its tail hub; the returned function stops it.
 */
export function feedTails(
  store: Store,
  publish: (tenant: string, records: readonly LogRecord[], firstSeq: bigint) => void,
): () => void {
  return store.watchAppends(({ tenant, entries }) => {
    let run: LogRecord[] = [];
    let firstSeq = 0n;
    for (const e of entries) {
      if (run.length > 0 && e.seq !== firstSeq + BigInt(run.length)) {
        publish(tenant, run, firstSeq);
        run = [];
      }
      if (run.length === 0) firstSeq = e.seq;
      run.push({
        timestamp: e.timestamp,
        observedTimestamp: e.observedTimestamp,
        labels: e.stream.labels,
        attributes: e.attributes,
        body: e.body,
      });
    }
    if (run.length > 0) publish(tenant, run, firstSeq);
  });
}

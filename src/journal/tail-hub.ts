/**
 * @module The tail hub: one place that acknowledged records are published to (the store's
 * announcements, through store/follow.ts's feedTails: see Journal), and that every live tail
 * subscribes to. Publishing never waits for a subscriber: each has a queue
 * bounded in bytes (api/http/consumer-buffer.ts), and what does not fit is dropped and reported
 * (Loki's `dropped_entries`) or ends the subscriber (a kube watch).
 */
import type { Attributes, Labels, LogRecord } from '../model/record.js';

export interface TailEntry {
  readonly labels: Labels;
  readonly attributes: Attributes;
  readonly timestamp: bigint;
  readonly body: string;
  /** The store's sequence number of the entry, when the store assigned one (see Store.append). */
  readonly seq?: bigint;
}

export interface TailSubscriber {
  readonly tenant: string;
  /** True for entries the subscriber wants (its query's matchers and filters). */
  accepts(entry: TailEntry): boolean;
  /** Called with the entries of one publish that were accepted; must not block. */
  deliver(entries: readonly TailEntry[]): void;
}

export class TailHub {
  private readonly subscribers = new Set<TailSubscriber>();
  private readonly activeListeners: ((active: boolean) => void)[] = [];

  subscribe(sub: TailSubscriber): () => void {
    this.subscribers.add(sub);
    if (this.subscribers.size === 1) for (const l of this.activeListeners) l(true);
    return () => {
      if (this.subscribers.delete(sub) && this.subscribers.size === 0) {
        for (const l of this.activeListeners) l(false);
      }
    };
  }

  /**
   * Calls `listener(true)` when the first tail or watch subscribes (at once if one has) and
   * `listener(false)` when the last leaves: what feeds the hub need only run while someone listens.
   */
  onActive(listener: (active: boolean) => void): void {
    this.activeListeners.push(listener);
    if (this.subscribers.size > 0) listener(true);
  }

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Publishes records the store acknowledged for a tenant; `firstSeq` is the sequence number the
   * store gave the first of them (the others follow in order).
   */
  publish(tenant: string, records: readonly LogRecord[], firstSeq?: bigint): void {
    if (this.subscribers.size === 0 || records.length === 0) return;
    for (const sub of this.subscribers) {
      if (sub.tenant !== tenant) continue;
      const accepted: TailEntry[] = [];
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const entry: TailEntry = {
          labels: r.labels,
          attributes: r.attributes,
          timestamp: r.timestamp,
          body: r.body,
          ...(firstSeq !== undefined ? { seq: firstSeq + BigInt(i) } : {}),
        };
        try {
          if (sub.accepts(entry)) accepted.push(entry);
        } catch {
          // A subscriber's filter must not fail a push.
        }
      }
      if (accepted.length > 0) sub.deliver(accepted);
    }
  }
}

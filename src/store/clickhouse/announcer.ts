/**
 * @module The order in which the ClickHouse store announces appends (Store.watchAppends): its own
 * appends once ClickHouse acknowledged them, other servers' appends once read from the `appends`
 * table, merged in sequence order. Nothing is announced above the least number still in doubt:
 * an own append in flight, or another live server's safe number (writers.ts). With no other
 * server, an own append is announced before it resolves, as the embedded store does.
 */
import type { AppendedEntries, StoredEntry } from '../store.js';

interface Pending {
  readonly first: bigint;
  /** The last number it took (its entries may be left out when nobody watches). */
  readonly last: bigint;
  readonly tenant: string;
  readonly entries: readonly StoredEntry[];
}

export class Announcer {
  private readonly listeners = new Set<(a: AppendedEntries) => void>();
  /** First numbers of own appends taken and not yet acknowledged (or failed). */
  private readonly inflight = new Set<bigint>();
  private pending: Pending[] = [];
  /** Other servers' least safe number; undefined: there are none. */
  private foreignSafe: bigint | undefined;
  /** The greatest number announced (or known visible), which lastSeq() reports. */
  visible: bigint;

  constructor(initial: bigint) {
    this.visible = initial;
  }

  get watched(): boolean {
    return this.listeners.size > 0;
  }

  watch(listener: (a: AppendedEntries) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  begin(first: bigint): void {
    this.inflight.add(first);
  }

  /** An own append failed: it holds nothing back any more. */
  abandon(first: bigint): void {
    this.inflight.delete(first);
    this.flush();
  }

  /**
   * An own append is acknowledged: it stored [first, last] (last < first: nothing), `entries`
   * when somebody watches.
   */
  done(first: bigint, last: bigint, tenant: string, entries: readonly StoredEntry[]): void {
    this.inflight.delete(first);
    if (last >= first) this.add({ first, last, tenant, entries });
    this.flush();
  }

  /** Appends of other servers, read from the table. */
  foreign(list: readonly Pending[]): void {
    for (const p of list) this.add(p);
    this.flush();
  }

  setForeignSafe(safe: bigint | undefined): void {
    this.foreignSafe = safe;
    this.flush();
  }

  /** Known visible up to `seq` (another server's append with nobody watching). */
  advance(seq: bigint): void {
    if (seq > this.visible && (this.foreignSafe === undefined || seq <= this.foreignSafe)) this.visible = seq;
  }

  /** The least own number in flight, minus one; undefined with none in flight. */
  ownSafe(): bigint | undefined {
    let min: bigint | undefined;
    for (const f of this.inflight) if (min === undefined || f < min) min = f;
    return min === undefined ? undefined : min - 1n;
  }

  private add(p: Pending): void {
    // Mostly in order: insert from the end.
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.first > p.first) i--;
    this.pending.splice(i, 0, p);
  }

  private flush(): void {
    let limit = this.ownSafe();
    if (this.foreignSafe !== undefined && (limit === undefined || this.foreignSafe < limit))
      limit = this.foreignSafe;
    let n = 0;
    while (n < this.pending.length && (limit === undefined || this.pending[n]!.first <= limit)) n++;
    if (n === 0) return;
    const ready = this.pending.slice(0, n);
    this.pending = this.pending.slice(n);
    for (const p of ready) {
      if (p.last > this.visible) this.visible = p.last;
      if (this.listeners.size === 0 || p.entries.length === 0) continue;
      const appended: AppendedEntries = { tenant: p.tenant, entries: p.entries };
      for (const l of [...this.listeners]) {
        try {
          l(appended);
        } catch {
          // A listener's failure must not fail the append, which is stored already.
        }
      }
    }
  }
}

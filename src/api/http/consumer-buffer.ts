/**
 * @module What a live consumer (a Loki tail, a kube watch) may hold in memory, counted in bytes.
 *
 * Counting entries is not enough: Loki's tail keeps 10 responses of 100 entries, and a 10,000-entry
 * queue of 256 KB lines is 2.5 GB; ten tail clients that never read took the server from 145 MB to
 * 2.4 GB. So each consumer has one byte budget that covers what waits in its queue AND what already
 * waits in its socket (a WebSocket's `bufferedAmount`, a response's `writableLength`): a client that
 * stops reading stops the queue from growing, and what does not fit is dropped and reported (tail)
 * or ends the consumer (watch), never buffered.
 */
import type { TailEntry } from '../../journal/tail-hub.js';

/** Per consumer, queue and unsent socket bytes together (`--tail-buffer-size`). */
export const DEFAULT_CONSUMER_BUFFER_BYTES = 8 << 20;

/** Bytes an entry of no size at all still costs: the object, its timestamp, array slots. */
const ENTRY_OVERHEAD = 64;

/** The bytes of a label or attribute map, as the JSON that carries it will roughly be. */
export function mapBytes(map: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const k in map) n += k.length + (map[k]?.length ?? 0) + 6;
  return n;
}

/**
 * An estimate of what an entry costs while it waits and once serialized: its body, labels and
 * metadata (string lengths: V8 keeps ASCII at one byte a character), plus a fixed overhead.
 */
export function entryBytes(e: Pick<TailEntry, 'body' | 'labels' | 'attributes'>): number {
  return e.body.length + mapBytes(e.labels) + mapBytes(e.attributes) + ENTRY_OVERHEAD;
}

/**
 * A FIFO with a byte budget. `offer` takes an item only when the bytes queued, plus `external`
 * bytes the consumer already holds elsewhere (its socket), plus the item fit the budget; an
 * item offered to an empty consumer (nothing queued, nothing unsent) is always taken, so one
 * line larger than the budget still gets through to a client that keeps up.
 */
export class ConsumerBuffer<T> {
  private items: { value: T; bytes: number }[] = [];
  private head = 0;
  private queued = 0;

  constructor(readonly maxBytes: number) {}

  offer(value: T, bytes: number, external = 0): boolean {
    const empty = this.length === 0 && external <= 0;
    if (!empty && this.queued + external + bytes > this.maxBytes) return false;
    this.items.push({ value, bytes });
    this.queued += bytes;
    return true;
  }

  /** The first item, if any. */
  peek(): T | undefined {
    return this.items[this.head]?.value;
  }

  /**
   * Takes items from the front while `ready` holds and their bytes stay within `maxBytes` (at
   * least one item, if the first is ready).
   */
  take(maxBytes: number, ready: (value: T) => boolean = () => true): T[] {
    const out: T[] = [];
    let bytes = 0;
    while (this.head < this.items.length) {
      const item = this.items[this.head]!;
      if (!ready(item.value)) break;
      if (out.length > 0 && bytes + item.bytes > maxBytes) break;
      out.push(item.value);
      bytes += item.bytes;
      this.queued -= item.bytes;
      this.head++;
    }
    this.compact();
    return out;
  }

  /** Keeps only the items for which `keep` holds. */
  retain(keep: (value: T) => boolean): void {
    const kept = this.items.slice(this.head).filter((i) => keep(i.value));
    this.items = kept;
    this.head = 0;
    this.queued = kept.reduce((n, i) => n + i.bytes, 0);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.queued = 0;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Bytes of the items queued. */
  get bytes(): number {
    return this.queued;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

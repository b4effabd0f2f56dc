/**
 * @module The last few objects seen, each with a value, found again by identity: a cache for
 * objects that recur among a few others (a journal's units interleaving on one stream) where a
 * WeakMap entry for every object, most of them seen once (an OTLP record's attributes), would cost
 * more than it saves. Used by the record check (formats/record-check.ts).
 */
export class RecentObjects<K extends object, V> {
  private readonly keys: (K | undefined)[];
  private readonly values: (V | undefined)[];
  private at = 0;

  constructor(private readonly size: number) {
    this.keys = new Array(size).fill(undefined);
    this.values = new Array(size).fill(undefined);
  }

  /** The value of `key` when it is among the last `size` added. */
  get(key: K): V | undefined {
    const keys = this.keys;
    for (let i = 0; i < this.size; i++) if (keys[i] === key) return this.values[i];
    return undefined;
  }

  /** Remembers `key` with `value`, forgetting the oldest. */
  add(key: K, value: V): void {
    this.keys[this.at] = key;
    this.values[this.at] = value;
    this.at = (this.at + 1) % this.size;
  }
}

/**
 * @module One object per distinct set of names and values (labels or attributes), for the
 * receivers whose records repeat them (a syslog host's facility, severity, app name and proc id; a
 * Docker container's GELF fields; a journal unit's fields; a bulk request's Kubernetes labels).
 * Why: the journal normalises labels once per labels object (journal/records.ts) and the
 * write-ahead log encodes an attributes object's JSON once per object (store/duckdb/wal/encode.ts),
 * so records that share one cost one normalisation and one encoding, not one each. Measured on the
 * syslog listener: the encoding was the largest single cost per line before. Bounded: the table
 * is dropped once it holds `max` sets.
 */
export class SetInterner<T extends Readonly<Record<string, string>>> {
  private readonly table = new Map<string, T>();

  constructor(private readonly max = 10_000) {}

  /** The shared object equal to `set`, names in the same order (the first one seen is kept). */
  intern(set: T): T {
    let key = '';
    for (const k in set) key += `${k}\u0000${set[k]}\u0001`;
    const known = this.table.get(key);
    if (known) return known;
    if (this.table.size >= this.max) this.table.clear();
    this.table.set(key, set);
    return set;
  }
}

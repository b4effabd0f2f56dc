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
    // Lengths first: a value may hold any character (a journal's binary fields hold NULs), and
    // two different sets must never make one key.
    for (const k in set) {
      const v = set[k]!;
      key += `${k.length}:${k}${v.length}:${v}`;
    }
    const known = this.table.get(key);
    if (known) return known;
    if (this.table.size >= this.max) this.table.clear();
    this.table.set(key, set);
    return set;
  }
}

/**
 * The same for sets of fixed names in a fixed order (a decoder's own labels or fields), found by
 * their values alone, so the object is built only for a new set: building an object per record
 * and then keying it by names and values was a sixteenth of a bulk request's time.
 */
export class ValueSets<T extends Record<string, string> = Record<string, string>> {
  /**
   * A tree of maps, one level per value (undefined a key like any other), the last level holding
   * the sets: found by one look-up per value, without building a key (concatenating the values
   * and hashing the result was most of this function's time).
   */
  private root = new Map<string | undefined, unknown>();
  private size = 0;

  constructor(
    /** The names, in the order of `of`'s values. */
    private readonly names: readonly string[],
    private readonly max = 10_000,
  ) {}

  /** The shared set of `values` (by `names`' order); an undefined value is left out. */
  of(values: readonly (string | undefined)[]): T {
    const last = values.length - 1;
    let node = this.root;
    for (let i = 0; i < last; i++) {
      const v = values[i];
      let next = node.get(v) as Map<string | undefined, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(v, next);
      }
      node = next;
    }
    const found = node.get(values[last]) as T | undefined;
    if (found !== undefined) return found;
    const made: Record<string, string> = {};
    for (let i = 0; i < this.names.length; i++) {
      const v = values[i];
      if (v !== undefined) made[this.names[i]!] = v;
    }
    if (this.size >= this.max) {
      // Bounded: dropped whole, then this set is the first of the new tree.
      this.root = new Map();
      this.size = 0;
      return this.of(values);
    }
    node.set(values[last], made);
    this.size++;
    return made as T;
  }
}

/**
 * @module One attributes object per distinct content, for the receivers whose records repeat their
 * metadata (a syslog host's facility, severity, app name and proc id; a Docker container's GELF
 * fields): the write-ahead log encodes an attributes object's JSON once per object
 * (store/duckdb/wal/encode.ts), so records that share one cost one encoding, not one each. Measured
 * on the syslog listener: the encoding was the largest single cost per line before. Bounded: the
 * table is dropped once it holds 10,000 sets.
 */
import type { Attributes } from '../../model/record.js';

export class AttributesTable {
  private readonly table = new Map<string, Attributes>();

  /** The shared object equal to `attrs` (the first one seen becomes the shared one). */
  intern(attrs: Attributes): Attributes {
    let key = '';
    for (const k in attrs) key += `${k}\u0000${attrs[k]}\u0001`;
    const known = this.table.get(key);
    if (known) return known;
    if (this.table.size >= 10_000) this.table.clear();
    this.table.set(key, attrs);
    return attrs;
  }
}

/**
 * @module The one canonical text of a label set: names sorted (by UTF-16 code unit), each value
 * JSON-quoted, `{a="1", b="2"}`. It is the stream's identity in the catalog, the key that groups
 * series in the metric engine (Prometheus' labels.String() shape) and the text a stream is printed
 * as. JSON quoting differs from Go's strconv.Quote only for rare control characters; the key must
 * stay as it is, since stored catalogs are keyed by it.
 */
import type { Labels } from './record.js';

export function labelsKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    out += `${i ? ', ' : ''}${n}=${JSON.stringify(labels[n])}`;
  }
  return `${out}}`;
}

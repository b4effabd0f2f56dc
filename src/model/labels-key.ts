/**
 * @module The canonical text of a label set (names sorted, as Loki prints a stream): the key of a
 * stream wherever label sets are compared or grouped.
 */
import type { Labels } from './record.js';

/** The canonical text of a label set: names sorted, as Loki prints a stream. */
export function labelsKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    out += `${i ? ', ' : ''}${n}=${JSON.stringify(labels[n])}`;
  }
  return `${out}}`;
}

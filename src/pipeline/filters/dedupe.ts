/**
 * @module The `dedupe` filter: drops a record equal to one that went on less than `window`
 * seconds ago (default 10).
 *
 * ```yaml
 * - dedupe: { keys: [body, labels], window: 30, maxEntries: 10000 }
 * ```
 *
 * Two records are equal when the fields of `keys` (fields.ts) are; `labels` alone means every
 * label (names and values), and the default `[body, labels]` is the same line in the same
 * stream. A missing field differs from an empty one. The window starts at the record that went on:
 * repeats inside it are dropped and do not extend it, so a line repeated forever still goes through
 * once per window. At most `maxEntries` (default 10000) recent records are remembered (by a SHA-256
 * digest); past that, the oldest is forgotten. The clock is the factory context's `now`.
 */
import { createHash } from 'node:crypto';
import type { LogRecord } from '../../model/record.js';
import type { Filter, FilterFactory } from '../filter.js';
import { checkFieldName, getField } from './fields.js';

const ALL_LABELS = 'labels';

export const dedupeFilter: FilterFactory = (o, ctx): Filter => {
  const keys = o
    .stringList('keys', ['body', ALL_LABELS])
    .map((k, i) => (k === ALL_LABELS ? k : checkFieldName(k, o.at('keys').concat(i))));
  if (keys.length === 0) throw o.error('keys', 'give at least one field');
  const windowMs = o.number('window', 10, 0) * 1000;
  const maxEntries = o.integer('maxEntries', 10_000, 1);
  o.done();

  /** Digest → when the record went on (ms); in insertion order, so the oldest first. */
  const seen = new Map<string, number>();

  const digest = (record: LogRecord): string => {
    const parts = keys.map((k) =>
      k === ALL_LABELS
        ? Object.entries(record.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        : (getField(record, k) ?? null),
    );
    return createHash('sha256').update(JSON.stringify(parts)).digest('base64');
  };

  return {
    type: 'dedupe',
    apply(record: LogRecord): LogRecord | null {
      const now = ctx.now();
      // Forget what has aged out (the oldest are first).
      for (const [k, t] of seen) {
        if (now - t < windowMs) break;
        seen.delete(k);
      }
      const d = digest(record);
      const t = seen.get(d);
      if (t !== undefined && now - t < windowMs) return null;
      seen.delete(d);
      seen.set(d, now);
      if (seen.size > maxEntries) {
        const oldest = seen.keys().next();
        if (!oldest.done) seen.delete(oldest.value);
      }
      return record;
    },
  };
};

/**
 * @module The `record` filter: Fluentd's record_transformer on our fields (fields.ts).
 *
 * ```yaml
 * - record:
 *     set: { path: '${labels.namespace}/${labels.pod}', env: prod }
 *     rename: { msg: message }
 *     removeKeys: [password]
 *     keepKeys: [level, body]
 * ```
 *
 * In this order:
 * 1. `set`: field → template (`${field}` references, `$$` a literal `$`). Every template reads the
 *    record as it came in, as Fluentd's placeholders do, so `set: {a: '${b}', b: x}` gives `a` the
 *    old `b`. A missing field renders as `''`.
 * 2. `rename`: from → to, in the order written; a missing `from` does nothing; `to` is
 *    overwritten. Renaming the body to an attribute leaves the body `''`.
 * 3. `removeKeys`: the fields to remove (a removed body is `''`; labels are removed too).
 * 4. `keepKeys`: Fluentd's `renew_record` with `keep_keys`: the record keeps only these attributes
 *    (and the body only when `body`, `message` or `log` is listed; else it is `''`), plus the fields
 *    `set` and `rename` wrote (Fluentd's new record holds its `<record>` fields) unless
 *    `removeKeys` removed them. Labels are not touched by `keepKeys`.
 */

import type { Options } from '../../config/options.js';
import type { LogRecord } from '../../model/record.js';
import type { Filter, FilterFactory } from '../filter.js';
import { checkFieldName, Draft, Template } from './fields.js';

function fieldMap(o: Options, key: string): [string, string][] {
  const map = o.stringMap(key);
  return Object.entries(map).map(([k, v]) => [checkFieldName(k, o.at(key).concat(k), true), v]);
}

function fieldList(o: Options, key: string, write: boolean): string[] {
  return o.stringList(key).map((name, i) => checkFieldName(name, o.at(key).concat(i), write));
}

export const recordFilter: FilterFactory = (o): Filter => {
  const set = fieldMap(o, 'set').map(([k, v]) => [k, Template.compile(v, o.at('set').concat(k))] as const);
  const rename = fieldMap(o, 'rename').map(
    ([from, to]) => [from, checkFieldName(to, o.at('rename').concat(from), true)] as const,
  );
  const removeKeys = fieldList(o, 'removeKeys', false);
  const keep = o.has('keepKeys') ? new Set(fieldList(o, 'keepKeys', false)) : undefined;
  o.done();
  if (keep !== undefined) {
    for (const [k] of set) keep.add(k);
    for (const [, to] of rename) keep.add(to);
    for (const k of removeKeys) keep.delete(k);
  }

  return {
    type: 'record',
    apply(record: LogRecord): LogRecord {
      const draft = new Draft(record);
      if (set.length > 0) {
        const values = set.map(([k, t]) => [k, t.render((f) => draft.get(f))] as const);
        for (const [k, v] of values) draft.set(k, v);
      }
      for (const [from, to] of rename) {
        if (from === to) continue;
        const v = draft.get(from);
        if (v === undefined) continue;
        draft.delete(from);
        draft.set(to, v);
      }
      for (const k of removeKeys) draft.delete(k);
      if (keep !== undefined) draft.keepOnly(keep);
      return draft.record();
    },
  };
};

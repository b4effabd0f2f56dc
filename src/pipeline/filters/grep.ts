/**
 * @module The `grep` filter: Fluentd's filter_grep on our fields (fields.ts).
 *
 * ```yaml
 * - grep:
 *     regexp: [{ key: message, pattern: /cool/ }, { key: hostname, pattern: '^web\d+\.example\.com$' }]
 *     exclude: [{ key: message, pattern: uncool }]
 * ```
 *
 * A record goes on when every `regexp` matches (AND) and no `exclude` matches (OR). Patterns are
 * RE2, unanchored (regex.ts). A missing field matches no pattern: it fails a `regexp` and passes
 * an `exclude`.
 */
import type RE2 from 're2';
import { Options } from '../../config/options.js';
import type { LogRecord } from '../../model/record.js';
import type { Filter, FilterFactory } from '../filter.js';
import { checkFieldName, getField } from './fields.js';
import { compilePattern } from './regex.js';

interface Condition {
  readonly key: string;
  readonly re: RE2;
}

function conditions(o: Options, name: string): Condition[] {
  return o.list(name).map(({ value, path }) => {
    const c = new Options(value, path);
    const key = checkFieldName(c.string('key'), c.at('key'));
    const re = compilePattern(c.string('pattern'), c.at('pattern'));
    c.done();
    return { key, re };
  });
}

const matches = (record: LogRecord, c: Condition): boolean => {
  const v = getField(record, c.key);
  return v !== undefined && c.re.test(v);
};

export const grepFilter: FilterFactory = (o): Filter => {
  const regexp = conditions(o, 'regexp');
  const exclude = conditions(o, 'exclude');
  o.done();
  if (regexp.length === 0 && exclude.length === 0)
    throw o.error('regexp', 'give at least one regexp or exclude');
  return {
    type: 'grep',
    apply(record: LogRecord): LogRecord | null {
      for (const c of regexp) if (!matches(record, c)) return null;
      for (const c of exclude) if (matches(record, c)) return null;
      return record;
    },
  };
};

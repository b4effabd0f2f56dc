/**
 * @module The `rewrite` filter: Fluentd's rewrite_tag_filter, where the tag is a label of the
 * record (`label`, default `route`) that later flows can match on.
 *
 * ```yaml
 * - rewrite:
 *     label: route
 *     rules:
 *       - { key: SYSLOG_IDENTIFIER, pattern: kata, tag: kata_tag }
 *       - { key: message, pattern: '/^\[(\w+)\]/', tag: '$1.${tag}' }
 *       - { key: status, pattern: '^200$', tag: clear, invert: true }
 * ```
 *
 * The rules are tried in order and the first that matches sets the label to its `tag`, in which
 * `$1`...`$9` are the pattern's groups (`capitalizeRegexBackreference: true` capitalises them),
 * `${tag}` and `__TAG__` the label's current value (`''` when absent), `${tag_parts[N]}` its N-th
 * dot-separated part (negative N from the end). `invert: true` matches when the pattern does not
 * (no groups then). As the plugin does, a rule whose field is missing or empty is skipped unless it
 * is inverted. A record no rule matches is dropped, unless `keepUnmatched: true` (then it goes on
 * unchanged).
 */
import type RE2 from 're2';
import { Options } from '../../config/options.js';
import { safeName } from '../../model/names.js';
import type { LogRecord } from '../../model/record.js';
import type { Filter, FilterFactory } from '../filter.js';
import { checkFieldName, Draft, getField, LABEL_PREFIX } from './fields.js';
import { compilePattern } from './regex.js';

interface Rule {
  readonly key: string;
  readonly re: RE2;
  readonly tag: string;
  readonly invert: boolean;
}

const PLACEHOLDER = /\$\{tag\}|__TAG__|\$\{tag_parts\[(-?\d+)\]\}/g;

function expand(
  rule: Rule,
  groups: readonly (string | undefined)[] | undefined,
  current: string,
  cap: boolean,
) {
  let tag = rule.tag;
  if (groups) {
    tag = tag.replace(/\$(\d)/g, (_, d: string) => {
      const v = groups[Number(d)] ?? '';
      return cap ? v.charAt(0).toUpperCase() + v.slice(1) : v;
    });
  }
  return tag.replace(PLACEHOLDER, (_, n: string | undefined) => {
    if (n === undefined) return current;
    const parts = current.split('.');
    const i = Number(n);
    return parts[i < 0 ? parts.length + i : i] ?? '';
  });
}

export const rewriteFilter: FilterFactory = (o): Filter => {
  const label = o.string('label', 'route');
  if (label === '' || safeName(label) !== label)
    throw o.error('label', `must be a safe label name ([A-Za-z0-9_:]), got ${JSON.stringify(label)}`);
  const rules: Rule[] = o.list('rules').map(({ value, path }) => {
    const r = new Options(value, path);
    const key = checkFieldName(r.string('key'), r.at('key'));
    const re = compilePattern(r.string('pattern'), r.at('pattern'));
    const tag = r.string('tag');
    if (tag === '') throw r.error('tag', 'must not be empty');
    const invert = r.boolean('invert', false);
    r.done();
    return { key, re, tag, invert };
  });
  if (rules.length === 0) throw o.error('rules', 'give at least one rule');
  const keepUnmatched = o.boolean('keepUnmatched', false);
  const cap = o.boolean('capitalizeRegexBackreference', false);
  o.done();
  const field = LABEL_PREFIX + label;

  return {
    type: 'rewrite',
    apply(record: LogRecord): LogRecord | null {
      const current = record.labels[label] ?? '';
      for (const rule of rules) {
        const value = getField(record, rule.key) ?? '';
        if (value === '' && !rule.invert) continue;
        const m = rule.re.exec(value);
        if ((m === null) !== rule.invert) continue;
        const tag = expand(rule, m ?? undefined, current, cap);
        const draft = new Draft(record);
        draft.set(field, tag);
        return draft.record();
      }
      return keepUnmatched ? record : null;
    },
  };
};

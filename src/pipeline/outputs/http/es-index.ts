/**
 * @module The Elasticsearch output's index name pattern, e.g. `kjournal-{kind}-%Y.%m.%d`:
 *
 * - `{name}`: the record's label `name`, looked up through its aliases (`{namespace}` also finds
 *   `kubernetes_namespace_name`, `{log_type}` finds `class`); `none` when the record has no such label.
 * - `%Y` (4-digit year), `%m` (month 01-12), `%d` (day 01-31), `%H` (hour 00-23): the record's time in
 *   UTC; `%%` is a literal `%`.
 *
 * Elasticsearch index names are lowercase and exclude `\ / * ? " < > | , #`, spaces and `:`; a label
 * value is lowercased and each such character becomes `_`. The fixed text of the pattern must be
 * valid already (checked when the configuration is read).
 */
import { labelValue } from '../../../model/kube-meta.js';
import type { LogRecord } from '../../../model/record.js';

type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'label'; readonly name: string }
  | { readonly kind: 'date'; readonly field: 'Y' | 'm' | 'd' | 'H' };

export type IndexPattern = readonly Part[];

const INVALID = /[\\/*?"<>|,#: A-Z]/;
const INVALID_G = /[\\/*?"<>|,#:\s]/g;

/** Parses a pattern; throws Error with the reason (the caller names the field). */
export function parseIndexPattern(text: string): IndexPattern {
  const parts: Part[] = [];
  let literal = '';
  const flush = () => {
    if (literal === '') return;
    if (INVALID.test(literal)) {
      throw new Error(
        `${JSON.stringify(literal)} is not valid in an index name (lowercase, no \\ / * ? " < > | , # : or spaces)`,
      );
    }
    parts.push({ kind: 'text', text: literal });
    literal = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '%') {
      const f = text[i + 1];
      i++;
      if (f === '%') literal += '%';
      else if (f === 'Y' || f === 'm' || f === 'd' || f === 'H') {
        flush();
        parts.push({ kind: 'date', field: f });
      } else throw new Error(`unknown date field %${f ?? ''} (use %Y, %m, %d, %H or %%)`);
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      const name = end < 0 ? '' : text.slice(i + 1, end);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new Error(`bad placeholder at ${text.slice(i)} (use {label})`);
      flush();
      parts.push({ kind: 'label', name });
      i = end;
    } else literal += c;
  }
  flush();
  if (parts.length === 0) throw new Error('is empty');
  const first = parts[0]!;
  if (first.kind === 'text' && /^[-_+.]/.test(first.text))
    throw new Error('must not start with -, _, + or .');
  return parts;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The index of one record. */
export function indexName(pattern: IndexPattern, r: LogRecord): string {
  let date: Date | undefined;
  let out = '';
  for (const p of pattern) {
    if (p.kind === 'text') out += p.text;
    else if (p.kind === 'label') {
      const v = labelValue(r.labels, p.name);
      out += v === undefined || v === '' ? 'none' : v.toLowerCase().replace(INVALID_G, '_');
    } else {
      date ??= new Date(Number(r.timestamp / 1_000_000n));
      if (p.field === 'Y') out += String(date.getUTCFullYear()).padStart(4, '0');
      else if (p.field === 'm') out += pad(date.getUTCMonth() + 1);
      else if (p.field === 'd') out += pad(date.getUTCDate());
      else out += pad(date.getUTCHours());
    }
  }
  return out;
}

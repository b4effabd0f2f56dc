/**
 * @module A selection as a WHERE clause of ClickHouse SQL. 18.16 has no query parameters, so user
 * text (line filters) is written as escaped string literals (http.ts `quote`) and numbers we made
 * ourselves inline, checked (`int`). Line filters follow Loki: `|=` is a case-sensitive substring
 * (`position`), `|~` an unanchored RE2 expression (ClickHouse's `match` is RE2, but lets `.` match
 * a newline, which Go's regexp does not: see goRegex).
 */
import type { LineFilter } from '../store.js';
import { int, quote } from './http.js';

/** Rows of some streams in [from, through] passing line filters: what a deletion selects. */
export interface RowSet {
  readonly streams: readonly bigint[];
  readonly from?: bigint;
  readonly through?: bigint;
  readonly lineFilters?: readonly LineFilter[];
}

export interface Conditions {
  readonly tenant: string;
  readonly start: bigint;
  readonly end: bigint;
  /** undefined: every stream of the tenant. */
  readonly streams?: readonly bigint[];
  readonly lineFilters: readonly LineFilter[];
  readonly after?: { readonly timestamp: bigint; readonly seq: bigint };
  readonly cursorDirection?: 'forward' | 'backward';
  readonly afterSeq?: bigint;
  readonly excluded?: readonly RowSet[];
  /**
   * Content hints (ContentHint in store.ts): the literal must be in the body or the structured
   * metadata, or either holds an escape that could spell it, or the entry is in one of `streams`
   * (those that have the hint's label).
   */
  readonly hints?: readonly { readonly literal: string; readonly streams: readonly bigint[] }[];
}

/** Characters no parser escape is needed for: only \u, \U, \x and octal escapes can spell them. */
const PLAIN = /^[A-Za-z0-9 _.:-]*$/;

/** Whether `col` holds an escape sequence that a parser could unescape into part of `literal`. */
function escapeTest(col: string, literal: string): string {
  // The cheap test first: the regular expression runs only where there is a backslash.
  return PLAIN.test(literal)
    ? `(position(${col}, '\\\\') > 0 AND match(${col}, '\\\\\\\\[uUx0-7]'))`
    : `position(${col}, '\\\\') > 0`;
}

function hintSql(h: { readonly literal: string; readonly streams: readonly bigint[] }): string {
  const lit = quote(h.literal);
  const any = [
    `position(body, ${lit}) > 0`,
    escapeTest('body', h.literal),
    `arrayExists(v -> position(v, ${lit}) > 0 OR position(v, '\\\\') > 0, attr_values)`,
  ];
  if (h.streams.length > 0) any.push(`stream IN (${streamList(h.streams)})`);
  return `(${any.join(' OR ')})`;
}

/**
 * Go's regexp: `.` does not match a newline unless the expression says `(?s)`. The expression goes
 * inside a group rather than after a bare `(?-s)`: 18.16's `match` looks for a literal of the
 * expression before running RE2 and ignores a leading `(?i)` when it does (`match('ERROR',
 * '(?i)error')` is 0 there); inside a group it takes no such shortcut.
 */
export function goRegex(source: string): string {
  return `(?-s:${source})`;
}

function lineFilterSql(f: LineFilter): string | undefined {
  const values = [f.value, ...(f.or ?? [])];
  switch (f.op) {
    case '|=':
      if (values.includes('')) return undefined; // |= "" matches every line, as in Loki
      return `(${values.map((v) => `position(body, ${quote(v)}) > 0`).join(' OR ')})`;
    case '!=':
      return values.map((v) => `position(body, ${quote(v)}) = 0`).join(' AND ');
    case '|~':
      return `(${values.map((v) => `match(body, ${quote(goRegex(v))})`).join(' OR ')})`;
    case '!~':
      return values.map((v) => `NOT match(body, ${quote(goRegex(v))})`).join(' AND ');
  }
}

export function streamList(ids: readonly bigint[]): string {
  return ids.map(int).join(', ');
}

export function rowSetSql(r: RowSet): string {
  const parts = [r.streams.length > 0 ? `stream IN (${streamList(r.streams)})` : '0'];
  if (r.from !== undefined) parts.push(`ts >= ${int(r.from < 0n ? 0n : r.from)}`);
  if (r.through !== undefined) parts.push(r.through < 0n ? '0' : `ts <= ${int(r.through)}`);
  for (const f of r.lineFilters ?? []) {
    const sql = lineFilterSql(f);
    if (sql) parts.push(`(${sql})`);
  }
  return `(${parts.join(' AND ')})`;
}

export function whereClause(c: Conditions): string {
  const parts = [`tenant = ${quote(c.tenant)}`, `ts >= ${int(c.start)}`, `ts < ${int(c.end)}`];
  if (c.streams) parts.push(`stream IN (${streamList(c.streams)})`);
  if (c.after) {
    const t = int(c.after.timestamp);
    const n = int(c.after.seq);
    parts.push(
      c.cursorDirection === 'backward'
        ? `(ts < ${t} OR (ts = ${t} AND seq < ${n}))`
        : `(ts > ${t} OR (ts = ${t} AND seq > ${n}))`,
    );
  }
  if (c.afterSeq !== undefined) parts.push(`seq > ${int(c.afterSeq < 0n ? 0n : c.afterSeq)}`);
  for (const f of c.lineFilters) {
    const sql = lineFilterSql(f);
    if (sql) parts.push(sql);
  }
  for (const r of c.excluded ?? []) parts.push(`NOT ${rowSetSql(r)}`);
  for (const h of c.hints ?? []) parts.push(hintSql(h));
  return parts.join(' AND ');
}

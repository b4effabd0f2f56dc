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
  return parts.join(' AND ');
}

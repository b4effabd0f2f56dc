/**
 * @module Compiles a selection to DuckDB SQL over Parquet parts and write-ahead-log segments.
 * User text (line filters) is only ever bound as a parameter. Numbers we generated ourselves
 * (stream ids, nanosecond bounds) and file paths we named ourselves are written inline, checked
 * against a strict pattern first: DuckDB's table functions do not take bound lists of files.
 */
import type { LineFilter } from '../store.js';

/** The columns of a part, and what a WAL segment's short keys mean. */
export const WAL_COLUMNS =
  "{g:'INTEGER', s:'BIGINT', n:'BIGINT', t:'BIGINT', o:'BIGINT', a:'VARCHAR', b:'VARCHAR'}";

const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;

/** Above the store's largest accepted line (MAX_WAL_LINE_BYTES, 4 MiB), with room for the newline. */
const MAX_OBJECT_BYTES = (4 << 20) + 1024;

export function fileList(paths: readonly string[]): string {
  for (const p of paths)
    if (!SAFE_PATH.test(p)) throw new Error(`refusing unsafe file path ${JSON.stringify(p)}`);
  return `[${paths.map((p) => `'${p}'`).join(', ')}]`;
}

/** The columns of a `.wal` segment's lines (src/store/duckdb/wal/encode.ts), in order. */
const WAL_FIELDS =
  "{g:'INTEGER', s:'BIGINT', n:'BIGINT', t:'BIGINT', o:'BIGINT', a:'VARCHAR', e:'TINYINT', b:'VARCHAR'}";

/**
 * Write-ahead-log segments as one relation with the columns of WAL_COLUMNS. `.wal` segments are
 * read as CSV split on 0x1F with no quoting; an empty field reads as NULL there, and a body with
 * `e` = 1 is a JSON string. `.ndjson` segments are those written before that format.
 */
export function readWal(paths: readonly string[]): string {
  const wal = paths.filter((p) => !p.endsWith('.ndjson'));
  const ndjson = paths.filter((p) => p.endsWith('.ndjson'));
  const branches: string[] = [];
  if (wal.length > 0 || ndjson.length === 0) {
    branches.push(
      `SELECT g, s, n, t, o, COALESCE(a, '') AS a, CASE WHEN e = 1 THEN json_extract_string(b, '$') ELSE COALESCE(b, '') END AS b
       FROM read_csv(${fileList(wal)}, delim = chr(31), quote = '', escape = '', header = false, auto_detect = false,
         new_line = '\\n', columns = ${WAL_FIELDS}, max_line_size = ${MAX_OBJECT_BYTES}, buffer_size = ${MAX_OBJECT_BYTES})`,
    );
  }
  if (ndjson.length > 0) {
    branches.push(
      `SELECT g, s, n, t, o, a, b FROM read_ndjson(${fileList(ndjson)}, columns=${WAL_COLUMNS}, format='newline_delimited', maximum_object_size=${MAX_OBJECT_BYTES})`,
    );
  }
  return `(${branches.join(' UNION ALL ')})`;
}

/** The files one read covers: parquet parts and write-ahead-log segments, and the tenant's index. */
export interface ReadFiles {
  readonly parts: readonly string[];
  readonly wal: readonly string[];
  readonly tenantIndex: number;
}

/**
 * The rows of a tenant from both kinds of file, as one relation with columns
 * stream, n, ts, observed, attrs, body. Filters on it are pushed into both scans by DuckDB.
 */
export function readFilesRelation(src: ReadFiles): string | undefined {
  const branches: string[] = [];
  if (src.parts.length > 0) {
    branches.push(`SELECT stream, n, ts, observed, attrs, body FROM read_parquet(${fileList(src.parts)})`);
  }
  if (src.wal.length > 0) {
    branches.push(
      `SELECT s AS stream, n, t AS ts, o AS observed, a AS attrs, b AS body FROM ${readWal(src.wal)} WHERE g = ${int(src.tenantIndex)}`,
    );
  }
  return branches.length ? `(${branches.join(' UNION ALL ')})` : undefined;
}

function int(n: number | bigint): string {
  const s = n.toString();
  if (!/^-?\d+$/.test(s)) throw new Error(`not an integer: ${s}`);
  return s;
}

/**
 * The bucket of a row: k for ts in (origin + k*width, origin + (k+1)*width]. Both numbers are ours
 * (computed from query times), checked as integers and written inline.
 */
export function bucketExpr(origin: bigint, width: bigint): string {
  return `((ts - ${int(origin)} - 1) // ${int(width)})`;
}

export interface Conditions {
  readonly start: bigint;
  readonly end: bigint;
  /** undefined: every stream of the tenant. */
  readonly streams?: readonly bigint[];
  readonly lineFilters: readonly LineFilter[];
  /**
   * Content hints (see ContentHint in store.ts): the literal must be in the body or the structured
   * metadata, or either holds an escape that could spell it, or the entry is in one of `streams`
   * (those that have the hint's label).
   */
  readonly hints?: readonly { readonly literal: string; readonly streams: readonly bigint[] }[];
  /** Only rows after this (ts, n) position, in `cursorDirection` order. */
  readonly after?: { readonly timestamp: bigint; readonly seq: bigint };
  readonly cursorDirection?: 'forward' | 'backward';
  /** Only rows with n > afterSeq. */
  readonly afterSeq?: bigint;
  /** Rows none of these select (deletions in force). */
  readonly excluded?: readonly RowSet[];
}

/**
 * Rows of some streams: in [from, through] (both inclusive, either open) and passing line filters.
 * What a deletion or a retention rule removes.
 */
export interface RowSet {
  readonly streams: readonly bigint[];
  readonly from?: bigint;
  readonly through?: bigint;
  readonly lineFilters?: readonly LineFilter[];
}

/** A line filter as SQL over `body`; undefined when it passes every line. */
function lineFilterSql(f: LineFilter, bind: (v: string) => string): string | undefined {
  const values = [f.value, ...(f.or ?? [])];
  switch (f.op) {
    case '|=':
      if (values.includes('')) return undefined; // |= "" matches every line, as in Loki
      return `(${values.map((v) => `contains(body, ${bind(v)})`).join(' OR ')})`;
    case '!=':
      return values.map((v) => `NOT contains(body, ${bind(v)})`).join(' AND ');
    case '|~':
      return `(${values.map((v) => `regexp_matches(body, ${bind(v)})`).join(' OR ')})`;
    case '!~':
      return values.map((v) => `NOT regexp_matches(body, ${bind(v)})`).join(' AND ');
  }
}

/** The condition that selects a row set; values bound through `bind`. */
export function rowSetSql(r: RowSet, bind: (v: string) => string): string {
  const parts = [r.streams.length > 0 ? `stream IN (${r.streams.map(int).join(', ')})` : 'false'];
  if (r.from !== undefined) parts.push(`ts >= ${int(r.from)}`);
  if (r.through !== undefined) parts.push(`ts <= ${int(r.through)}`);
  for (const f of r.lineFilters ?? []) {
    const sql = lineFilterSql(f, bind);
    if (sql) parts.push(`(${sql})`);
  }
  return `(${parts.join(' AND ')})`;
}

/** A `bind` that appends values to `params` and names them `$n`. */
export function binder(params: unknown[]): (v: string) => string {
  return (v) => {
    params.push(v);
    return `$${params.length}`;
  };
}

/** Characters no parser escape is needed for: only \u, \U, \x and octal escapes can spell them. */
const PLAIN = /^[A-Za-z0-9 _.:-]*$/;

/** Whether `col` holds an escape sequence that a parser could unescape into part of `literal`. */
function escapeTest(col: string, literal: string): string {
  // The cheap test first: DuckDB evaluates the regular expression only where there is a backslash.
  return PLAIN.test(literal)
    ? `(contains(${col}, '\\') AND regexp_matches(${col}, '\\\\[uUx0-7]'))`
    : `contains(${col}, '\\')`;
}

/** The WHERE clause for a selection; appends bound values to `params`. */
export function whereClause(c: Conditions, params: unknown[]): string {
  const bind = binder(params);
  const parts = [`ts >= ${int(c.start)}`, `ts < ${int(c.end)}`];
  if (c.streams) parts.push(`stream IN (${c.streams.map(int).join(', ')})`);
  if (c.after) {
    const t = int(c.after.timestamp);
    const n = int(c.after.seq);
    parts.push(
      c.cursorDirection === 'backward'
        ? `(ts < ${t} OR (ts = ${t} AND n < ${n}))`
        : `(ts > ${t} OR (ts = ${t} AND n > ${n}))`,
    );
  }
  if (c.afterSeq !== undefined) parts.push(`n > ${int(c.afterSeq)}`);
  for (const f of c.lineFilters) {
    const sql = lineFilterSql(f, bind);
    if (sql) parts.push(sql);
  }
  for (const r of c.excluded ?? []) parts.push(`NOT ${rowSetSql(r, bind)}`);
  for (const h of c.hints ?? []) {
    const lit = bind(h.literal);
    const any = [
      `contains(body, ${lit})`,
      escapeTest('body', h.literal),
      `coalesce(contains(attrs, ${lit}) OR contains(attrs, '\\'), false)`,
    ];
    if (h.streams.length > 0) any.push(`stream IN (${h.streams.map(int).join(', ')})`);
    parts.push(`(${any.join(' OR ')})`);
  }
  return parts.join(' AND ');
}

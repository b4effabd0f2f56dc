/**
 * @module LogQL in the editor: a tokenizer for highlighting, the completion context at the cursor
 * (label names, label values, functions and stages: Loki's own lists), the position a server's
 * parse error names (`parse error at line 1, col 18: ...`, Loki's text), and the query edits a
 * click on a field makes (a stream matcher, a `| json`/`| logfmt` label filter).
 */

export type TokenKind = 'string' | 'number' | 'keyword' | 'label' | 'op' | 'brace' | 'comment' | 'text';
export interface Token {
  kind: TokenKind;
  text: string;
}

/** Loki's range and vector aggregations, functions and pipeline stages (pkg/logql/syntax/lex.go). */
export const FUNCTIONS = [
  'count_over_time',
  'rate',
  'rate_counter',
  'bytes_over_time',
  'bytes_rate',
  'avg_over_time',
  'sum_over_time',
  'min_over_time',
  'max_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
  'absent_over_time',
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'sort',
  'sort_desc',
  'label_replace',
  'vector',
  'by',
  'without',
  'on',
  'ignoring',
  'offset',
];
export const STAGES = [
  'json',
  'logfmt',
  'regexp',
  'pattern',
  'unpack',
  'line_format',
  'label_format',
  'decolorize',
  'drop',
  'keep',
  'unwrap',
];
const KEYWORDS = new Set([...FUNCTIONS, ...STAGES, 'and', 'or', 'unless', 'bool', 'ip']);

const TOKEN =
  /("(?:[^"\\]|\\.)*"?|`[^`]*`?)|(#[^\n]*)|(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y|b|kb|mb|gb|kib|mib|gib)?\b)|([A-Za-z_][A-Za-z0-9_.]*)|(\|=|!=|\|~|!~|=~|==|>=|<=|\|>|!>|[|=<>+\-*/%^!,])|([{}()[\]])|(\s+|.)/gy;

/** The query's tokens, covering every character (for the highlighting overlay). */
export function tokenize(query: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  let depth = 0;
  for (let m = TOKEN.exec(query); m !== null && m[0] !== ''; m = TOKEN.exec(query)) {
    const text = m[0];
    let kind: TokenKind = 'text';
    if (m[1]) kind = 'string';
    else if (m[2]) kind = 'comment';
    else if (m[3]) kind = 'number';
    else if (m[4]) {
      const rest = query.slice(TOKEN.lastIndex);
      kind =
        depth > 0 || /^\s*(=~|!~|!=|=|>|<)/.test(rest) ? 'label' : KEYWORDS.has(text) ? 'keyword' : 'text';
    } else if (m[5]) kind = 'op';
    else if (m[6]) {
      kind = 'brace';
      if (text === '{') depth++;
      else if (text === '}') depth = Math.max(0, depth - 1);
    }
    out.push({ kind, text });
  }
  return out;
}

/** What can be completed at the cursor, and the text it replaces (from `from` to the cursor). */
export type Completion =
  | { kind: 'label'; prefix: string; from: number }
  | { kind: 'value'; label: string; prefix: string; from: number }
  | { kind: 'function'; prefix: string; from: number }
  | { kind: 'stage'; prefix: string; from: number };

export function completionAt(query: string, cursor: number): Completion | undefined {
  const before = query.slice(0, cursor);
  // Inside a selector: count unbalanced braces outside strings.
  let depth = 0;
  let inString = false;
  for (let i = 0; i < before.length; i++) {
    const c = before[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
  }
  if (depth > 0) {
    const value = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)$/.exec(before);
    if (value && inString) {
      return { kind: 'value', label: value[1]!, prefix: value[2]!, from: cursor - value[2]!.length };
    }
    if (inString) return undefined;
    const name = /(?:^|[{,\s])([A-Za-z_][A-Za-z0-9_]*)?$/.exec(before);
    if (name) {
      const prefix = name[1] ?? '';
      return { kind: 'label', prefix, from: cursor - prefix.length };
    }
    return undefined;
  }
  if (inString) return undefined;
  const stage = /\|\s*([A-Za-z_]*)$/.exec(before);
  if (stage) return { kind: 'stage', prefix: stage[1]!, from: cursor - stage[1]!.length };
  const word = /(?:^|[\s(,])([A-Za-z_][A-Za-z0-9_]*)$/.exec(before);
  if (word) return { kind: 'function', prefix: word[1]!, from: cursor - word[1]!.length };
  return undefined;
}

/** The 0-based offset a Loki parse error names (`line 1, col 18`), or undefined. */
export function errorOffset(query: string, message: string): number | undefined {
  const m = /line (\d+), col (\d+)/.exec(message);
  if (!m) return undefined;
  const lines = query.split('\n');
  const line = Number(m[1]) - 1;
  if (line < 0 || line >= lines.length) return undefined;
  let offset = 0;
  for (let i = 0; i < line; i++) offset += lines[i]!.length + 1;
  return Math.min(query.length, offset + Math.max(0, Number(m[2]) - 1));
}

/** A metric query (a chart), not a log query (lines): log queries start with a selector. */
export function isMetricQuery(query: string): boolean {
  return !/^\s*(?:#[^\n]*\n\s*)*\{/.test(query);
}

/** A label value quoted for LogQL. */
export const quote = (v: string): string => JSON.stringify(v);

/** The query with `name="value"` added to its (first) stream selector. */
export function addStreamMatcher(query: string, name: string, value: string): string {
  const matcher = `${name}=${quote(value)}`;
  const close = selectorEnd(query);
  if (close === undefined) return `{${matcher}}`;
  const inner = query.slice(query.indexOf('{') + 1, close).trim();
  return `${query.slice(0, close).trimEnd()}${inner ? ', ' : ''}${matcher}${query.slice(close)}`;
}

function selectorEnd(query: string): number | undefined {
  const open = query.indexOf('{');
  if (open < 0) return undefined;
  let inString = false;
  for (let i = open + 1; i < query.length; i++) {
    const c = query[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '}') return i;
  }
  return undefined;
}

/** The query with a label filter `| name="value"` added, after a `| json` or `| logfmt` when the field needs one. */
export function addFieldFilter(
  query: string,
  parser: 'json' | 'logfmt' | undefined,
  name: string,
  value: string,
): string {
  let q = query.trimEnd();
  if (parser && !new RegExp(`\\|\\s*${parser}\\b`).test(q)) q += ` | ${parser}`;
  return `${q} | ${name}=${quote(value)}`;
}

/** Loki's `| json` labels: nested keys joined by `_`, arrays left out, values as strings. */
export function jsonFields(line: string): Record<string, string> | undefined {
  if (!line.trimStart().startsWith('{')) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  const out: Record<string, string> = {};
  const walk = (v: unknown, prefix: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, c] of Object.entries(v as Record<string, unknown>)) {
        walk(c, prefix ? `${prefix}_${k}` : k);
      }
    } else if (!Array.isArray(v) && prefix) {
      out[prefix.replace(/[^A-Za-z0-9_]/g, '_')] = v === null ? '' : String(v);
    }
  };
  walk(obj, '');
  return out;
}

/** `| logfmt` fields of a line (`a=1 b="x y"`); undefined when the line has none. */
export function logfmtFields(line: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let n = 0;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    let v = m[2]!;
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        v = v.slice(1, -1);
      }
    }
    out[m[1]!.replace(/[^A-Za-z0-9_]/g, '_')] = v;
    n++;
  }
  return n > 0 ? out : undefined;
}

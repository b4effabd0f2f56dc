/**
 * @module `| logfmt [--strict] [--keep-empty] [label="key", ...]`: Loki's logfmt decoder (adapted from
 * go-logfmt, pkg/logql/log/logfmt/decode.go and jsonstring.go) and parsers. Without `--strict`
 * malformed pairs are skipped; with it, parsing stops and `__error__="LogfmtParserErr"` is set. Empty
 * values are dropped unless `--keep-empty`. A key repeated in a line keeps its first value.
 */
import { Buffer } from 'node:buffer';
import type { LogfmtParserStage } from '../ast.js';
import { ERR_LOGFMT } from './errors.js';
import { parseLogfmtExpression } from './extraction-expr.js';
import { replaceInvalidUtf } from './json-scan.js';
import { sanitizeLabelKey } from './sanitize.js';
import type { Stage } from './stage.js';

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  "'": "'",
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Go's getu4 at s[i] (a `\uXXXX`), bounded by `end`; -1 when it is not one. */
function getu4(s: string, i: number, end: number): number {
  if (i + 6 > end || s.charCodeAt(i) !== 92 || s.charCodeAt(i + 1) !== 117) return -1;
  const hex = s.slice(i + 2, i + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? Number.parseInt(hex, 16) : -1;
}

/**
 * Loki's unquoteBytes over the quoted value s[start, end) (quotes included): JSON's escapes and `\'`;
 * control characters and new lines are kept as they are (grafana/loki#3932); a `\u` surrogate without
 * its pair becomes U+FFFD. Undefined for an unknown escape or a `\` at the end.
 */
export function unquoteLogfmt(s: string, start: number, end: number): string | undefined {
  const stop = end - 1;
  let i = start + 1;
  let out = '';
  while (i < stop) {
    const b = s.indexOf('\\', i);
    const runEnd = b === -1 || b >= stop ? stop : b;
    if (runEnd > i) {
      const run = s.slice(i, runEnd);
      if (run.indexOf('"') !== -1) return undefined;
      out += run;
      i = runEnd;
      continue;
    }
    // s[i] is a backslash
    if (i + 1 >= stop) return undefined;
    const e = s[i + 1] as string;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      i += 2;
      continue;
    }
    if (e !== 'u') return undefined;
    let r = getu4(s, i, stop);
    if (r < 0) return undefined;
    i += 6;
    if (r >= 0xd800 && r < 0xe000) {
      const r2 = getu4(s, i, stop);
      if (r < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000) {
        out += String.fromCodePoint(0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00));
        i += 6;
        continue;
      }
      r = 0xfffd;
    }
    out += String.fromCharCode(r);
  }
  return out;
}

/** The decoder: one instance per stage, reset per line. */
export class LogfmtDecoder {
  pos = 0;
  line = '';
  key: string | undefined;
  value: string | undefined;
  err: string | undefined;

  reset(line: string): void {
    this.pos = 0;
    this.line = line;
    this.err = undefined;
  }

  eol(): boolean {
    return this.pos >= this.line.length;
  }

  private syntaxError(msg: string): void {
    const bytePos = Buffer.byteLength(this.line.slice(0, this.pos)) + 1;
    this.err = `logfmt syntax error at pos ${bytePos} : ${msg}`;
  }

  private unexpected(c: string): void {
    this.syntaxError(`unexpected ${c === "'" ? "'\\''" : `'${c}'`}`);
  }

  private skipValue(): false {
    const line = this.line;
    while (this.pos < line.length && line.charCodeAt(this.pos) > 32) this.pos++;
    return false;
  }

  /** Advances to the next pair; false on the end of the line or an error. */
  scan(): boolean {
    this.key = undefined;
    this.value = undefined;
    const line = this.line;
    const n = line.length;
    while (this.pos < n && line.charCodeAt(this.pos) <= 32) this.pos++;
    if (this.pos >= n) return false;

    // key
    const start = this.pos;
    for (;;) {
      if (this.pos >= n) {
        this.key = line.slice(start, this.pos);
        if (this.key.includes('\uFFFD')) {
          this.syntaxError('invalid key');
          return false;
        }
        return true;
      }
      const c = line.charCodeAt(this.pos);
      if (c === 61) {
        if (this.pos > start) {
          this.key = line.slice(start, this.pos);
          if (this.key.includes('\uFFFD')) {
            this.syntaxError('invalid key');
            return this.skipValue();
          }
          break;
        }
        this.unexpected('=');
        return this.skipValue();
      }
      if (c === 34) {
        this.unexpected('"');
        return this.skipValue();
      }
      if (c <= 32) {
        this.key = line.slice(start, this.pos);
        if (this.key.includes('\uFFFD')) {
          this.syntaxError('invalid key');
          return false;
        }
        return true;
      }
      this.pos++;
    }

    // equal
    this.pos++;
    if (this.pos >= n) return true;
    const c0 = line.charCodeAt(this.pos);
    if (c0 <= 32) return true;
    if (c0 === 34) return this.quoted();

    const vs = this.pos;
    while (this.pos < n) {
      const c = line.charCodeAt(this.pos);
      if (c === 61 || c === 34) {
        this.unexpected(c === 61 ? '=' : '"');
        return this.skipValue();
      }
      if (c <= 32) break;
      this.pos++;
    }
    if (this.pos > vs) this.value = line.slice(vs, this.pos);
    return true;
  }

  private quoted(): boolean {
    const line = this.line;
    const n = line.length;
    const start = this.pos;
    let hasEsc = false;
    let esc = false;
    for (let p = start + 1; p < n; p++) {
      const c = line.charCodeAt(p);
      if (esc) esc = false;
      else if (c === 92) {
        hasEsc = true;
        esc = true;
      } else if (c === 34) {
        this.pos = p + 1;
        if (hasEsc) {
          const v = unquoteLogfmt(line, start, this.pos);
          if (v === undefined) {
            this.syntaxError('invalid quoted value');
            return false;
          }
          this.value = v;
        } else if (p > start + 1) {
          this.value = line.slice(start + 1, p);
        }
        return true;
      }
    }
    this.pos = n;
    this.syntaxError('unterminated quoted value');
    return false;
  }
}

export function compileLogfmt(stage: LogfmtParserStage): Stage {
  const dec = new LogfmtDecoder();
  const names = new Map<string, string>();
  const sanitized = (k: string): string => {
    let v = names.get(k);
    if (v === undefined) {
      v = sanitizeLabelKey(k);
      if (names.size > 10_000) names.clear();
      names.set(k, v);
    }
    return v;
  };
  const { strict, keepEmpty } = stage;

  if (stage.params.length === 0) {
    return (st) => {
      dec.reset(st.line);
      while (!dec.eol()) {
        if (!dec.scan()) {
          if (strict) break;
          continue;
        }
        const base = sanitized(dec.key ?? '');
        if (base.length === 0) continue;
        // Loki replaces each U+FFFD with a space rather than drop the value (parser.go removeInvalidUtf)
        const val = replaceInvalidUtf(dec.value ?? '');
        if (!keepEmpty && val.length === 0) continue;
        st.setExtracted(st.extractedName(base), val);
      }
      if (strict && dec.err !== undefined) st.setErr(ERR_LOGFMT, dec.err);
      return true;
    };
  }

  // label -> the key it takes (undefined: none can match); and key -> labels
  const byKey = new Map<string, string[]>();
  const ids: string[] = [];
  for (const p of stage.params) {
    if (!ids.includes(p.label)) ids.push(p.label);
    const key = parseLogfmtExpression(p.key);
    if (key === undefined) continue;
    const list = byKey.get(key);
    if (list) list.push(p.label);
    else byKey.set(key, [p.label]);
  }
  const idSet = new Set(ids);
  const seen = new Set<string>();
  return (st) => {
    // every requested label exists (Loki's LogfmtExpressionParser has no --keep-empty), unless a
    // stream label or structured metadata holds its name: that one stays and the value takes _extracted
    for (const id of ids) if (st.extractedName(id) === id) st.setParsed(id, '');
    seen.clear();
    dec.reset(st.line);
    while (!dec.eol()) {
      if (!dec.scan()) {
        if (strict) break;
        continue;
      }
      const key = sanitized(dec.key ?? '');
      if (key.length === 0) continue;
      // Loki: a line key named like a requested label sets that label too (parser.go, `keys` lookup)
      const targets = byKey.get(key) ?? (idSet.has(key) ? [key] : undefined);
      if (!targets) continue;
      // unlike the other parsers, Loki's expression parser empties a value with U+FFFD
      let val = dec.value ?? '';
      if (val.includes('\uFFFD')) val = '';
      for (const id of targets) {
        // the first occurrence of a key in the line wins, as with `| logfmt`
        if (seen.has(id)) continue;
        seen.add(id);
        st.setParsed(st.extractedName(id), val);
      }
    }
    if (strict && dec.err !== undefined) st.setErr(ERR_LOGFMT, dec.err);
    return true;
  };
}

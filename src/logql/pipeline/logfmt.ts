/**
 * @module `| logfmt [--strict] [--keep-empty] [label="key", ...]`: Loki's logfmt decoder (adapted from
 * go-logfmt) and parsers. Without `--strict` malformed pairs are skipped; with it, parsing stops and
 * `__error__="LogfmtParserErr"` is set. Empty values are dropped unless `--keep-empty`.
 */
import { Buffer } from 'node:buffer';
import type { LogfmtParserStage } from '../ast.js';
import { ERR_LOGFMT } from './errors.js';
import { sanitizeLabelKey } from './sanitize.js';
import type { Stage } from './stage.js';

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
          try {
            this.value = JSON.parse(line.slice(start, this.pos)) as string;
          } catch {
            this.syntaxError('invalid quoted value');
            return false;
          }
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
      st.beginParser();
      dec.reset(st.line);
      while (!dec.eol()) {
        if (!dec.scan()) {
          if (strict) break;
          continue;
        }
        let val = dec.value ?? '';
        if (val.includes('\uFFFD')) val = '';
        if (!keepEmpty && val.length === 0) continue;
        let key = sanitized(dec.key ?? '');
        if (key.length === 0) continue;
        if (st.baseHas(key)) key += '_extracted';
        st.setExtracted(key, val);
      }
      if (strict && dec.err !== undefined) st.setErr(ERR_LOGFMT, dec.err);
      return true;
    };
  }

  // label -> key; and key -> labels
  const byKey = new Map<string, string[]>();
  const ids = new Set<string>();
  for (const p of stage.params) {
    ids.add(p.label);
    const list = byKey.get(p.key);
    if (list) list.push(p.label);
    else byKey.set(p.key, [p.label]);
  }
  return (st) => {
    for (const id of ids) if (!st.baseHas(id)) st.setParsed(id, '');
    dec.reset(st.line);
    while (!dec.eol()) {
      if (!dec.scan()) {
        if (strict) break;
        continue;
      }
      let val = dec.value ?? '';
      if (val.includes('\uFFFD')) val = '';
      // Loki's LogfmtExpressionParser has no --keep-empty: requested labels always exist
      const key = sanitized(dec.key ?? '');
      if (key.length === 0) continue;
      const targets = byKey.get(key) ?? (ids.has(key) ? [key] : undefined);
      if (!targets) continue;
      for (const id of targets) st.setParsed(st.baseHas(id) ? `${id}_extracted` : id, val);
    }
    if (strict && dec.err !== undefined) st.setErr(ERR_LOGFMT, dec.err);
    return true;
  };
}

/**
 * @module `| json`: every scalar field of the line's object becomes a label, nested keys joined with
 * `_`, arrays and nulls skipped (Loki's JSONParser); `| json a="x.y[0]"` extracts only the given paths
 * (Loki's JSONExpressionParser). Malformed JSON sets `__error__="JSONParserErr"`.
 */
import type { JsonParserStage } from '../ast.js';
import { ERR_JSON, PipelineCompileError } from './errors.js';
import { JsonScanError, lookup, objectEach, stringValue, T, unescapeJson } from './json-scan.js';
import { appendSanitized, sanitizeLabelKey } from './sanitize.js';
import type { Stage } from './stage.js';
import type { EntryState } from './state.js';

const EXTRACTED = '_extracted';

class KeyCache {
  private map = new Map<string, string>();
  get(key: string, make: (k: string) => string): string {
    let v = this.map.get(key);
    if (v === undefined) {
      v = make(key);
      if (this.map.size > 10_000) this.map.clear();
      this.map.set(key, v);
    }
    return v;
  }
}

export function compileJson(stage: JsonParserStage): Stage {
  if (stage.params.length > 0) return compileJsonExpressions(stage.params);
  const top = new KeyCache();
  // nested names: prefix -> (raw key -> name)
  const nested = new Map<string, KeyCache>();
  const nestedCache = (prefix: string): KeyCache => {
    let c = nested.get(prefix);
    if (!c) {
      if (nested.size > 10_000) nested.clear();
      c = new KeyCache();
      nested.set(prefix, c);
    }
    return c;
  };
  let st: EntryState;
  let prefix = '';

  const each = (s: string, ks: number, ke: number, vs: number, ve: number, t: T): void => {
    if (t === T.Array || t === T.Null) return;
    const raw = unescapeJson(s, ks, ke);
    if (raw === undefined) throw new JsonScanError('Encountered an invalid escape sequence in a string');
    if (t === T.Object) {
      const saved = prefix;
      const p = prefix;
      prefix =
        p.length === 0
          ? top.get(`\u0000${raw}`, () => appendSanitized('', raw))
          : nestedCache(p).get(`\u0000${raw}`, () => appendSanitized(`${p}_`, raw));
      try {
        objectEach(s, vs, each);
      } finally {
        prefix = saved;
      }
      return;
    }
    let name: string;
    if (prefix.length === 0) {
      name = top.get(raw, sanitizeLabelKey);
      if (name.length === 0) return;
    } else {
      const p = prefix;
      name = nestedCache(p).get(raw, () => appendSanitized(`${p}_`, raw));
    }
    if (st.baseHas(name)) name += EXTRACTED;
    let value: string;
    if (t === T.String) value = stringValue(s, vs, ve);
    else if (t === T.Boolean) value = s.charCodeAt(vs) === 116 ? 'true' : 'false';
    else value = s.slice(vs, ve);
    st.setExtracted(name, value);
  };

  return (state) => {
    st = state;
    state.beginParser();
    prefix = '';
    try {
      objectEach(state.line, 0, each);
    } catch (err) {
      state.setErr(ERR_JSON, err instanceof JsonScanError ? err.message : 'Malformed JSON error');
    }
    return true;
  };
}

/** Loki's JSON expression syntax: `a.b[0]["c d"]`. */
export function parseJsonPath(expr: string): (string | number)[] {
  const out: (string | number)[] = [];
  let i = 0;
  const bad = (): never => {
    throw new PipelineCompileError(`cannot parse expression [${expr}]: syntax error`);
  };
  const ident = /[^.[\]"\s]+/y;
  if (expr.length === 0) bad();
  let first = true;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '[') {
      const rest = expr.slice(i + 1);
      const num = /^\s*(\d+)\s*\]/.exec(rest);
      if (num) {
        out.push(Number(num[1]));
        i += 1 + num[0].length;
      } else {
        const str = /^\s*("(?:[^"\\]|\\.)*")\s*\]/.exec(rest);
        if (!str) return bad();
        out.push(JSON.parse(str[1] as string) as string);
        i += 1 + str[0].length;
      }
    } else {
      if (c === '.') {
        if (first) bad();
        i++;
      } else if (!first) {
        bad();
      }
      ident.lastIndex = i;
      const m = ident.exec(expr);
      if (!m) return bad();
      out.push(m[0]);
      i = ident.lastIndex;
    }
    first = false;
  }
  return out;
}

function compileJsonExpressions(params: JsonParserStage['params']): Stage {
  const exprs = params.map((p) => ({ label: p.label, path: parseJsonPath(p.path) }));
  return (st) => {
    const line = st.line;
    if (line.length === 0) return true;
    const c = line.charCodeAt(0);
    if (c !== 34 && c !== 123 && c !== 91) {
      st.setErr(ERR_JSON);
      return true;
    }
    for (const e of exprs) {
      let found: ReturnType<typeof lookup>;
      try {
        found = lookup(line, e.path);
      } catch (err) {
        st.setErr(ERR_JSON, err instanceof JsonScanError ? err.message : 'Malformed JSON error');
        found = undefined;
      }
      if (found === undefined) {
        if (st.get(e.label) === undefined) st.setParsed(e.label, '');
        continue;
      }
      const name = st.baseHas(e.label) ? e.label + EXTRACTED : e.label;
      let value: string;
      if (found.t === T.Null) value = '';
      else if (found.t === T.String) value = stringValue(line, found.start, found.end);
      else value = line.slice(found.start, found.end);
      st.setParsed(name, value);
    }
    return true;
  };
}

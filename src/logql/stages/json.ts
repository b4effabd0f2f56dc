/**
 * @module `| json`: every scalar field of the line's object becomes a label, nested keys joined with
 * `_`, arrays and nulls skipped (Loki's JSONParser); `| json a="x.y[0]"` extracts only the given paths
 * (Loki's JSONExpressionParser, which scans with jsonparser's EachKey and so extracts from any line
 * that starts like JSON, complete or not). Malformed JSON sets `__error__="JSONParserErr"`.
 */
import type { JsonParserStage } from '../ast.js';
import { ERR_JSON } from './errors.js';
import { jsonPathSteps, parseJsonExpression } from './extraction-expr.js';
import { eachKey, JsonScanError, jsonStringValue, objectEach, T } from './json-scan.js';
import { appendSanitized, sanitizeLabelKey } from './sanitize.js';
import type { Stage } from './stage.js';
import type { EntryState } from './state.js';

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
  let line = '';
  let prefix = '';

  const each = (raw: string, start: number, end: number, t: T): void => {
    if (t === T.Array || t === T.Null) return;
    if (t === T.Object) {
      const saved = prefix;
      const p = prefix;
      prefix =
        p.length === 0
          ? top.get(`\u0000${raw}`, () => appendSanitized('', raw))
          : nestedCache(p).get(`\u0000${raw}`, () => appendSanitized(`${p}_`, raw));
      try {
        objectEach(line, start, end, each);
      } finally {
        prefix = saved;
      }
      return;
    }
    // Loki sets a label even when its sanitized name is empty (`{" ":"v"}` gives the label ""):
    // pkg/logql/log/parser_test.go "whitespace key and whitespace subkey values"
    let name: string;
    if (prefix.length === 0) name = top.get(raw, sanitizeLabelKey);
    else {
      const p = prefix;
      name = nestedCache(p).get(raw, () => appendSanitized(`${p}_`, raw));
    }
    name = st.extractedName(name);
    let value: string;
    if (t === T.String) value = jsonStringValue(line.slice(start + 1, end - 1));
    else if (t === T.Boolean) value = line.charCodeAt(start) === 116 ? 'true' : 'false';
    else value = line.slice(start, end);
    st.setExtracted(name, value);
  };

  return (state) => {
    st = state;
    line = state.line;
    prefix = '';
    try {
      objectEach(line, 0, line.length, each);
    } catch (err) {
      state.setErr(ERR_JSON, err instanceof JsonScanError ? err.message : 'Malformed JSON error');
    }
    return true;
  };
}

function compileJsonExpressions(params: JsonParserStage['params']): Stage {
  const ids = params.map((p) => p.label);
  const paths = params.map((p) => jsonPathSteps(parseJsonExpression(p.path)));
  return (st) => {
    const line = st.line;
    if (line.length === 0) return true;
    // Loki checks only how the line starts; the scan reports what else is wrong
    const c = line.charCodeAt(0);
    if (c !== 34 && c !== 123 && c !== 91) {
      st.setErr(ERR_JSON);
      return true;
    }
    let matches = 0;
    eachKey(line, paths, (i, t, text, err) => {
      if (err !== undefined) {
        st.setErr(ERR_JSON, err);
        return;
      }
      const name = st.extractedName(ids[i] as string);
      let value: string;
      if (t === T.Null) value = '';
      else if (t === T.Object) value = text;
      // Loki unescapes every other value's text, an array's or a number's included
      else value = jsonStringValue(text);
      st.setParsed(name, value);
      matches++;
    });
    // every requested label exists, empty when not found
    if (matches < ids.length) {
      for (const id of ids) if (st.get(id) === undefined) st.setParsed(id, '');
    }
    return true;
  };
}

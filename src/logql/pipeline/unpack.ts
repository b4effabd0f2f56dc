/**
 * @module `| unpack`: a JSON object of string values (Promtail's pack stage); `_entry` replaces the
 * line and, only when it is present, the other string fields become labels, as Loki does.
 */
import { ERR_JSON } from './errors.js';
import { JsonScanError, objectEach, stringValue, T, unescapeJson } from './json-scan.js';
import type { Stage } from './stage.js';

const PACKED = '_entry';

export function compileUnpack(): Stage {
  const buf: string[] = [];
  return (st) => {
    const line = st.line;
    if (line.length === 0) return true;
    if (line.charCodeAt(0) !== 123) {
      st.setErr(ERR_JSON, 'expecting json object(6), but it is not');
      return true;
    }
    buf.length = 0;
    let entry: string | undefined;
    try {
      objectEach(line, 0, (s, ks, ke, vs, ve, t) => {
        if (t !== T.String) return;
        const key = unescapeJson(s, ks, ke);
        if (key === undefined) throw new JsonScanError('Encountered an invalid escape sequence in a string');
        if (key === PACKED) {
          const v = unescapeJson(s, vs, ve);
          if (v === undefined) throw new JsonScanError('Encountered an invalid escape sequence in a string');
          entry = v;
          return;
        }
        buf.push(st.baseHas(key) ? `${key}_extracted` : key, stringValue(s, vs, ve));
      });
    } catch (err) {
      st.setErr(ERR_JSON, err instanceof JsonScanError ? err.message : 'Malformed JSON error');
      return true;
    }
    if (entry !== undefined) {
      st.beginParser();
      for (let i = 0; i < buf.length; i += 2) st.setExtracted(buf[i] as string, buf[i + 1] as string);
      st.line = entry;
    }
    return true;
  };
}

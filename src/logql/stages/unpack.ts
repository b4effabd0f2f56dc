/**
 * @module `| unpack`: a JSON object of string values (Promtail's pack stage); `_entry` replaces the
 * line and, only when it is present, the other string fields become labels, as Loki's UnpackParser
 * (pkg/logql/log/parser.go): key names sanitized like the other parsers' (`foo.bar` gives `foo_bar`),
 * values unescaped with U+FFFD as a space.
 */
import { ERR_JSON } from './errors.js';
import {
  JsonScanError,
  jsonStringValue,
  MALFORMED_ESCAPE,
  objectEach,
  T,
  unescapeJsonText,
} from './json-scan.js';
import { sanitizeLabelKey } from './sanitize.js';
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
      objectEach(line, 0, line.length, (key, start, end, t) => {
        if (t !== T.String) return;
        const raw = line.slice(start + 1, end - 1);
        if (key === PACKED) {
          const e = unescapeJsonText(raw);
          if (e === undefined) throw new JsonScanError(MALFORMED_ESCAPE);
          entry = e;
          return;
        }
        // Loki tests the raw key against the stream labels, then sanitizes (suffix included), so a
        // `foo.bar` field replaces a `foo_bar` stream label rather than take `_extracted`
        buf.push(sanitizeLabelKey(st.extractedName(key)), jsonStringValue(raw));
      });
    } catch (err) {
      st.setErr(ERR_JSON, err instanceof JsonScanError ? err.message : 'Malformed JSON error');
      return true;
    }
    if (entry !== undefined) {
      for (let i = 0; i < buf.length; i += 2) st.setExtracted(buf[i] as string, buf[i + 1] as string);
      st.line = entry;
    }
    return true;
  };
}

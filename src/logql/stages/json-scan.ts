/**
 * @module A JSON scanner over a string that behaves as buger/jsonparser (the grafana/jsonparser fork
 * Loki v3 uses) behaves: it walks objects without building them, keeps numbers as their text, is as
 * lenient as jsonparser where jsonparser is lenient (`EachKey` extracts from a line that is not
 * complete JSON), and fails with jsonparser's error texts where jsonparser fails. Every function
 * works on the span [from, end) of its string, as jsonparser works on a sub-slice. The algorithms
 * follow jsonparser's parser.go and escape.go; the code is this project's.
 */

export class JsonScanError extends Error {}

export const MALFORMED_OBJECT = "Value looks like object, but can't find closing '}' symbol";
export const MALFORMED_ARRAY = "Value is array, but can't find closing ']' symbol";
export const MALFORMED_STRING = "Value is string, but can't find closing '\"' symbol";
export const MALFORMED_VALUE =
  "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol";
export const MALFORMED_JSON = 'Malformed JSON error';
export const MALFORMED_ESCAPE = 'Encountered an invalid escape sequence in a string';
export const UNKNOWN_TYPE = 'Unknown value type';

export const T = { String: 1, Number: 2, Object: 3, Array: 4, Boolean: 5, Null: 6 } as const;
export type T = (typeof T)[keyof typeof T];

/**
 * One error object per message, made once: a `| json` over lines that are not JSON fails on most
 * of them, and constructing an Error (its stack trace above all) per line was a fifth of such a
 * query's time. Callers read only the message.
 */
const failures = new Map<string, JsonScanError>();

function fail(msg: string): never {
  let err = failures.get(msg);
  if (err === undefined) {
    err = new JsonScanError(msg);
    failures.set(msg, err);
  }
  throw err;
}

const QUOTE = 34;
const BACKSLASH = 92;

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** jsonparser's nextToken: the first index in [i, end) that is not JSON white space, or -1. */
export function nextToken(s: string, i: number, end: number): number {
  for (; i < end; i++) if (!isWs(s.charCodeAt(i))) return i;
  return -1;
}

/**
 * jsonparser's stringEnd: `i` is just after an opening quote; the index after the closing quote
 * (one not escaped by an odd run of backslashes), or -1.
 */
export function stringEnd(s: string, i: number, end: number): number {
  const start = i;
  for (;;) {
    const q = s.indexOf('"', i);
    if (q === -1 || q >= end) return -1;
    let b = q - 1;
    while (b >= start && s.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/** jsonparser's blockEnd: s[i] opens a block; the index after its close (strings skipped), or -1. */
export function blockEnd(s: string, i: number, end: number, open: number, close: number): number {
  let level = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const e = stringEnd(s, i + 1, end);
      if (e === -1) return -1;
      i = e - 1;
    } else if (c === open) level++;
    else if (c === close) {
      level--;
      if (level === 0) return i + 1;
    }
  }
  return -1;
}

/** jsonparser's tokenEnd: the end of a number, boolean or null (white space, `,`, `}` or `]`). */
function tokenEnd(s: string, i: number, end: number): number {
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (isWs(c) || c === 44 || c === 125 || c === 93) return i;
  }
  return end;
}

/** A value found by `getValue`: its raw span (quotes included for strings) and its type. */
export interface JsonValue {
  start: number;
  end: number;
  t: T;
}

/** Where scanValue found its value, and its type (module state: no allocation per value). */
let scannedStart = 0;
let scannedType: T = T.Null;

/**
 * jsonparser's Get without keys: scans the value at the first token of [i, end) and returns its end;
 * its start and type are left in scannedStart and scannedType. Throws jsonparser's errors.
 */
function scanValue(s: string, i: number, end: number): number {
  const at = nextToken(s, i, end);
  if (at === -1) fail(MALFORMED_JSON);
  scannedStart = at;
  const c = s.charCodeAt(at);
  if (c === QUOTE) {
    scannedType = T.String;
    const e = stringEnd(s, at + 1, end);
    if (e === -1) fail(MALFORMED_STRING);
    return e;
  }
  if (c === 91) {
    scannedType = T.Array;
    const e = blockEnd(s, at, end, 91, 93);
    if (e === -1) fail(MALFORMED_ARRAY);
    return e;
  }
  if (c === 123) {
    scannedType = T.Object;
    const e = blockEnd(s, at, end, 123, 125);
    if (e === -1) fail(MALFORMED_OBJECT);
    return e;
  }
  const e = tokenEnd(s, at, end);
  // jsonparser takes anything that starts like a number as one, `1abc` included
  if (c === 45 || (c >= 48 && c <= 57)) {
    scannedType = T.Number;
    return e;
  }
  if (c === 116 || c === 102) {
    const word = s.slice(at, e);
    if (word !== 'true' && word !== 'false') fail(UNKNOWN_TYPE);
    scannedType = T.Boolean;
    return e;
  }
  if (c === 117 || c === 110) {
    if (e - at !== 4 || !s.startsWith('null', at)) fail(UNKNOWN_TYPE);
    scannedType = T.Null;
    return e;
  }
  return fail(UNKNOWN_TYPE);
}

/** jsonparser's Get without keys: the value at the first token of [i, end); throws its errors. */
export function getValue(s: string, i: number, end: number): JsonValue {
  const e = scanValue(s, i, end);
  return { start: scannedStart, end: e, t: scannedType };
}

/** The text jsonparser hands over for a value: a string's contents without quotes, else the raw text. */
export function valueText(s: string, v: JsonValue): string {
  return v.t === T.String ? s.slice(v.start + 1, v.end - 1) : s.slice(v.start, v.end);
}

/** A key (unescaped) and its value's raw span [start, end) and type. */
export type ObjectCallback = (key: string, start: number, end: number, t: T) => void;

/**
 * jsonparser's ObjectEach over the object that starts at the first token of [from, end): the callback
 * gets each key (unescaped) and its value. Like grafana/jsonparser, a `,` directly before the closing
 * brace is an error, while `, }` is not.
 */
export function objectEach(s: string, from: number, end: number, cb: ObjectCallback): void {
  let i = nextToken(s, from, end);
  if (i === -1 || s.charCodeAt(i) !== 123) fail(MALFORMED_OBJECT);
  i = nextToken(s, i + 1, end);
  if (i === -1) fail(MALFORMED_JSON);
  if (s.charCodeAt(i) === 125) return;
  let comma = -1;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 125) {
      if (comma !== -1 && comma + 1 === i) fail(MALFORMED_OBJECT);
      return;
    }
    if (c !== QUOTE) fail(MALFORMED_OBJECT);
    const ke = stringEnd(s, i + 1, end);
    if (ke === -1) fail(MALFORMED_JSON);
    let key = s.slice(i + 1, ke - 1);
    if (key.indexOf('\\') !== -1) {
      const k = unescapeJsonText(key);
      if (k === undefined) fail(MALFORMED_ESCAPE);
      key = k;
    }
    i = nextToken(s, ke, end);
    if (i === -1 || s.charCodeAt(i) !== 58) fail(MALFORMED_JSON);
    const ve = scanValue(s, i + 1, end);
    cb(key, scannedStart, ve, scannedType);
    i = nextToken(s, ve, end);
    if (i === -1) fail(MALFORMED_ARRAY);
    const d = s.charCodeAt(i);
    if (d === 125) return;
    if (d !== 44) fail(MALFORMED_OBJECT);
    comma = i;
    i = nextToken(s, i + 1, end);
    if (i === -1) fail(MALFORMED_ARRAY);
  }
  fail(MALFORMED_OBJECT);
}

/**
 * jsonparser's ArrayEach over the array at s[i]: each element's value. Returns the index of the
 * closing `]` (or where it stopped) and the error, without throwing, as jsonparser returns them.
 */
function arrayEach(
  s: string,
  i: number,
  end: number,
  cb: (v: JsonValue) => void,
): { at: number; err?: string } {
  let at = nextToken(s, i + 1, end);
  if (at === -1) return { at: i + 1, err: MALFORMED_JSON };
  if (s.charCodeAt(at) === 93) return { at };
  for (;;) {
    let v: JsonValue;
    try {
      v = getValue(s, at, end);
    } catch (err) {
      return { at, err: (err as Error).message };
    }
    cb(v);
    at = v.end;
    const n = nextToken(s, at, end);
    if (n === -1) return { at, err: MALFORMED_ARRAY };
    at = n;
    const c = s.charCodeAt(at);
    if (c === 93) return { at };
    if (c !== 44) return { at, err: MALFORMED_ARRAY };
    at++;
  }
}

/** Go's strconv.Atoi for an array index in a path (`[12]` gives 12); NaN when it is not one. */
function pathIndex(step: string): number {
  const digits = step.slice(1, -1);
  return /^[+-]?\d+$/.test(digits) ? Number(digits) : Number.NaN;
}

/**
 * jsonparser's searchKeys on s[from, end): the index just after the `:` of the value at the path, or
 * -1. A step written `[n]` is an array index. Used for what follows an array index in a path.
 */
function searchKeys(s: string, from: number, end: number, keys: readonly string[]): number {
  if (keys.length === 0) return from;
  let keyLevel = 0;
  let level = 0;
  let lastMatched = true;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const ks = i + 1;
      const ke = stringEnd(s, ks, end);
      if (ke === -1) return -1;
      const at = nextToken(s, ke, end);
      if (at === -1) return -1;
      if (s.charCodeAt(at) !== 58) {
        i = at - 1;
        continue;
      }
      i = at;
      if (level < 1) return -1;
      let key = s.slice(ks, ke - 1);
      if (key.indexOf('\\') !== -1) {
        const k = unescapeJsonText(key);
        if (k === undefined) return -1;
        key = k;
      }
      if (level > keys.length) return -1;
      if (key === keys[level - 1]) {
        lastMatched = true;
        if (keyLevel === level - 1) {
          keyLevel++;
          if (keyLevel === keys.length) return i + 1;
        }
      } else lastMatched = false;
    } else if (c === 123) {
      if (!lastMatched) {
        const e = blockEnd(s, i, end, 123, 125);
        if (e === -1) return -1;
        i = e - 1;
      } else level++;
    } else if (c === 125) {
      level--;
      if (level === keyLevel) keyLevel--;
    } else if (c === 91) {
      const step = keys[level] ?? '';
      if (keyLevel === level && step.startsWith('[')) {
        if (step.length < 3 || !step.endsWith(']')) return -1;
        const want = pathIndex(step);
        if (Number.isNaN(want)) return -1;
        let k = 0;
        let found: JsonValue | undefined;
        arrayEach(s, i, end, (v) => {
          if (k === want) found = v;
          k++;
        });
        if (!found) return -1;
        const sub = searchKeys(s, found.start, found.end, keys.slice(level + 1));
        if (sub < 0) return -1;
        return sub;
      }
      const e = blockEnd(s, i, end, 91, 93);
      if (e === -1) return -1;
      i = e - 1;
    } else if (c === 58) return -1;
  }
  return -1;
}

/** What `eachKey` reports for a path: the value's type and text, or the error jsonparser gives. */
export type EachKeyCallback = (path: number, t: T | undefined, text: string, err?: string) => void;

function sameTree(p: readonly string[], seen: readonly string[], level: number): boolean {
  const n = Math.min(p.length, level);
  for (let i = 0; i < n; i++) if (p[i] !== seen[i]) return false;
  return true;
}

/**
 * jsonparser's EachKey: one pass over s that reports the first value found at each path (steps are
 * keys, or `[n]` for array indexes). It scans token by token and needs no complete document: the
 * line `{"a":"b"` gives `a`. Loki's `| json a="path"` extracts with it.
 */
export function eachKey(s: string, paths: readonly (readonly string[])[], cb: EachKeyCallback): void {
  const end = s.length;
  const done: boolean[] = paths.map(() => false);
  let matched = 0;
  let maxPath = 0;
  for (const p of paths) if (p.length > maxPath) maxPath = p.length;
  const seen: string[] = new Array(maxPath).fill('');
  let level = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const ks = i + 1;
      const ke = stringEnd(s, ks, end);
      if (ke === -1) return;
      const at = nextToken(s, ke, end);
      if (at === -1) return;
      if (s.charCodeAt(at) !== 58) {
        i = at - 1;
        continue;
      }
      i = at;
      let key = s.slice(ks, ke - 1);
      if (key.indexOf('\\') !== -1) {
        const k = unescapeJsonText(key);
        if (k === undefined) return;
        key = k;
      }
      if (maxPath >= level) {
        if (level < 1) {
          cb(-1, undefined, '', MALFORMED_JSON);
          return;
        }
        seen[level - 1] = key;
        for (let pi = 0; pi < paths.length; pi++) {
          const p = paths[pi] as readonly string[];
          if (p.length !== level || done[pi] || p[level - 1] !== key || !sameTree(p, seen, level)) continue;
          matched++;
          done[pi] = true;
          try {
            const v = getValue(s, i + 1, end);
            cb(pi, v.t, valueText(s, v));
          } catch (err) {
            cb(pi, undefined, '', (err as Error).message);
          }
          if (matched === paths.length) return;
        }
      }
    } else if (c === 123) level++;
    else if (c === 125 || c === 93) level--;
    else if (c === 91) {
      if (level < 0) {
        cb(-1, undefined, '', MALFORMED_JSON);
        return;
      }
      // the paths whose next step is an index into this array
      const wanted: { pi: number; index: number }[] = [];
      for (let pi = 0; pi < paths.length; pi++) {
        const p = paths[pi] as readonly string[];
        const step = p[level];
        // jsonparser would index an empty step; grafana's fork and this scanner skip it
        if (p.length < level + 1 || done[pi] || !step || !step.startsWith('[') || !sameTree(p, seen, level))
          continue;
        if (step.length >= 2) {
          const n = pathIndex(step);
          // Go's Atoi error leaves the index at 0
          wanted.push({ pi, index: Number.isNaN(n) ? 0 : n });
        }
      }
      if (wanted.length === 0) {
        const e = blockEnd(s, i, end, 91, 93);
        if (e === -1) return;
        i = e - 1;
        continue;
      }
      level++;
      let k = 0;
      const r = arrayEach(s, i, end, (v) => {
        for (const w of wanted) {
          if (w.index !== k) continue;
          const p = paths[w.pi] as readonly string[];
          matched++;
          done[w.pi] = true;
          if (v.t === T.String) {
            // jsonparser searches the rest of the path in the string's contents
            const from = v.start + 1;
            const to = v.end - 1;
            const of = searchKeys(s, from, to, p.slice(level));
            if (of !== -1) cb(w.pi, T.String, s.slice(of, to));
          } else {
            const of = searchKeys(s, v.start, v.end, p.slice(level));
            if (of !== -1) {
              try {
                const got = getValue(s, of, v.end);
                cb(w.pi, got.t, valueText(s, got));
              } catch (err) {
                cb(w.pi, undefined, '', (err as Error).message);
              }
            }
          }
        }
        k++;
      });
      if (matched === paths.length) return;
      i = r.at - 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Unescaping, as jsonparser's escape.go

function hex4(s: string, i: number): number {
  if (i + 6 > s.length) return -1;
  let r = 0;
  for (let j = i + 2; j < i + 6; j++) {
    const c = s.charCodeAt(j);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 65 && c <= 70) d = c - 55;
    else if (c >= 97 && c <= 102) d = c - 87;
    else return -1;
    r = r * 16 + d;
  }
  return r;
}

const SIMPLE: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * jsonparser's Unescape of a string's contents (no quotes): undefined on an invalid escape. Unlike
 * JSON.parse it copies control characters as they are, and a `\uXXXX` that is half a surrogate pair
 * without its other half is an error; a pair whose code point does not exist becomes U+FFFD.
 */
export function unescapeJsonText(raw: string): string | undefined {
  let i = raw.indexOf('\\');
  if (i === -1) return raw;
  let out = raw.slice(0, i);
  const n = raw.length;
  while (i < n) {
    if (i + 1 >= n) return undefined;
    const e = raw[i + 1] as string;
    const simple = SIMPLE[e];
    if (simple !== undefined) {
      out += simple;
      i += 2;
    } else if (e === 'u') {
      const r = hex4(raw, i);
      if (r === -1) return undefined;
      if (r < 0xd800 || r > 0xdfff) {
        out += String.fromCharCode(r);
        i += 6;
      } else {
        // jsonparser reads the next six characters as the low half without checking they start `\u`
        const r2 = hex4(raw, i + 6);
        if (r2 === -1 || r2 < 0xdc00) return undefined;
        const cp = 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
        out += cp > 0x10ffff ? '\uFFFD' : String.fromCodePoint(cp);
        i += 12;
      }
    } else return undefined;
    const next = raw.indexOf('\\', i);
    if (next === -1) {
      out += raw.slice(i);
      break;
    }
    out += raw.slice(i, next);
    i = next;
  }
  return out;
}

/**
 * Loki's unescapeJSONString: a label value from a JSON string's contents. An invalid escape gives "";
 * each replacement character (invalid UTF-8 in the stored line, or an escape of U+FFFD) becomes a
 * space, as Loki's parsers replace it (pkg/logql/log/parser.go removeInvalidUtf) because Prometheus
 * refuses U+FFFD in label values.
 */
export function jsonStringValue(raw: string): string {
  const v = unescapeJsonText(raw);
  if (v === undefined) return '';
  return replaceInvalidUtf(v);
}

/** Loki's removeInvalidUtf over a value: U+FFFD (and any lone surrogate) becomes a space. */
export function replaceInvalidUtf(v: string): string {
  if (v.isWellFormed()) return v.indexOf('\uFFFD') === -1 ? v : v.replaceAll('\uFFFD', ' ');
  return v.toWellFormed().replaceAll('\uFFFD', ' ');
}

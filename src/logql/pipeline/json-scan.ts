/**
 * @module A small JSON scanner over a string, in the manner of buger/jsonparser that Loki uses: it
 * walks objects without building them, keeps numbers as their text, and reports jsonparser's errors.
 */

export class JsonScanError extends Error {}

export const MALFORMED_OBJECT = "Value looks like object, but can't find closing '}' symbol";
export const MALFORMED_ARRAY = "Value is array, but can't find closing ']' symbol";
export const MALFORMED_STRING = "Value is string, but can't find closing '\"' symbol";
export const MALFORMED_VALUE =
  "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol";
export const MALFORMED_JSON = 'Malformed JSON error';
export const UNKNOWN_TYPE = 'Unknown value type';

export const T = { String: 1, Number: 2, Object: 3, Array: 4, Boolean: 5, Null: 6 } as const;
export type T = (typeof T)[keyof typeof T];

function fail(msg: string): never {
  throw new JsonScanError(msg);
}

export function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    i++;
  }
  return i;
}

/** s[i] is `"`: the index after the closing quote. */
export function stringEnd(s: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q === -1) fail(MALFORMED_STRING);
    let b = q - 1;
    while (b > i && s.charCodeAt(b) === 92) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** The contents of the string token s[start, end) (quotes included), unescaped; undefined when invalid. */
export function unescapeJson(s: string, start: number, end: number): string | undefined {
  const inner = s.slice(start + 1, end - 1);
  if (inner.indexOf('\\') === -1) return inner;
  try {
    return JSON.parse(s.slice(start, end)) as string;
  } catch {
    return undefined;
  }
}

/** A label value from a string token: "" when the text is not valid Unicode, as Loki does. */
export function stringValue(s: string, start: number, end: number): string {
  const v = unescapeJson(s, start, end);
  if (v === undefined) return '';
  if (v.indexOf('\uFFFD') !== -1 || !v.isWellFormed()) return '';
  return v;
}

function tokenEnd(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9 || c === 44 || c === 125 || c === 93) return i;
    i++;
  }
  return i;
}

/** The end of the object or array starting at i (brackets counted outside strings). */
function blockEnd(s: string, i: number, open: number, close: number): number {
  let depth = 0;
  let j = i;
  const n = s.length;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c === 34) {
      j = stringEnd(s, j);
      continue;
    }
    if (c === open) depth++;
    else if (c === close) {
      depth--;
      if (depth === 0) return j + 1;
    }
    j++;
  }
  return -1;
}

let valueType: T = T.Null;

/** Scans the value at i (no leading white space): sets valueType, returns its end. */
export function valueEnd(s: string, i: number): number {
  if (i >= s.length) fail(MALFORMED_VALUE);
  const c = s.charCodeAt(i);
  switch (c) {
    case 34:
      valueType = T.String;
      return stringEnd(s, i);
    case 123: {
      valueType = T.Object;
      const e = blockEnd(s, i, 123, 125);
      if (e === -1) fail(MALFORMED_OBJECT);
      return e;
    }
    case 91: {
      valueType = T.Array;
      const e = blockEnd(s, i, 91, 93);
      if (e === -1) fail(MALFORMED_ARRAY);
      return e;
    }
    case 116:
    case 102: {
      valueType = T.Boolean;
      const e = tokenEnd(s, i);
      const w = s.slice(i, e);
      if (w !== 'true' && w !== 'false') fail(UNKNOWN_TYPE);
      return e;
    }
    case 110: {
      valueType = T.Null;
      const e = tokenEnd(s, i);
      if (s.slice(i, e) !== 'null') fail(UNKNOWN_TYPE);
      return e;
    }
    default:
      if (c === 45 || (c >= 48 && c <= 57)) {
        valueType = T.Number;
        const e = tokenEnd(s, i);
        if (e === i) fail(MALFORMED_VALUE);
        return e;
      }
      return fail(UNKNOWN_TYPE);
  }
}

export type EachCallback = (
  s: string,
  keyStart: number,
  keyEnd: number,
  vStart: number,
  vEnd: number,
  t: T,
) => void;

/** jsonparser.ObjectEach over the object at i; the callback gets the key token and the value span. */
export function objectEach(s: string, from: number, cb: EachCallback): void {
  let i = skipWs(s, from);
  if (i >= s.length || s.charCodeAt(i) !== 123) fail(MALFORMED_OBJECT);
  i = skipWs(s, i + 1);
  if (i >= s.length) fail(MALFORMED_JSON);
  if (s.charCodeAt(i) === 125) return;
  for (;;) {
    if (s.charCodeAt(i) !== 34) fail(MALFORMED_JSON);
    const ks = i;
    const ke = stringEnd(s, i);
    i = skipWs(s, ke);
    if (i >= s.length || s.charCodeAt(i) !== 58) fail(MALFORMED_JSON);
    i = skipWs(s, i + 1);
    const vs = i;
    const ve = valueEnd(s, i);
    cb(s, ks, ke, vs, ve, valueType);
    i = skipWs(s, ve);
    if (i >= s.length) fail(MALFORMED_OBJECT);
    const c = s.charCodeAt(i);
    if (c === 125) return;
    if (c !== 44) fail(MALFORMED_JSON);
    i = skipWs(s, i + 1);
    if (i >= s.length) fail(MALFORMED_OBJECT);
  }
}

/** Finds the value at a path (keys and array indexes): its span and type, or undefined. */
export function lookup(
  s: string,
  path: readonly (string | number)[],
): { start: number; end: number; t: T } | undefined {
  let i = skipWs(s, 0);
  for (const step of path) {
    if (typeof step === 'number') {
      if (s.charCodeAt(i) !== 91) return undefined;
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 93) return undefined;
      let k = 0;
      let found = -1;
      for (;;) {
        const e = valueEnd(s, i);
        if (k === step) {
          found = i;
          break;
        }
        k++;
        i = skipWs(s, e);
        if (s.charCodeAt(i) !== 44) return undefined;
        i = skipWs(s, i + 1);
      }
      i = found;
    } else {
      if (s.charCodeAt(i) !== 123) return undefined;
      let found = -1;
      objectEach(s, i, (str, ks, ke, vs) => {
        if (found !== -1) return;
        if (unescapeJson(str, ks, ke) === step) found = vs;
      });
      if (found === -1) return undefined;
      i = found;
    }
  }
  const end = valueEnd(s, i);
  return { start: i, end, t: valueType };
}

/**
 * @module Go's `mime.ParseMediaType`, which Loki runs on the Content-Type before choosing a decoder:
 * its verdicts and error texts decide which push bodies Loki takes (`application/json; charset=utf-8`
 * is JSON, `application/json; charsetutf-8` fails with `mime: invalid media parameter`, and a
 * missing header fails with `mime: no media type`).
 */

/** RFC 1521 token characters: printable ASCII except space and tspecials. */
function isTokenChar(c: number): boolean {
  if (c <= 0x20 || c >= 0x7f) return false;
  return !'()<>@,;:\\"/[]?='.includes(String.fromCharCode(c));
}

function tokenEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** checkMediaTypeDisposition: `type` or `type/subtype`, nothing else. */
function checkDisposition(s: string): string | undefined {
  const typEnd = tokenEnd(s, 0);
  if (typEnd === 0) return 'mime: no media type';
  if (typEnd === s.length) return undefined;
  if (s.charCodeAt(typEnd) !== 0x2f) return 'mime: expected slash after first token';
  const subEnd = tokenEnd(s, typEnd + 1);
  if (subEnd === typEnd + 1) return 'mime: expected token after slash';
  if (subEnd !== s.length) return 'mime: unexpected content after media subtype';
  return undefined;
}

/** Length of a `; name=value` parameter at `from` (value a token or a quoted string), or -1. */
function mediaParamEnd(s: string, from: number): number {
  let i = from;
  if (s.charCodeAt(i) !== 0x3b) return -1;
  i++;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  const nameEnd = tokenEnd(s, i);
  if (nameEnd === i) return -1;
  i = nameEnd;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  if (s.charCodeAt(i) !== 0x3d) return -1;
  i++;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  if (s.charCodeAt(i) === 0x22) {
    for (i++; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x22) return i + 1;
      if (c === 0x5c) i++;
    }
    return -1;
  }
  const valueEnd = tokenEnd(s, i);
  return valueEnd === i ? -1 : valueEnd;
}

/** Returns the lower-cased media type, or throws an Error with Go's text. */
export function parseMediaType(value: string): string {
  const semi = value.indexOf(';');
  const base = semi < 0 ? value : value.slice(0, semi);
  const mediaType = base.toLowerCase().trim();
  const bad = checkDisposition(mediaType);
  if (bad !== undefined) throw new Error(bad);
  if (semi < 0) return mediaType;
  let i = semi;
  const names = new Set<string>();
  for (;;) {
    while (i < value.length && isSpace(value.charCodeAt(i))) i++;
    if (i >= value.length) return mediaType;
    const end = mediaParamEnd(value, i);
    if (end < 0) {
      // A lone trailing ";" is tolerated, as in Go.
      if (value.slice(i).trim() === ';') return mediaType;
      throw new Error('mime: invalid media parameter');
    }
    const name = value
      .slice(i + 1, value.indexOf('=', i))
      .trim()
      .toLowerCase();
    if (names.has(name)) throw new Error('mime: duplicate parameter name');
    names.add(name);
    i = end;
  }
}

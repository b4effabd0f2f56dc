/**
 * @module Go's ways of printing strings, runes and times, so that our messages read exactly like the
 * ones Loki (a Go program) writes: `strconv.Quote`, `%q` of a rune, `%#U`, `time.RFC3339`.
 */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, '0');
}

/** One code point as `strconv.Quote` writes it inside a literal quoted with `quote`. */
function quoteCodePoint(cp: number, quote: number): string {
  if (cp === quote || cp === 0x5c) return `\\${String.fromCharCode(cp)}`;
  if (isPrint(cp)) return String.fromCodePoint(cp);
  switch (cp) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp < 0x10000) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

/** True when `s` needs no escaping: printable ASCII without `"` or `\` (the common label value). */
function plainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Go's `strconv.Quote`. */
export function goQuote(s: string): string {
  if (plainAscii(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) out += quoteCodePoint(ch.codePointAt(0) ?? 0, 0x22);
  return `${out}"`;
}

/** Go's `%.Nq` of a string: the first `max` runes, quoted. */
export function goQuoteTruncated(s: string, max: number): string {
  return goQuote(Array.from(s).slice(0, max).join(''));
}

/** Go's `%q` of a rune (`strconv.QuoteRune`): `'x'`, `'\n'`, `'\''`. */
export function goQuoteRune(cp: number): string {
  return `'${quoteCodePoint(cp, 0x27)}'`;
}

/** Go's `%#U` of a rune: `U+0022 '"'`, or `U+0007` when not printable. */
export function goUnicode(cp: number): string {
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrint(cp) ? `${code} '${String.fromCodePoint(cp)}'` : code;
}

const NS_PER_SECOND = 1_000_000_000n;

/**
 * Go's `time.Unix(0, ns).Format(time.RFC3339)` in UTC: whole seconds, rounded down as Go truncates
 * (so 1969-12-31T23:59:59Z for -1ns).
 */
export function formatRfc3339(ns: bigint): string {
  let seconds = ns / NS_PER_SECOND;
  if (ns % NS_PER_SECOND < 0n) seconds -= 1n;
  const iso = new Date(Number(seconds) * 1000).toISOString();
  // toISOString writes years past 9999 as +010000; Go would not get there from an int64 anyway.
  return `${iso.slice(0, iso.length - 5)}Z`;
}

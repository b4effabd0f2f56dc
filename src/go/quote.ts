/**
 * @module Go's string literals both ways, so that our messages read exactly like the ones Loki (a Go
 * program) writes and our lexers read what Go's read: `strconv.Quote`, `%q` of a rune, `%#U`, and
 * `strconv.Unquote` as Prometheus's strutil.Unquote calls it.
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

/**
 * The value of a STRING token the lexer accepted (Prometheus's strutil.Unquote): backticks are raw,
 * `\x` and octal escapes are bytes (so `\xc3\xa9` is é), `\u`/`\U` are code points.
 */
export function unquoteGo(token: string): string {
  const quote = token.charCodeAt(0);
  const body = token.slice(1, -1);
  if (quote === 0x60 || !body.includes('\\')) return body;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length > 0) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    }
  };
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 0x5c) {
      flush();
      out += body[i];
      continue;
    }
    const e = body[++i]!;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      flush();
      out += simple;
    } else if (e === 'x') {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      flush();
      out += String.fromCodePoint(Number.parseInt(body.slice(i + 1, i + 1 + len), 16));
      i += len;
    } else if (e >= '0' && e <= '7') {
      bytes.push(Number.parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else {
      // The escaped quote character.
      flush();
      out += e;
    }
  }
  flush();
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

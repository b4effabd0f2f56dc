/**
 * @module Go string literals, as Go's strconv.Unquote and Prometheus's strutil.Unquote read them.
 */

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

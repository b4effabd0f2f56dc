/**
 * @module The expressions of `| json label="expr"` and `| logfmt label="expr"`, read as Loki reads
 * them (pkg/logql/log/jsonexpr and pkg/logql/log/logfmt: a small lexer and a goyacc grammar), with
 * the same refusals and the same messages: `a.b[0]["c d"]` for json; one key for logfmt, so
 * `"field with space"` is `syntax error: unexpected KEY`.
 *
 * Loki's lexers have quirks this reproduces: a quoted key ends at `"` or `]` and knows no escapes;
 * field names are `[A-Za-z_][A-Za-z0-9_]*` (anything else must be quoted in brackets); a character
 * the lexer does not know stops the input, so the grammar may still accept what came before it, and
 * the error reported is the lexer's only when the grammar did not fail as well.
 */
import { LogPipelineCompileError } from './errors.js';

type Tok =
  | { t: '$end' }
  | { t: 'DOT' | 'LSB' | 'RSB' }
  | { t: 'FIELD'; v: string }
  | { t: 'STRING'; v: string }
  | { t: 'INDEX'; v: number };

const isStart = (c: string): boolean => /^[A-Za-z_]$/.test(c);
const isIdent = (c: string): boolean => /^[A-Za-z0-9_]$/.test(c);
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isWs = (c: string): boolean => c === ' ' || c === '\t' || c === '\n';

/** Both lexers: whitespace, identifiers, `"…` strings; the json one also `[`, `]`, `.` and integers. */
class Lexer {
  private i = 0;
  private readonly chars: string[];
  err: string | undefined;
  constructor(
    input: string,
    private readonly json: boolean,
  ) {
    // Go reads runes; input ends at the end or at a NUL, as Loki's isEndOfInput
    const nul = input.indexOf('\u0000');
    this.chars = [...(nul === -1 ? input : input.slice(0, nul))];
  }
  private peek(): string {
    return this.chars[this.i] ?? '';
  }
  next(): Tok {
    for (;;) {
      const c = this.peek();
      if (c === '') return { t: '$end' };
      this.i++;
      if (isWs(c)) continue;
      if (this.json && isDigit(c)) {
        this.i--;
        return this.int();
      }
      if (this.json && c === '[') return { t: 'LSB' };
      if (this.json && c === ']') return { t: 'RSB' };
      if (this.json && c === '.') return { t: 'DOT' };
      if (isStart(c)) {
        let v = c;
        while (isIdent(this.peek())) v += this.chars[this.i++];
        return { t: 'FIELD', v };
      }
      if (c === '"') {
        let v = '';
        for (;;) {
          const d = this.peek();
          if (d === '') break;
          this.i++;
          if (d === '"' || d === ']') break;
          v += d;
        }
        return { t: 'STRING', v };
      }
      return this.fail(`unexpected char ${c}`);
    }
  }
  private int(): Tok {
    let digits = '';
    for (;;) {
      const c = this.peek();
      if (c === '.' && digits.length > 0) return this.fail('cannot use float as array index');
      if (isWs(c) || c === '.' || c === ']') break;
      // Go's scanner reads NUL at the end of the input and reports it as a non-digit
      if (!isDigit(c)) return this.fail(`non-integer value: ${c === '' ? '\u0000' : c}`);
      this.i++;
      digits += c;
    }
    const n = Number(digits);
    if (!Number.isSafeInteger(n) || n > 2 ** 63 - 1) {
      return this.fail(`strconv.Atoi: parsing "${digits}": value out of range`);
    }
    return { t: 'INDEX', v: n };
  }
  /** Loki's lexer records the error and returns end of input. */
  private fail(msg: string): Tok {
    this.err = msg;
    this.chars.length = this.i;
    return { t: '$end' };
  }
}

/** goyacc's verbose message; `name` is the token's name in the grammar. */
function syntax(name: string, expecting?: string): string {
  return `syntax error: unexpected ${name}${expecting ? `, expecting ${expecting}` : ''}`;
}

/** Loki's jsonexpr.Parse: the path as keys and indexes; throws Loki's message. */
export function parseJsonExpression(expr: string): (string | number)[] {
  const lx = new Lexer(expr, true);
  const out: (string | number)[] = [];
  const error = (msg: string): never => {
    throw new LogPipelineCompileError(`cannot parse expression [${expr}]: ${msg}`);
  };
  // an access `[ key ]` or `[ index ]`, its `[` already read
  const access = (): void => {
    const k = lx.next();
    if (k.t !== 'STRING' && k.t !== 'INDEX') error(syntax(k.t, 'STRING or INDEX'));
    const close = lx.next();
    if (close.t !== 'RSB') error(syntax(close.t, 'RSB'));
    out.push((k as { v: string | number }).v);
  };
  let tok = lx.next();
  if (tok.t === 'FIELD') out.push(tok.v);
  else if (tok.t === 'LSB') access();
  else error(syntax(tok.t, 'LSB or FIELD'));
  for (;;) {
    tok = lx.next();
    if (tok.t === '$end') break;
    if (tok.t === 'LSB') access();
    else if (tok.t === 'DOT') {
      const f = lx.next();
      if (f.t !== 'FIELD') error(syntax(f.t, 'FIELD'));
      out.push((f as { v: string }).v);
    } else error(syntax(tok.t));
  }
  if (lx.err !== undefined) error(lx.err);
  return out;
}

/** Loki's jsonexpr paths as jsonparser takes them: a key as itself, an index as `[n]`. */
export function jsonPathSteps(path: readonly (string | number)[]): string[] {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : p));
}

/**
 * Loki's logfmt expression (pkg/logql/log/logfmt/logfmtexpr.y): a key, or quoted strings. Returns
 * the key a line's (sanitized) key must equal, or undefined when no key can (several strings: Loki
 * compares keys with fmt.Sprintf("%v", path...), which never equals a key then).
 */
export function parseLogfmtExpression(expr: string): string | undefined {
  const lx = new Lexer(expr, false);
  const error = (msg: string): never => {
    throw new LogPipelineCompileError(`cannot parse expression [${expr}]: ${msg}`);
  };
  // the logfmt grammar calls an identifier KEY
  const name = (t: Tok): string => (t.t === 'FIELD' ? 'KEY' : t.t);
  const parts: string[] = [];
  let tok = lx.next();
  if (tok.t === 'FIELD' || tok.t === 'STRING') parts.push(tok.v);
  else error(syntax(name(tok), 'STRING or KEY'));
  for (;;) {
    tok = lx.next();
    if (tok.t === '$end') break;
    if (tok.t === 'STRING') parts.push(tok.v);
    else error(syntax(name(tok)));
  }
  if (lx.err !== undefined) error(lx.err);
  return parts.length === 1 ? parts[0] : undefined;
}

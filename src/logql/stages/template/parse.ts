/**
 * @module A parser for Go text/template: text, actions with trim markers, comments, pipelines with
 * variables, `if`/`else if`/`else`/`with`/`range`/`break`/`continue`, parenthesised pipelines and
 * field chains. Function names are checked against the function table at parse time, as Go does.
 */
import { goParseFloat } from '../../../go/float.js';
import { LogPipelineCompileError } from '../errors.js';
import type { GoValue } from './values.js';

export type Arg =
  | { readonly t: 'dot' }
  | { readonly t: 'field'; readonly chain: readonly string[] }
  | { readonly t: 'var'; readonly name: string; readonly chain: readonly string[] }
  | { readonly t: 'fn'; readonly name: string }
  | { readonly t: 'const'; readonly v: GoValue }
  | { readonly t: 'pipe'; readonly pipe: Pipe; readonly chain: readonly string[] };

export interface Pipe {
  readonly decl: readonly string[];
  readonly assign: boolean;
  readonly cmds: readonly (readonly Arg[])[];
}

export type Node =
  | { readonly t: 'text'; readonly s: string }
  | { readonly t: 'action'; readonly pipe: Pipe }
  | {
      readonly t: 'if' | 'with' | 'range';
      readonly pipe: Pipe;
      readonly list: readonly Node[];
      readonly else: readonly Node[] | undefined;
    }
  | { readonly t: 'break' | 'continue' };

type Tok = (
  | { k: 'str' | 'ident' | 'var' | 'field' | 'op'; v: string }
  | { k: 'num'; v: GoValue }
  | { k: 'char'; v: bigint }
) & { glued?: boolean };

function err(name: string, msg: string): never {
  throw new LogPipelineCompileError(`template: ${name}:1: ${msg}`);
}

function unquoteGo(name: string, raw: string): string {
  // Go escapes: JSON's plus \a \v \' \xHH \ooo \UHHHHHHHH
  let out = '';
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = raw[++i] as string;
    switch (n) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
      case '"':
      case "'":
        out += n;
        break;
      case 'x':
        out += String.fromCharCode(Number.parseInt(raw.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case 'u':
        out += String.fromCodePoint(Number.parseInt(raw.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case 'U':
        out += String.fromCodePoint(Number.parseInt(raw.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        if (/[0-7]/.test(n)) {
          out += String.fromCharCode(Number.parseInt(raw.slice(i, i + 3), 8));
          i += 2;
        } else {
          err(name, `invalid syntax: ${raw}`);
        }
    }
  }
  return out;
}

function parseNumber(text: string): GoValue | undefined {
  const t = text.replaceAll('_', '');
  if (/^[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|\d+)$/.test(t)) {
    const neg = t.startsWith('-');
    let body = t.replace(/^[+-]/, '');
    if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`;
    else if (/^0[oO]/.test(body)) body = `0o${body.slice(2)}`;
    const v = BigInt(body);
    return neg ? -v : v;
  }
  // A float: strconv.ParseFloat on a text with a point or an exponent (text/template/parse's newNumber).
  if (/[.eEpP]/.test(text) && !/^[+-]?0[xX][^pP]*$/.test(text)) {
    const f = goParseFloat(text);
    if (f.ok) return f.value;
  }
  return undefined;
}

/**
 * The extent of a number as Go's text/template lexer scans it (lex.go scanNumber): a sign, a base
 * prefix, digits and `_`, a fraction, a decimal `e` or hexadecimal `p` exponent; `ok` is false when
 * a letter or digit follows (the text then takes that character, as Go reports it).
 */
function scanTemplateNumber(src: string, i: number): { text: string; ok: boolean } {
  let j = i;
  const accept = (set: string): boolean => {
    const c = src[j];
    if (c !== undefined && set.includes(c)) {
      j++;
      return true;
    }
    return false;
  };
  const run = (set: string): void => {
    while (accept(set));
  };
  accept('+-');
  let digits = '0123456789_';
  if (accept('0')) {
    if (accept('xX')) digits = '0123456789abcdefABCDEF_';
    else if (accept('oO')) digits = '01234567_';
    else if (accept('bB')) digits = '01_';
  }
  run(digits);
  if (accept('.')) run(digits);
  if (digits.length === 11 && accept('eE')) {
    accept('+-');
    run('0123456789_');
  }
  if (digits.length === 23 && accept('pP')) {
    accept('+-');
    run('0123456789_');
  }
  accept('i');
  if (/[\p{L}\p{Nd}_]/u.test(src[j] ?? '')) return { text: src.slice(i, j + 1), ok: false };
  return { text: src.slice(i, j), ok: true };
}

function lexAction(name: string, src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let spaced = true;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      spaced = true;
      continue;
    }
    if (!spaced && c === '.' && toks.length > 0 && /[\p{L}_]/u.test(src[i + 1] ?? '')) {
      const m = /^(?:\.[\p{L}\p{Nd}_]+)+/u.exec(src.slice(i)) as RegExpExecArray;
      toks.push({ k: 'field', v: m[0], glued: true });
      i += m[0].length;
      continue;
    }
    spaced = false;
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        if (src[j] === '\n') err(name, 'unterminated quoted string');
        j++;
      }
      if (j >= src.length) err(name, 'unterminated quoted string');
      toks.push({ k: 'str', v: unquoteGo(name, src.slice(i, j + 1)) });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j === -1) err(name, 'unterminated raw quoted string');
      toks.push({ k: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      const m = /^'(\\.[^']*|[^'\\])'/u.exec(src.slice(i));
      if (!m) err(name, 'unterminated character constant');
      const s = unquoteGo(name, `"${(m[1] as string).replace(/^\\'$/, "'")}"`);
      toks.push({ k: 'char', v: BigInt(s.codePointAt(0) ?? 0) });
      i += m[0].length;
      continue;
    }
    if (c === ':' && src[i + 1] === '=') {
      toks.push({ k: 'op', v: ':=' });
      i += 2;
      continue;
    }
    if (c === '|' || c === '(' || c === ')' || c === '=' || c === ',') {
      toks.push({ k: 'op', v: c });
      i++;
      continue;
    }
    if (c === '$') {
      const m = /^\$[\p{L}\p{Nd}_]*/u.exec(src.slice(i)) as RegExpExecArray;
      toks.push({ k: 'var', v: m[0] });
      i += m[0].length;
      spaced = false;
      continue;
    }
    if (c === '.') {
      if (/[0-9]/.test(src[i + 1] ?? '')) {
        // a number like .5
      } else {
        const m = /^\.(?:[\p{L}\p{Nd}_]+(?:\.[\p{L}\p{Nd}_]+)*)?/u.exec(src.slice(i)) as RegExpExecArray;
        toks.push({ k: 'field', v: m[0] });
        i += m[0].length;
        continue;
      }
    }
    if (/[0-9+\-.]/.test(c)) {
      const { text, ok } = scanTemplateNumber(src, i);
      if (!ok) err(name, `bad number syntax: "${text}"`);
      const v = parseNumber(text);
      if (v === undefined) err(name, `illegal number syntax: "${text}"`);
      toks.push({ k: 'num', v });
      i += text.length;
      continue;
    }
    const m = /^[\p{L}_][\p{L}\p{Nd}_]*/u.exec(src.slice(i));
    if (m) {
      toks.push({ k: 'ident', v: m[0] });
      i += m[0].length;
      continue;
    }
    err(name, `unexpected "${c}" in command`);
  }
  return toks;
}

interface Item {
  readonly kind: 'text' | 'action';
  readonly s: string;
}

function split(name: string, src: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open === -1 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open === -1) {
      if (text) items.push({ kind: 'text', s: text });
      break;
    }
    let start = open + 2;
    if (src[start] === '-' && /[ \t\r\n]/.test(src[start + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 2;
    }
    if (text) items.push({ kind: 'text', s: text });
    // find the closing delimiter outside quotes
    let j = start;
    let close = -1;
    while (j < src.length) {
      const c = src[j];
      if (c === '"' || c === '`' || c === "'") {
        const q = c;
        j++;
        while (j < src.length && src[j] !== q) {
          if (src[j] === '\\' && q !== '`') j++;
          j++;
        }
        j++;
        continue;
      }
      if (src.startsWith('/*', j) && /^\s*$/.test(src.slice(start, j))) {
        const end = src.indexOf('*/', j + 2);
        if (end === -1) err(name, 'unclosed comment');
        j = end + 2;
        continue;
      }
      if (src.startsWith('}}', j)) {
        close = j;
        break;
      }
      j++;
    }
    if (close === -1) err(name, 'unclosed action');
    let body = src.slice(start, close);
    if (/[ \t\r\n]-$/.test(body)) {
      body = body.slice(0, -2);
      trimNext = true;
    }
    if (!/^\s*\/\*[\s\S]*\*\/\s*$/.test(body)) items.push({ kind: 'action', s: body });
    i = close + 2;
  }
  return items;
}

export function parseTemplate(name: string, src: string, isFunc: (n: string) => boolean): Node[] {
  const items = split(name, src);
  let pos = 0;
  const vars: string[][] = [['$']];
  const declared = (v: string) => vars.some((scope) => scope.includes(v));

  function parsePipe(toks: Tok[], allowDecl: boolean, isRange = false): Pipe {
    let k = 0;
    const decl: string[] = [];
    let assign = false;
    if (allowDecl && toks[0]?.k === 'var') {
      const t1 = toks[1];
      if (t1?.k === 'op' && (t1.v === ':=' || t1.v === '=')) {
        decl.push(toks[0].v);
        assign = t1.v === '=';
        k = 2;
      } else if (isRange && t1?.k === 'op' && t1.v === ',' && toks[2]?.k === 'var') {
        const t3 = toks[3];
        if (t3?.k === 'op' && (t3.v === ':=' || t3.v === '=')) {
          decl.push(toks[0].v, (toks[2] as { v: string }).v);
          assign = t3.v === '=';
          k = 4;
        }
      }
    }
    if (assign) {
      for (const d of decl) if (!declared(d)) err(name, `undefined variable "${d}"`);
    }
    const cmds: Arg[][] = [];
    let cmd: Arg[] = [];
    const chainAfter = (): string[] => {
      const chain: string[] = [];
      while (toks[k]?.k === 'field' && toks[k]?.glued) {
        chain.push(...(toks[k] as { v: string }).v.slice(1).split('.'));
        k++;
      }
      return chain;
    };
    const operand = (): Arg => {
      const t = toks[k++] as Tok;
      switch (t.k) {
        case 'str':
          return { t: 'const', v: t.v };
        case 'num':
        case 'char':
          return { t: 'const', v: t.v };
        case 'field': {
          if (t.v === '.') return { t: 'dot' };
          return { t: 'field', chain: t.v.slice(1).split('.') };
        }
        case 'var': {
          if (!declared(t.v)) err(name, `undefined variable "${t.v}"`);
          return { t: 'var', name: t.v, chain: chainAfter() };
        }
        case 'ident':
          switch (t.v) {
            case 'true':
              return { t: 'const', v: true };
            case 'false':
              return { t: 'const', v: false };
            case 'nil':
              return { t: 'const', v: null };
          }
          if (!isFunc(t.v)) err(name, `function "${t.v}" not defined`);
          return { t: 'fn', name: t.v };
        case 'op': {
          if (t.v !== '(') err(name, `unexpected "${t.v}" in operand`);
          let depth = 1;
          const start = k;
          while (k < toks.length && depth > 0) {
            const x = toks[k] as Tok;
            if (x.k === 'op' && x.v === '(') depth++;
            if (x.k === 'op' && x.v === ')') depth--;
            k++;
          }
          if (depth !== 0) err(name, 'unclosed left paren');
          const inner = parsePipe(toks.slice(start, k - 1), true);
          return { t: 'pipe', pipe: inner, chain: chainAfter() };
        }
      }
    };
    while (k < toks.length) {
      const t = toks[k] as Tok;
      if (t.k === 'op' && t.v === '|') {
        if (cmd.length === 0) err(name, 'missing command');
        cmds.push(cmd);
        cmd = [];
        k++;
        continue;
      }
      if (t.k === 'op' && t.v === ')') err(name, 'unexpected right paren');
      cmd.push(operand());
    }
    if (cmd.length === 0) err(name, 'missing value for command');
    cmds.push(cmd);
    for (let c = 1; c < cmds.length; c++) {
      const first = (cmds[c] as Arg[])[0] as Arg;
      if (first.t === 'const') err(name, 'non executable command in pipeline stage 2');
    }
    for (const d of decl) if (!assign) vars[vars.length - 1]?.push(d);
    return { decl, assign, cmds };
  }

  function parseList(stopAt: readonly string[]): { nodes: Node[]; stop: string; rest: Tok[] } {
    const nodes: Node[] = [];
    while (pos < items.length) {
      const it = items[pos++] as Item;
      if (it.kind === 'text') {
        nodes.push({ t: 'text', s: it.s });
        continue;
      }
      const toks = lexAction(name, it.s);
      if (toks.length === 0) err(name, 'missing value for command');
      const head = toks[0] as Tok;
      const kw = head.k === 'ident' ? head.v : '';
      if (kw === 'end' || kw === 'else') {
        if (!stopAt.includes(kw)) err(name, `unexpected {{${kw}}}`);
        return { nodes, stop: kw, rest: toks.slice(1) };
      }
      if (kw === 'if' || kw === 'with' || kw === 'range') {
        nodes.push(parseControl(kw, toks.slice(1)));
        continue;
      }
      if (kw === 'break' || kw === 'continue') {
        nodes.push({ t: kw });
        continue;
      }
      if (kw === 'define' || kw === 'template' || kw === 'block') err(name, `${kw} is not supported`);
      nodes.push({ t: 'action', pipe: parsePipe(toks, true) });
    }
    if (stopAt.length > 0) err(name, 'unexpected EOF');
    return { nodes, stop: '', rest: [] };
  }

  function parseControl(kw: 'if' | 'with' | 'range', toks: Tok[]): Node {
    vars.push([]);
    const pipe = parsePipe(toks, true, kw === 'range');
    if (toks.length === 0) err(name, `missing value for ${kw}`);
    const body = parseList(['end', 'else']);
    let elseList: Node[] | undefined;
    if (body.stop === 'else') {
      vars.pop();
      vars.push([]);
      const next = body.rest[0];
      if (next?.k === 'ident' && (next.v === 'if' || next.v === 'with')) {
        // {{else if ...}}: a nested control that shares our {{end}}
        elseList = [parseControl(next.v, body.rest.slice(1))];
        vars.pop();
        return { t: kw, pipe, list: body.nodes, else: elseList };
      }
      const e = parseList(['end']);
      elseList = e.nodes;
    }
    vars.pop();
    return { t: kw, pipe, list: body.nodes, else: elseList };
  }

  return parseList([]).nodes;
}

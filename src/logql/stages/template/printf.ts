/** @module Go's fmt.Sprintf for the verbs templates use. */
import { Buffer } from 'node:buffer';
import { formatGoTime, GoTime } from './time.js';
import { formatGoFloat, type GoValue, goString, typeName } from './values.js';

function padTo(s: string, width: number | undefined, left: boolean, zero: boolean): string {
  if (width === undefined) return s;
  const len = [...s].length;
  if (len >= width) return s;
  const n = width - len;
  if (left) return s + ' '.repeat(n);
  if (zero) {
    const sign = /^[+-]/.test(s) ? (s[0] as string) : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

function quote(s: string): string {
  return JSON.stringify(s).replace(/\\u007f/g, '\\x7f');
}

function bad(verb: string, v: GoValue): string {
  return `%!${verb}(${typeName(v)}=${goString(v)})`;
}

function floatVerb(verb: string, f: number, prec: number | undefined, plus: boolean): string {
  let s: string;
  if (!Number.isFinite(f)) s = Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf';
  else
    switch (verb) {
      case 'e':
      case 'E': {
        s = f.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
        if (verb === 'E') s = s.toUpperCase();
        break;
      }
      case 'g':
      case 'G':
        s = prec === undefined ? formatGoFloat(f) : String(Number(f.toPrecision(prec || 1)));
        if (verb === 'G') s = s.toUpperCase();
        break;
      default:
        s = f.toFixed(prec ?? 6);
    }
  if (plus && !s.startsWith('-') && !s.startsWith('+')) s = `+${s}`;
  return s;
}

export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i] as string;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    let left = false;
    let plus = false;
    let zero = false;
    let sharp = false;
    let space = false;
    for (;;) {
      const f = format[i];
      if (f === '-') left = true;
      else if (f === '+') plus = true;
      else if (f === '0') zero = !left;
      else if (f === '#') sharp = true;
      else if (f === ' ') space = true;
      else break;
      i++;
    }
    let width: number | undefined;
    let m = /^\d+/.exec(format.slice(i));
    if (m) {
      width = Number(m[0]);
      i += m[0].length;
    }
    let prec: number | undefined;
    if (format[i] === '.') {
      i++;
      m = /^\d+/.exec(format.slice(i));
      prec = m ? Number(m[0]) : 0;
      if (m) i += m[0].length;
    }
    const verb = format[i];
    i++;
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const v = args[argi++] as GoValue;
    let s: string;
    switch (verb) {
      case 'v':
        s = typeof v === 'string' ? v : v === undefined ? '<nil>' : goString(v);
        if (sharp && typeof v === 'string') s = quote(v);
        break;
      case 's':
        if (typeof v === 'string') s = v;
        else if (v instanceof GoTime) s = formatGoTime(v, '2006-01-02 15:04:05.999999999 -0700 MST');
        else if (Array.isArray(v) || typeof v === 'object') s = goString(v);
        else s = bad(verb, v);
        if (prec !== undefined && typeof v === 'string') s = [...s].slice(0, prec).join('');
        break;
      case 'q':
        s =
          typeof v === 'string'
            ? quote(v)
            : typeof v === 'bigint'
              ? `'${String.fromCodePoint(Number(v))}'`
              : bad(verb, v);
        break;
      case 'd':
        if (typeof v === 'bigint') {
          s = v.toString();
          if (plus && v >= 0n) s = `+${s}`;
          else if (space && v >= 0n) s = ` ${s}`;
        } else s = bad(verb, v);
        break;
      case 'x':
      case 'X':
      case 'o':
      case 'b': {
        const base = verb === 'o' ? 8 : verb === 'b' ? 2 : 16;
        if (typeof v === 'bigint') s = v.toString(base);
        else if (typeof v === 'string' && base === 16) s = Buffer.from(v, 'utf8').toString('hex');
        else s = bad(verb, v);
        if (sharp && typeof v === 'bigint' && base === 16) s = `0x${s}`;
        if (verb === 'X') s = s.toUpperCase();
        break;
      }
      case 'c':
        s = typeof v === 'bigint' ? String.fromCodePoint(Number(v)) : bad(verb, v);
        break;
      case 't':
        s = typeof v === 'boolean' ? String(v) : bad(verb, v);
        break;
      case 'T':
        s = typeName(v);
        break;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        s = typeof v === 'number' ? floatVerb(verb, v, prec, plus) : bad(verb, v);
        break;
      default:
        s = `%!${verb}(${typeName(v)}=${goString(v)})`;
    }
    out += padTo(s, width, left, zero && verb !== 's' && verb !== 'v' && verb !== 'q');
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((v) => `${typeName(v)}=${goString(v)}`)
      .join(', ')})`;
  }
  return out;
}

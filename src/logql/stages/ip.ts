/**
 * @module IP matching for `|= ip("...")` and `label = ip("...")`: a single address, a range `a-b` or
 * a CIDR prefix, IPv4 or IPv6, as Loki's netip-based filter.
 */
import { LogPipelineCompileError } from './errors.js';

interface Addr {
  readonly v6: boolean;
  readonly n: bigint;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = (n << 8n) | BigInt(v);
  }
  return n;
}

function parseV6(input: string): bigint | undefined {
  let s = input;
  const zone = s.indexOf('%');
  if (zone !== -1) {
    if (zone === s.length - 1) return undefined;
    s = s.slice(0, zone);
  }
  let tail: bigint | undefined;
  let tailWords = 0;
  const lastColon = s.lastIndexOf(':');
  if (lastColon !== -1 && s.indexOf('.', lastColon) !== -1) {
    tail = parseV4(s.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}0:0`;
    tailWords = 2;
  }
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return undefined;
  const parseWords = (part: string): number[] | undefined => {
    if (part === '') return [];
    const ws = part.split(':');
    const out: number[] = [];
    for (const w of ws) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
      out.push(Number.parseInt(w, 16));
    }
    return out;
  };
  let words: number[];
  if (dbl !== -1) {
    const head = parseWords(s.slice(0, dbl));
    const rest = parseWords(s.slice(dbl + 2));
    if (!head || !rest || head.length + rest.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    const all = parseWords(s);
    if (all?.length !== 8) return undefined;
    words = all;
  }
  let n = 0n;
  for (const w of words) n = (n << 16n) | BigInt(w);
  if (tail !== undefined && tailWords === 2) n = (n & ~0xffffffffn) | tail;
  return n;
}

export function parseAddr(s: string): Addr | undefined {
  if (s.includes(':')) {
    const n = parseV6(s);
    return n === undefined ? undefined : { v6: true, n };
  }
  const n = parseV4(s);
  return n === undefined ? undefined : { v6: false, n };
}

export type IpMatcher = (candidate: string) => boolean;

/** Compiles an ip("...") argument (an address, a CIDR prefix or a range a-b); throws like Loki. */
export function compileIpMatcher(pattern: string): IpMatcher {
  const invalid = () => new LogPipelineCompileError(`ip: invalid pattern: ${JSON.stringify(pattern)}`);
  const single = parseAddr(pattern);
  if (single) {
    return (c) => {
      const x = parseAddr(c);
      return x !== undefined && x.v6 === single.v6 && x.n === single.n;
    };
  }
  const slash = pattern.indexOf('/');
  if (slash !== -1) {
    const a = parseAddr(pattern.slice(0, slash));
    const bitsText = pattern.slice(slash + 1);
    const width = a?.v6 ? 128 : 32;
    if (!a || pattern.includes('%') || !/^(0|[1-9]\d{0,2})$/.test(bitsText) || Number(bitsText) > width)
      throw invalid();
    const shift = BigInt(width - Number(bitsText));
    const net = a.n >> shift;
    return (c) => {
      const x = parseAddr(c);
      return x !== undefined && x.v6 === a.v6 && x.n >> shift === net;
    };
  }
  const dash = pattern.indexOf('-');
  if (dash !== -1) {
    const a = parseAddr(pattern.slice(0, dash));
    const b = parseAddr(pattern.slice(dash + 1));
    if (!a || !b || a.v6 !== b.v6 || a.n > b.n) throw invalid();
    return (c) => {
      const x = parseAddr(c);
      return x !== undefined && x.v6 === a.v6 && x.n >= a.n && x.n <= b.n;
    };
  }
  throw invalid();
}

const V4_CHARS = new Set('0123456789.');
const V6_CHARS = new Set('0123456789abcdefABCDEF:.');

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
}

function span(line: string, start: number, chars: Set<string>): number {
  let i = start;
  while (i < line.length && chars.has(line[i] as string)) i++;
  return i - start;
}

/**
 * Whether more than `k` bytes of UTF-8 follow position `i` (Loki counts bytes: `i+k < n`); only
 * near the end of a line, where characters and bytes may differ, is the tail measured.
 */
function bytesLeftAbove(line: string, i: number, k: number): boolean {
  if (line.length - i > k) return true;
  return Buffer.byteLength(line.slice(i)) > k;
}

/**
 * Loki's ipFilter.filter (pkg/logql/log/ip.go): IPv4 and IPv6 candidates found by prefix hints,
 * each parsed whole; a candidate that fails is skipped. Used for line filters and, on the value,
 * for label filters. Surprising but Loki's: a hint is only looked for where at least four (IPv4)
 * or five (IPv6) bytes remain, so a short address closing the line (`::1`, `1::2`) is not found.
 */
export function lineHasIp(line: string, match: IpMatcher): boolean {
  const n = line.length;
  for (let i = 0; i < n; i++) {
    if (
      bytesLeftAbove(line, i, 3) &&
      isDigit(line[i]) &&
      (line[i + 1] === '.' || line[i + 2] === '.' || line[i + 3] === '.')
    ) {
      const len = span(line, i, V4_CHARS);
      if (match(line.slice(i, i + len))) return true;
      i += len;
      continue;
    }
    if (bytesLeftAbove(line, i, 4)) {
      const c0 = line[i];
      const c1 = line[i + 1];
      const c2 = line[i + 2];
      const c3 = line[i + 3];
      const hint =
        (c0 === ':' && c1 === ':' && isHex(c2)) ||
        (isHex(c0) && c1 === ':') ||
        (isHex(c0) && isHex(c1) && c2 === ':') ||
        (isHex(c0) && isHex(c1) && isHex(c2) && c3 === ':') ||
        (isHex(c0) && isHex(c1) && isHex(c2) && isHex(c3) && line[i + 4] === ':');
      if (hint) {
        const len = span(line, i, V6_CHARS);
        if (match(line.slice(i, i + len))) return true;
        i += len;
      }
    }
  }
  return false;
}

/**
 * @module Timestamps as application logs write them: RFC 3339 (exact to the nanosecond), or Unix
 * epoch numbers in seconds, milliseconds, microseconds or nanoseconds (zap's `ts`, pino's `time`), told
 * apart by size. Anything else Date.parse understands is taken to the millisecond.
 */
import { parseRfc3339Nano } from '../model/time.js';
import type { FileContext, ParseSink } from './types.js';

/** The keys JSON and logfmt lines carry their time under, most common first. */
export const TIME_KEYS = ['time', 'timestamp', 'ts', '@timestamp'] as const;

const EPOCH = /^(\d+)(?:\.(\d+))?$/;

let cachedHour = '';
let cachedHourNs = 0n;

const digit = (text: string, i: number): number => {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

/** parseRfc3339Nano of text[0, end). */
function parseRfc3339Slow(text: string, end: number): bigint | undefined {
  return parseRfc3339Nano(end === text.length ? text : text.slice(0, end));
}

/**
 * parseRfc3339Nano with a fast path for the shape container runtimes write (`...T10:00:00.123456789Z`):
 * the calendar part is computed once per hour (lines of one file, and of files read in turn, share
 * it), minutes, seconds and fraction read digit by digit. On a large import this was the hottest
 * function.
 */
export function parseRfc3339Fast(text: string, n = text.length): bigint | undefined {
  // `n`: the time is text[0, n) (a CRI line's first field), read in place without a slice.
  if (n < 20 || text.charCodeAt(n - 1) !== 0x5a /* Z */ || (n > 20 && text.charCodeAt(19) !== 0x2e) /* . */) {
    return parseRfc3339Slow(text, n);
  }
  if (text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a) return parseRfc3339Slow(text, n);
  const m1 = digit(text, 14);
  const m2 = digit(text, 15);
  const s1 = digit(text, 17);
  const s2 = digit(text, 18);
  if (m1 < 0 || m2 < 0 || s1 < 0 || s2 < 0) return parseRfc3339Slow(text, n);
  // Nine digits at most fit a double exactly.
  let frac = 0;
  if (n > 20) {
    if (n === 21 || n - 21 > 9) return parseRfc3339Slow(text, n);
    for (let i = 20; i < n - 1; i++) {
      const d = digit(text, i);
      if (d < 0) return parseRfc3339Slow(text, n);
      frac = frac * 10 + d;
    }
    for (let i = n - 21; i < 9; i++) frac *= 10;
  }
  if (cachedHour === '' || !text.startsWith(cachedHour)) {
    const hour = text.slice(0, 13);
    const ns = parseRfc3339Nano(`${hour}:00:00Z`);
    if (ns === undefined) return undefined;
    cachedHour = hour;
    cachedHourNs = ns;
  }
  const seconds = (m1 * 10 + m2) * 60 + s1 * 10 + s2;
  return cachedHourNs + BigInt(seconds * 1e9 + frac);
}

/** The hour of the last time read from bytes (`2026-03-01T10`), and its nanoseconds. */
const cachedHourBytes = Buffer.alloc(13);
let cachedHourBytesNs: bigint | undefined;

const byteDigit = (buf: Buffer, i: number): number => {
  const c = buf[i]! - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

/**
 * The fast path of parseRfc3339Fast on bytes `buf[start, start + n)`: the container runtimes' shape
 * (`...T10:00:00.123456789Z`) only; undefined for anything else (the caller then reads the line as
 * text, where every form is parsed and a bad one reported).
 */
export function parseRfc3339Bytes(buf: Buffer, start: number, n: number): bigint | undefined {
  if (n < 20 || buf[start + n - 1] !== 0x5a /* Z */ || (n > 20 && buf[start + 19] !== 0x2e) /* . */)
    return undefined;
  if (buf[start + 13] !== 0x3a || buf[start + 16] !== 0x3a) return undefined;
  const m1 = byteDigit(buf, start + 14);
  const m2 = byteDigit(buf, start + 15);
  const s1 = byteDigit(buf, start + 17);
  const s2 = byteDigit(buf, start + 18);
  if (m1 < 0 || m2 < 0 || s1 < 0 || s2 < 0 || m1 > 5 || s1 > 5) return undefined;
  let frac = 0;
  if (n > 20) {
    if (n === 21 || n - 21 > 9) return undefined;
    for (let i = start + 20; i < start + n - 1; i++) {
      const d = byteDigit(buf, i);
      if (d < 0) return undefined;
      frac = frac * 10 + d;
    }
    for (let i = n - 21; i < 9; i++) frac *= 10;
  }
  let same = cachedHourBytesNs !== undefined;
  for (let i = 0; same && i < 13; i++) same = buf[start + i] === cachedHourBytes[i];
  if (!same) {
    const hour = buf.toString('latin1', start, start + 13);
    const ns = parseRfc3339Nano(`${hour}:00:00Z`);
    if (ns === undefined) return undefined;
    buf.copy(cachedHourBytes, 0, start, start + 13);
    cachedHourBytesNs = ns;
  }
  return cachedHourBytesNs! + BigInt(((m1 * 10 + m2) * 60 + s1 * 10 + s2) * 1e9 + frac);
}

/** Epoch text to nanoseconds: up to 11 integer digits are seconds, 14 ms, 17 µs, more ns. */
function epochNs(text: string): bigint | undefined {
  const m = EPOCH.exec(text);
  if (!m) return undefined;
  const [, int = '0', frac = ''] = m;
  const digits = int.replace(/^0+(?=\d)/, '').length;
  const scale = digits <= 11 ? 9 : digits <= 14 ? 6 : digits <= 17 ? 3 : 0;
  const f = frac.slice(0, scale).padEnd(scale, '0');
  return BigInt(int) * 10n ** BigInt(scale) + (scale > 0 ? BigInt(f) : 0n);
}

export function parseTimeValue(v: unknown): bigint | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    // toFixed avoids exponent notation; past 2^53 the number was already rounded by JSON.parse.
    return epochNs(
      Number.isInteger(v) ? BigInt(v).toString() : String(v).includes('e') ? v.toFixed(9) : String(v),
    );
  }
  if (typeof v !== 'string' || v === '') return undefined;
  const exact = parseRfc3339Fast(v) ?? epochNs(v);
  if (exact !== undefined) return exact;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n;
}

/**
 * The time of a record from the first of TIME_KEYS present: `{ns}` when one parses, `{bad}` naming the
 * key when keys are present but none parses, `{}` when there is none.
 */
export function timeFromFields(get: (key: string) => unknown): { ns?: bigint; bad?: string } {
  let bad: string | undefined;
  for (const key of TIME_KEYS) {
    const v = get(key);
    if (v === undefined || v === null || v === '') continue;
    const ns = parseTimeValue(v);
    if (ns !== undefined) return { ns };
    bad ??= key;
  }
  return bad === undefined ? {} : { bad };
}

/**
 * The time of line `lineNo`, which carries none: `ctx.missingTimeNs` plus the line number (the sink
 * told it was stamped), or undefined when there is no such time (the sink told it was skipped).
 */
export function missingTime(ctx: FileContext, sink: ParseSink, lineNo: number): bigint | undefined {
  if (ctx.missingTimeNs === undefined) {
    if (sink.untimed) sink.untimed(lineNo, false);
    else sink.malformed(lineNo, 'no time field');
    return undefined;
  }
  sink.untimed?.(lineNo, true);
  return ctx.missingTimeNs + BigInt(lineNo);
}

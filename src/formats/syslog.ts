/**
 * @module Syslog message parsing: RFC 5424 and RFC 3164 (BSD syslog, with the real-world variants
 * that rsyslog, logger and network devices send). Parsing never throws and never loses a message:
 * whatever does not parse stays in `msg`, and what was wrong is named in `problem`.
 *
 * - RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]`, NILVALUE
 *   `-` anywhere, timestamps with fractions (up to nanoseconds) and offsets, SD-PARAM values with
 *   the escapes `\"`, `\\` and `\]`, and a UTF-8 BOM at the start of MSG (removed).
 * - RFC 3164: `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`; the year is inferred (the one that puts the
 *   timestamp closest to the receive time, never more than a week ahead), the zone is local or UTC
 *   (option). Also accepted: an RFC 3339 timestamp instead (rsyslog's `RSYSLOG_ForwardFormat`),
 *   fractional seconds, a missing HOST (the token after the timestamp is a `tag:` or `tag[pid]:`),
 *   a missing TAG (everything after the host is the message), and a missing timestamp.
 * - No PRI at all: RFC 3164 §4.3.3's default, `user.notice` (13), and the whole text is the MSG.
 *   A malformed PRI (`<abc>`, `<192>`) also gives 13, the whole text, and `problem: 'bad_pri'`.
 */
import { NS_PER_MS, parseRfc3339Nano } from '../model/time.js';

export const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

export interface StructuredDataElement {
  readonly id: string;
  /** Parameters in order; a name given twice keeps both entries. */
  readonly params: readonly (readonly [string, string])[];
}

export interface SyslogMessage {
  /** 5424 or 3164 (3164 also for anything that is not RFC 5424). */
  readonly format: 5424 | 3164;
  readonly facility: number;
  readonly severity: number;
  /** From the message; undefined when it had none (NILVALUE) or it did not parse. */
  readonly timestamp?: bigint;
  readonly hostname?: string;
  readonly appname?: string;
  readonly procid?: string;
  readonly msgid?: string;
  readonly structuredData: readonly StructuredDataElement[];
  readonly msg: string;
  /** Set when part of the message was malformed (the message is still usable): a reason. */
  readonly problem?: 'bad_pri' | 'bad_timestamp' | 'bad_structured_data';
}

export interface ParseOptions {
  /** Zone of RFC 3164 timestamps, which carry none (default `local`). */
  readonly timezone?: 'local' | 'UTC';
  /** Receive time in nanoseconds, for the year of RFC 3164 timestamps (default now). */
  readonly now?: bigint;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const BOM = '\uFEFF';

/** Removes the framing's trailing LF, CR and NUL characters. */
function trimTrailer(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c === 10 || c === 13 || c === 0) end--;
    else break;
  }
  return end === text.length ? text : text.slice(0, end);
}

export function parseSyslog(input: string, opts: ParseOptions = {}): SyslogMessage {
  const text = trimTrailer(input);
  const pri = /^<(\d{1,3})>/.exec(text);
  if (!pri) {
    const problem = text.startsWith('<') ? 'bad_pri' : undefined;
    return {
      format: 3164,
      facility: 1,
      severity: 5,
      structuredData: [],
      msg: text,
      ...(problem && { problem }),
    };
  }
  const value = Number(pri[1]);
  if (value > 191 || (pri[1]!.length > 1 && pri[1]!.startsWith('0'))) {
    return { format: 3164, facility: 1, severity: 5, structuredData: [], msg: text, problem: 'bad_pri' };
  }
  const facility = value >> 3;
  const severity = value & 7;
  const rest = text.slice(pri[0].length);
  if (rest.startsWith('1 ')) return parse5424(rest.slice(2), facility, severity);
  return parse3164(rest, facility, severity, opts);
}

const nil = (token: string | undefined): string | undefined =>
  token === undefined || token === '-' || token === '' ? undefined : token;

function parse5424(text: string, facility: number, severity: number): SyslogMessage {
  // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID: five space-separated tokens.
  let pos = 0;
  const tokens: string[] = [];
  for (let i = 0; i < 5; i++) {
    const sp = text.indexOf(' ', pos);
    if (sp < 0) {
      tokens.push(text.slice(pos));
      pos = text.length;
      break;
    }
    tokens.push(text.slice(pos, sp));
    pos = sp + 1;
  }
  const [ts, hostname, appname, procid, msgid] = tokens;
  let problem: SyslogMessage['problem'];
  let timestamp: bigint | undefined;
  if (ts !== undefined && ts !== '-') {
    timestamp = parseRfc3339Nano(ts);
    if (timestamp === undefined) problem = 'bad_timestamp';
  }
  const sd: StructuredDataElement[] = [];
  let msg = '';
  if (pos < text.length) {
    if (text[pos] === '-') {
      pos++;
    } else if (text[pos] === '[') {
      const end = parseStructuredData(text, pos, sd);
      if (end < 0) {
        problem = 'bad_structured_data';
        sd.length = 0;
      } else {
        pos = end;
      }
    }
    if (text[pos] === ' ') pos++;
    msg = text.slice(pos);
  }
  if (msg.startsWith(BOM)) msg = msg.slice(1);
  return {
    format: 5424,
    facility,
    severity,
    ...(timestamp !== undefined && { timestamp }),
    ...(nil(hostname) !== undefined && { hostname: hostname! }),
    ...(nil(appname) !== undefined && { appname: appname! }),
    ...(nil(procid) !== undefined && { procid: procid! }),
    ...(nil(msgid) !== undefined && { msgid: msgid! }),
    structuredData: sd,
    msg,
    ...(problem && { problem }),
  };
}

/** Parses SD-ELEMENTs from `text[pos] === '['`; returns the index after the last `]`, or -1. */
function parseStructuredData(text: string, start: number, out: StructuredDataElement[]): number {
  let pos = start;
  while (text[pos] === '[') {
    pos++;
    const idEnd = scanName(text, pos);
    if (idEnd === pos) return -1;
    const id = text.slice(pos, idEnd);
    pos = idEnd;
    const params: [string, string][] = [];
    while (text[pos] === ' ') {
      pos++;
      const nameEnd = scanName(text, pos);
      if (nameEnd === pos || text[nameEnd] !== '=' || text[nameEnd + 1] !== '"') return -1;
      const name = text.slice(pos, nameEnd);
      pos = nameEnd + 2;
      let value = '';
      for (;;) {
        if (pos >= text.length) return -1;
        const c = text[pos]!;
        if (c === '"') {
          pos++;
          break;
        }
        if (c === '\\' && (text[pos + 1] === '"' || text[pos + 1] === '\\' || text[pos + 1] === ']')) {
          value += text[pos + 1];
          pos += 2;
          continue;
        }
        value += c;
        pos++;
      }
      params.push([name, value]);
    }
    if (text[pos] !== ']') return -1;
    pos++;
    out.push({ id, params });
  }
  return pos;
}

/** SD-NAME: printable US-ASCII except `=`, SP, `]` and `"`. */
function scanName(text: string, pos: number): number {
  let i = pos;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 61 || c === 93 || c === 34) break;
    i++;
  }
  return i;
}

const BSD_TS = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?: |$)/;
const ISO_TS = /^(\d{4}-\d{2}-\d{2}T\S+)(?: |$)/;
const TAG = /^([^\s[\]:]{1,128})(?:\[([^\]\s]*)\])?:(?: |$)/;

function parse3164(text: string, facility: number, severity: number, opts: ParseOptions): SyslogMessage {
  let rest = text;
  let timestamp: bigint | undefined;
  let problem: SyslogMessage['problem'];
  let hadTimestamp = false;
  const bsd = BSD_TS.exec(rest);
  if (bsd && MONTHS.includes(bsd[1]!)) {
    hadTimestamp = true;
    timestamp = bsdTimestamp(bsd, opts);
    if (timestamp === undefined) problem = 'bad_timestamp';
    rest = rest.slice(bsd[0].length);
  } else {
    const iso = ISO_TS.exec(rest);
    if (iso) {
      hadTimestamp = true;
      timestamp = parseRfc3339Nano(iso[1]!);
      if (timestamp === undefined) problem = 'bad_timestamp';
      rest = rest.slice(iso[0].length);
    }
  }
  let hostname: string | undefined;
  if (hadTimestamp && !TAG.test(rest)) {
    // HOST, unless what follows the timestamp is already the tag.
    const sp = rest.indexOf(' ');
    const token = sp < 0 ? rest : rest.slice(0, sp);
    if (token !== '' && token !== '-') hostname = token;
    rest = sp < 0 ? '' : rest.slice(sp + 1);
  }
  let appname: string | undefined;
  let procid: string | undefined;
  const tag = TAG.exec(rest);
  if (tag) {
    appname = tag[1];
    procid = tag[2] || undefined;
    rest = rest.slice(tag[0].length);
  }
  if (rest.startsWith(BOM)) rest = rest.slice(1);
  return {
    format: 3164,
    facility,
    severity,
    ...(timestamp !== undefined && { timestamp }),
    ...(hostname !== undefined && { hostname }),
    ...(appname !== undefined && { appname }),
    ...(procid !== undefined && { procid }),
    structuredData: [],
    msg: rest,
    ...(problem && { problem }),
  };
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

function bsdTimestamp(m: RegExpExecArray, opts: ParseOptions): bigint | undefined {
  const month = MONTHS.indexOf(m[1]!);
  const day = Number(m[2]);
  const [h, mi, s] = [Number(m[3]), Number(m[4]), Number(m[5])];
  if (day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const nowMs = opts.now === undefined ? Date.now() : Number(opts.now / NS_PER_MS);
  const utc = opts.timezone === 'UTC';
  const at = (year: number) =>
    utc ? Date.UTC(year, month, day, h, mi, s) : new Date(year, month, day, h, mi, s).getTime();
  const thisYear = utc ? new Date(nowMs).getUTCFullYear() : new Date(nowMs).getFullYear();
  // The year that puts the timestamp nearest to now, but not more than a week in the future
  // (a December line read in January belongs to last year).
  let ms = at(thisYear);
  if (ms > nowMs + WEEK_MS) ms = at(thisYear - 1);
  else if (nowMs - ms > 358 * 24 * 3600 * 1000) ms = at(thisYear + 1);
  if (Number.isNaN(ms)) return undefined;
  const frac = m[6] ? BigInt(m[6].padEnd(9, '0')) : 0n;
  return BigInt(ms) * 1_000_000n + frac;
}

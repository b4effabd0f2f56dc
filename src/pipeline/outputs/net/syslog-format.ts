/**
 * @module Syslog messages from records, and their framing on a stream.
 *
 * - RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - - SD MSG`. TIMESTAMP is UTC with microseconds (the
 *   RFC's six fraction digits at most); header fields keep printable US-ASCII only (others become `_`)
 *   and are cut to the RFC's lengths (255, 48); an empty one is the NILVALUE `-`. SD is one element,
 *   `[sdId name="value" …]`, holding the record's attributes: names cut to 32 printable characters
 *   with `=`, `]`, `"` and space replaced by `_`; values UTF-8 with `"`, `\` and `]` escaped by `\`
 *   (RFC 5424 §6.3.3). No attributes (or no `sdId`): `-`. MSG is the body as UTF-8, without a BOM.
 * - RFC 3164: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`, the day space-padded, the time in the
 *   chosen zone; TAG is the app name (at most 32 characters, no space, `:`, `[` or `]`).
 * - PRI is facility × 8 + severity; the severity comes from the record's level (level.ts), else the
 *   configured default.
 * - Framing (RFC 6587, RFC 5425): octet counting `LEN SP MSG` (LEN in bytes), or LF-terminated, where
 *   an LF inside the message is written `#012` (as rsyslog escapes it) so that it cannot split the frame.
 */
import type { LogRecord } from '../../../model/record.js';
import { formatRfc3339Nano, NS_PER_MS } from '../../../model/time.js';
import { fieldOf, severityOf } from './level.js';

export type SyslogFormat = 'rfc5424' | 'rfc3164';
export type Framing = 'octet-counting' | 'lf';

export interface SyslogFormatOptions {
  readonly format: SyslogFormat;
  readonly facility: number;
  /** When the record has no level. */
  readonly severity: number;
  readonly hostname: string;
  readonly hostnameFrom?: string;
  readonly appName: string;
  readonly appNameFrom?: string;
  /** SD-ID of the attributes element; empty: no structured data. */
  readonly sdId: string;
  /** Zone of RFC 3164 timestamps. */
  readonly timezone: 'local' | 'UTC';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Printable US-ASCII only (others → `_`), at most `max` characters, `-` when empty. */
export function headerField(value: string | undefined, max: number): string {
  const v = (value ?? '').replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return v === '' ? '-' : v;
}

/** An SD-NAME: 1-32 printable US-ASCII except `=`, SP, `]`, `"`. */
export function sdName(name: string): string {
  return name.replace(/[^\x21-\x7e]|[=\]"]/g, '_').slice(0, 32);
}

/** An SD PARAM-VALUE with `"`, `\` and `]` escaped. */
export function sdValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

export function structuredData(attributes: Readonly<Record<string, string>>, sdId: string): string {
  if (sdId === '') return '-';
  let params = '';
  for (const [k, v] of Object.entries(attributes)) {
    const n = sdName(k);
    if (n !== '') params += ` ${n}="${sdValue(v)}"`;
  }
  return params === '' ? '-' : `[${sdId}${params}]`;
}

/** RFC 5424 TIMESTAMP: UTC, at most six fraction digits. */
export function timestamp5424(ns: bigint): string {
  return formatRfc3339Nano(ns).replace(/\.(\d{1,6})\d*Z$/, '.$1Z');
}

/** RFC 3164 TIMESTAMP: `Mmm dd hh:mm:ss`, the day padded with a space. */
export function timestamp3164(ns: bigint, zone: 'local' | 'UTC'): string {
  const d = new Date(Number(ns / NS_PER_MS));
  const utc = zone === 'UTC';
  const month = utc ? d.getUTCMonth() : d.getMonth();
  const day = utc ? d.getUTCDate() : d.getDate();
  const two = (n: number) => String(n).padStart(2, '0');
  const time = utc
    ? `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
    : `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `${MONTHS[month]} ${String(day).padStart(2, ' ')} ${time}`;
}

/** RFC 3164 TAG: no space, `:`, `[` or `]`, at most 32 characters. */
export function tag3164(appName: string): string {
  const t = appName.replace(/[^\x21-\x7e]|[:[\]]/g, '_').slice(0, 32);
  return t === '' ? 'kjournal' : t;
}

export function formatSyslog(r: LogRecord, o: SyslogFormatOptions): string {
  const pri = o.facility * 8 + (severityOf(r) ?? o.severity);
  const host = (o.hostnameFrom && fieldOf(r, o.hostnameFrom)) || o.hostname;
  const app = (o.appNameFrom && fieldOf(r, o.appNameFrom)) || o.appName;
  if (o.format === 'rfc3164') {
    return `<${pri}>${timestamp3164(r.timestamp, o.timezone)} ${headerField(host, 255)} ${tag3164(app)}: ${r.body}`;
  }
  const sd = structuredData(r.attributes, o.sdId);
  const head = `<${pri}>1 ${timestamp5424(r.timestamp)} ${headerField(host, 255)} ${headerField(app, 48)} - - ${sd}`;
  return r.body === '' ? head : `${head} ${r.body}`;
}

/** One frame on a stream. */
export function frame(message: string, framing: Framing): Buffer {
  if (framing === 'lf') return Buffer.from(`${message.replace(/\n/g, '#012')}\n`, 'utf8');
  const bytes = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]);
}

/** A datagram: the message's UTF-8, cut (on a character boundary) to `max` bytes. */
export function datagram(message: string, max: number): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

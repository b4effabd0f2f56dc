/**
 * @module GELF 1.1 messages and UDP chunks (Graylog's GELF payload specification).
 *
 * A record becomes `{"version":"1.1","host":…,"short_message":…,"full_message":…,"timestamp":…,
 * "level":…,"_name":"value"…}`:
 * - `short_message` is the first non-blank line of the body (at most 250 characters, `-` when the body
 *   is blank); `full_message` is the whole body, present only when it differs from `short_message`.
 * - `timestamp` is seconds since the epoch with the record's exact fraction (up to nanoseconds).
 * - `level` is the syslog severity from the record's level (level.ts), absent when it has none.
 * - labels, then attributes (an attribute wins over a label of the same name), become additional
 *   fields: `_` + the name with every character outside `[A-Za-z0-9_.-]` replaced by `_`; `id` is
 *   sent as `_id_`, since the specification forbids `_id`.
 *
 * Chunking: a UDP payload longer than `chunkSize` (the datagram size) is split into chunks of
 * `0x1e 0x0f`, an 8-byte message id, the sequence number and the sequence count (one byte each), then
 * up to `chunkSize - 12` bytes of the payload; at most 128 chunks per message.
 */
import type { LogRecord } from '../../../model/record.js';
import { NS_PER_SECOND } from '../../../model/time.js';
import { severityOf } from './level.js';

export const GELF_MAGIC = Buffer.from([0x1e, 0x0f]);
export const GELF_CHUNK_HEADER = 12;
export const GELF_MAX_CHUNKS = 128;
export const SHORT_MESSAGE_LENGTH = 250;

/** `1700000000.123456789`: exact seconds, trailing zeros of the fraction dropped. */
export function gelfTimestamp(ns: bigint): string {
  const sec = ns / NS_PER_SECOND;
  const frac = ns % NS_PER_SECOND;
  if (frac === 0n) return sec.toString();
  return `${sec}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
}

/** A GELF additional field's name (without the `_`) for a label or attribute name. */
export function gelfFieldName(name: string): string {
  const safe = name.replace(/[^\w.-]/g, '_');
  return safe === 'id' ? 'id_' : safe;
}

function shortMessage(body: string): string {
  for (const raw of body.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (line.length <= SHORT_MESSAGE_LENGTH) return line;
    let cut = line.slice(0, SHORT_MESSAGE_LENGTH);
    const last = cut.charCodeAt(cut.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
    return cut;
  }
  return '-';
}

/** The GELF JSON text of one record; `body` replaces the record's body (for truncation). */
export function gelfMessage(record: LogRecord, host: string, body: string = record.body): string {
  const J = JSON.stringify;
  const short = shortMessage(body);
  let s = `{"version":"1.1","host":${J(host)},"short_message":${J(short)}`;
  if (body !== short) s += `,"full_message":${J(body)}`;
  s += `,"timestamp":${gelfTimestamp(record.timestamp)}`;
  const level = severityOf(record);
  if (level !== undefined) s += `,"level":${level}`;
  const fields = new Map<string, string>();
  for (const [k, v] of Object.entries(record.labels)) fields.set(gelfFieldName(k), v);
  for (const [k, v] of Object.entries(record.attributes)) fields.set(gelfFieldName(k), v);
  for (const [k, v] of fields) s += `,${J(`_${k}`)}:${J(v)}`;
  return `${s}}`;
}

/**
 * The datagrams of one payload: itself when it fits in `chunkSize`, else its chunks; undefined when
 * it would need more than 128 chunks.
 */
export function gelfChunks(payload: Buffer, chunkSize: number, id: Buffer): Buffer[] | undefined {
  if (payload.length <= chunkSize) return [payload];
  const data = chunkSize - GELF_CHUNK_HEADER;
  const count = Math.ceil(payload.length / data);
  if (count > GELF_MAX_CHUNKS) return undefined;
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const header = Buffer.alloc(GELF_CHUNK_HEADER);
    GELF_MAGIC.copy(header, 0);
    id.copy(header, 2, 0, 8);
    header[10] = i;
    header[11] = count;
    out.push(Buffer.concat([header, payload.subarray(i * data, (i + 1) * data)]));
  }
  return out;
}

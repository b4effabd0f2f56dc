/**
 * @module GELF 1.1 (Graylog Extended Log Format, as Graylog's GELF inputs read it): one JSON object
 * per message with `version`, `host` and `short_message` required, `full_message`, `timestamp`
 * (seconds since the epoch, with a decimal fraction), `level` (syslog severity, 1 by default),
 * and additional fields with a leading underscore (`_id` is reserved). Graylog 1.x's deprecated
 * `facility`, `line` and `file` are kept as they come. A payload may be gzip (1f 8b) or zlib (78 ..)
 * compressed; UDP chunks are reassembled first (formats/gelf/chunks.ts).
 *
 * Records: the line is `short_message`; labels `source=gelf` and `node=<host>`, as syslog's per
 * host; the rest is structured metadata: `full_message`, `level` with its name as `severity`, and
 * every additional field without its underscore (Docker's gelf log driver sends `_container_name`,
 * `_container_id`, `_image_name`, `_tag`, `_command`, `_created`), nested values flattened.
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { flattenJson, safeName } from '../../model/names.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { FormatError, malformed } from '../errors.js';
import { SEVERITIES } from '../syslog.js';

/** The payload's text: decompressed when it is gzip or zlib (at most `maxBytes` once inflated). */
export function gelfPayloadText(payload: Buffer, maxBytes: number): string {
  const b0 = payload[0];
  const b1 = payload[1];
  let raw = payload;
  try {
    if (b0 === 0x1f && b1 === 0x8b) raw = gunzipSync(payload, { maxOutputLength: maxBytes });
    else if (b0 === 0x78 && b1 !== undefined && ((b0 << 8) | b1) % 31 === 0) {
      raw = inflateSync(payload, { maxOutputLength: maxBytes });
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FormatError(
        'too-large',
        `GELF message over the limit of ${maxBytes} bytes once decompressed`,
      );
    }
    throw malformed(`GELF payload does not decompress: ${(err as Error).message}`, err);
  }
  if (raw.length > maxBytes)
    throw new FormatError('too-large', `GELF message over the limit of ${maxBytes} bytes`);
  return raw.toString('utf8');
}

export interface GelfMessage {
  readonly host: string;
  readonly shortMessage: string;
  readonly timestampNs?: bigint;
  readonly fields: Record<string, unknown>;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks one GELF message (Graylog's GELFMessage validation); throws FormatError. */
export function parseGelf(text: string): GelfMessage {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw malformed(`GELF message is not JSON: ${(err as Error).message}`, err);
  }
  if (!isObj(doc)) throw malformed('GELF message is not a JSON object');
  const host = doc.host;
  if (typeof host !== 'string' || host.trim() === '') throw malformed('GELF message has no "host"');
  const short = doc.short_message;
  if (typeof short !== 'string' || short.trim() === '') {
    throw malformed('GELF message has an empty or missing "short_message"');
  }
  if (Object.hasOwn(doc, '_id')) throw malformed('GELF message has the reserved field "_id"');
  let timestampNs: bigint | undefined;
  const ts = doc.timestamp;
  if (ts !== undefined && ts !== null) {
    const n = typeof ts === 'string' ? Number(ts) : ts;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
      throw malformed('GELF "timestamp" is not a number of seconds');
    // Graylog keeps milliseconds; microseconds survive a double, nanoseconds do not.
    timestampNs = BigInt(Math.round(n * 1e6)) * 1000n;
  }
  const fields: Record<string, unknown> = {};
  for (const k in doc) {
    if (k === 'host' || k === 'short_message' || k === 'timestamp' || k === 'version') continue;
    fields[k] = doc[k];
  }
  return { host, shortMessage: short, ...(timestampNs !== undefined ? { timestampNs } : {}), fields };
}

/** Labels per host, one object each (bounded: cleared past 10,000 hosts). */
export class GelfLabels {
  private readonly cache = new Map<string, Labels>();
  of(host: string): Labels {
    let l = this.cache.get(host);
    if (!l) {
      if (this.cache.size > 10_000) this.cache.clear();
      l = { source: 'gelf', node: host };
      this.cache.set(host, l);
    }
    return l;
  }
}

/** The record of one message (labels not yet normalised). */
export function gelfRecord(m: GelfMessage, labels: GelfLabels, receivedNs: bigint): RawRecord {
  const attributes: Record<string, string> = {};
  for (const k in m.fields) {
    const v = m.fields[k];
    const name = k.startsWith('_') ? k.slice(1) : k;
    if (typeof v === 'string') attributes[safeName(name)] = v;
    else flattenJson(v, name, attributes);
  }
  const level = m.fields.level;
  const sev =
    typeof level === 'number'
      ? SEVERITIES[level]
      : typeof level === 'string'
        ? SEVERITIES[Number(level)]
        : undefined;
  if (sev !== undefined) attributes.severity = sev;
  return {
    timestamp: m.timestampNs ?? receivedNs,
    observedTimestamp: receivedNs,
    labels: labels.of(m.host),
    attributes,
    body: m.shortMessage,
  };
}

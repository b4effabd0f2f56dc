/**
 * @module The `gelf` output: records to Graylog (or any GELF input) as GELF 1.1 (gelf-encode.ts).
 *
 * Options: `url` (`udp://host:port`, `tcp://host:port` or `tls://host:port`), `compression`
 * (`gzip` | `zlib` | `none`; UDP only, default `gzip`), `chunkSize` (UDP datagram size, default
 * 1420), `host` (the GELF `host` field, default this machine's name), `tls` (for `tls://`: `ca`,
 * `cert`, `key`, `insecureSkipVerify`, `serverName`).
 *
 * UDP: one payload per record, compressed, chunked when longer than `chunkSize`; a record too long
 * for 128 chunks has its body cut (halved until it fits) and gets `_kjournal_truncated: "true"`.
 * Resolved when the datagrams are handed to the kernel. TCP/TLS: uncompressed JSON, each message
 * followed by a NUL byte, the whole batch in one write; resolved when flushed (GELF has no acks).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { deflateSync, gzipSync } from 'node:zlib';
import type { LogRecord } from '../../../model/record.js';
import type { Output, OutputFactory } from '../output.js';
import { readEndpoint, readEndpointTls } from './endpoint.js';
import { gelfChunks, gelfMessage } from './gelf-encode.js';
import { socketOutput } from './socket-output.js';

const COMPRESSIONS = ['gzip', 'zlib', 'none'] as const;
type Compression = (typeof COMPRESSIONS)[number];

function compress(text: string, how: Compression): Buffer {
  const raw = Buffer.from(text, 'utf8');
  if (how === 'gzip') return gzipSync(raw);
  if (how === 'zlib') return deflateSync(raw);
  return raw;
}

/** The datagrams of one record, cutting its body until it fits in 128 chunks. */
export function gelfDatagrams(
  record: LogRecord,
  host: string,
  compression: Compression,
  chunkSize: number,
): Buffer[] {
  let body = record.body;
  let truncated = false;
  for (;;) {
    const r = truncated
      ? { ...record, attributes: { ...record.attributes, kjournal_truncated: 'true' } }
      : record;
    const chunks = gelfChunks(compress(gelfMessage(r, host, body), compression), chunkSize, randomBytes(8));
    if (chunks) return chunks;
    body = body.slice(0, Math.floor(body.length / 2));
    truncated = true;
  }
}

export const gelfOutput: OutputFactory = (name, opts, ctx): Output => {
  const ep = readEndpoint(opts, ['udp', 'tcp', 'tls']);
  const udp = ep.scheme === 'udp';
  const compression = opts.oneOf('compression', COMPRESSIONS, udp ? 'gzip' : 'none');
  if (!udp && compression !== 'none')
    throw opts.error('compression', `GELF over TCP cannot be compressed; use none (got ${compression})`);
  if (!udp && opts.has('chunkSize')) throw opts.error('chunkSize', 'only applies to udp://');
  const chunkSize = opts.number('chunkSize', 1420, 64);
  if (chunkSize > 65507) throw opts.error('chunkSize', `must be at most 65507, got ${chunkSize}`);
  const host = opts.string('host', hostname());
  const tls = readEndpointTls(opts, ep, ctx.baseDir);
  opts.done();

  return socketOutput(name, 'gelf', ep, tls, {
    datagrams(records) {
      const datagrams: Buffer[] = [];
      for (const r of records) datagrams.push(...gelfDatagrams(r, host, compression, chunkSize));
      return datagrams;
    },
    stream(records) {
      const parts: Buffer[] = [];
      for (const r of records) parts.push(Buffer.from(gelfMessage(r, host), 'utf8'), NUL);
      return Buffer.concat(parts);
    },
  });
};

const NUL = Buffer.from([0]);

/**
 * @module The Output of a datagram-or-stream protocol (GELF, syslog): over `udp://` each batch is
 * handed to the kernel as datagrams (udp.ts); over `tcp://` and `tls://` it is written as one chunk
 * of bytes on a connection that reconnects after it broke (stream.ts). The protocol only encodes.
 */
import type { ConnectionOptions } from 'node:tls';
import type { LogRecord } from '../../../model/record.js';
import type { Output } from '../output.js';
import type { Endpoint } from './endpoint.js';
import { abortedError, StreamConnection } from './stream.js';
import { UdpSender } from './udp.js';

export interface SocketEncoding {
  /** The datagrams of a batch (UDP). */
  datagrams(records: readonly LogRecord[]): Buffer[];
  /** The bytes of a batch (TCP, TLS). */
  stream(records: readonly LogRecord[]): Buffer;
}

/** An Output named `name` of `type` sending to `ep` (errors name the peer `<type> <url>`). */
export function socketOutput(
  name: string,
  type: string,
  ep: Endpoint,
  tls: ConnectionOptions | undefined,
  encoding: SocketEncoding,
): Output {
  const peer = `${type} ${ep.text}`;
  const sender = ep.scheme === 'udp' ? new UdpSender(peer, ep.host, ep.port) : undefined;
  const conn = sender
    ? undefined
    : new StreamConnection({ peer, host: ep.host, port: ep.port, ...(tls && { tls }) });
  return {
    name,
    type,
    async send(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw abortedError(signal);
      if (records.length === 0) return;
      if (sender) await sender.send(encoding.datagrams(records), signal);
      else await conn!.write(encoding.stream(records), signal);
    },
    async close(): Promise<void> {
      await sender?.close();
      await conn?.close();
    },
  };
}

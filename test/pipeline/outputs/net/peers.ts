/**
 * @module Test peers for the socket outputs: a TCP (or TLS) server that keeps the bytes of each
 * connection and can be stopped and started again on the same port, a UDP socket that keeps the
 * datagrams, and polling.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { LogRecord } from '../../../../src/model/record.js';
import { freePort } from '../../../helpers/agent-e2e.js';

export async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export class TcpPeer {
  /** The bytes received on each connection, in connection order. */
  readonly connections: { socket: Socket; bytes: Buffer }[] = [];
  port = 0;
  private server: Server | undefined;

  constructor(
    private readonly opts: {
      tls?: TlsOptions;
      /** Called with each connection and each chunk it receives (to answer, as Fluentd does). */
      onData?: (socket: Socket, chunk: Buffer, all: Buffer) => void;
      onConnection?: (socket: Socket) => void;
    } = {},
  ) {}

  get bytes(): Buffer {
    return Buffer.concat(this.connections.map((c) => c.bytes));
  }

  async start(): Promise<void> {
    const onSocket = (socket: Socket) => {
      const conn = { socket, bytes: Buffer.alloc(0) };
      this.connections.push(conn);
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => {
        conn.bytes = Buffer.concat([conn.bytes, chunk]);
        this.opts.onData?.(socket, chunk, conn.bytes);
      });
      this.opts.onConnection?.(socket);
    };
    // A port below the ephemeral range: a peer is stopped and started again at its port.
    if (this.port === 0) this.port = await freePort();
    const server = this.opts.tls ? createTlsServer(this.opts.tls, onSocket) : createServer(onSocket);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Closes the listener and every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

export class UdpPeer {
  readonly datagrams: Buffer[] = [];
  port = 0;
  private socket: UdpSocket | undefined;

  async start(): Promise<void> {
    const s = createSocket('udp4');
    s.on('message', (msg) => this.datagrams.push(msg));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    this.port = s.address().port;
    this.socket = s;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A record at `2024-03-05T06:07:08.123456789Z` (plus `i` microseconds). */
export function rec(body: string, extra: Partial<LogRecord> = {}, i = 0): LogRecord {
  return {
    timestamp: 1_709_618_828_123_456_789n + BigInt(i) * 1000n,
    observedTimestamp: 1_709_618_828_200_000_000n,
    labels: { kind: 'log', class: 'application', namespace: 'ns1' },
    attributes: {},
    body,
    ...extra,
  };
}

export const signal = (): AbortSignal => AbortSignal.timeout(10_000);

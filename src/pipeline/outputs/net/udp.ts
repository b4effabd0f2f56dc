/**
 * @module Datagrams to one peer: a UDP socket made on first use. `send` resolves when every datagram
 * was handed to the kernel; UDP has no acknowledgement, so a peer that is down is not noticed. A
 * local send error (no route, a message too long) is retryable and the socket is made anew.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { networkError, OutputError } from '../output.js';
import { abortedError } from './stream.js';

export class UdpSender {
  private socket: Socket | undefined;
  private closed = false;

  constructor(
    private readonly peer: string,
    private readonly host: string,
    private readonly port: number,
  ) {}

  async send(datagrams: readonly Buffer[], signal: AbortSignal): Promise<void> {
    if (this.closed) throw new OutputError(`${this.peer}: output closed`, true);
    const sock = this.open();
    for (const d of datagrams) {
      if (signal.aborted) throw abortedError(signal);
      await new Promise<void>((resolve, reject) => {
        sock.send(d, this.port, this.host, (err) => {
          if (err) {
            this.drop();
            reject(networkError(this.peer, err));
          } else resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.drop();
  }

  private open(): Socket {
    if (this.socket) return this.socket;
    const sock = createSocket(isIPv6(this.host) ? 'udp6' : 'udp4');
    sock.on('error', () => this.drop());
    sock.unref();
    this.socket = sock;
    return sock;
  }

  private drop(): void {
    const sock = this.socket;
    this.socket = undefined;
    if (sock) {
      try {
        sock.close();
      } catch {
        // already closed
      }
    }
  }
}

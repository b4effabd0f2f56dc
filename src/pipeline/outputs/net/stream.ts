/**
 * @module One TCP or TLS connection to a peer, opened on first use and opened again after it broke.
 * `write` resolves once the bytes are handed to the kernel (the write is flushed): that is all the
 * acknowledgement syslog and GELF over TCP have. Before an idle connection is reused, pending socket
 * events are let in, so a peer that closed it is noticed and a new connection is made (and a peer that
 * is gone fails with a retryable error instead of the bytes vanishing into a dead socket). Every
 * failure is a retryable `OutputError`; a failed or aborted write drops the connection.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { raceAbort as raceSignal } from '../../../util/abort.js';
import { networkError, OutputError } from '../output.js';

export interface StreamOptions {
  /** `tcp://host:port`, for errors. */
  readonly peer: string;
  readonly host: string;
  readonly port: number;
  /** TLS when set. */
  readonly tls?: ConnectionOptions;
  /** Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Bytes the peer sends. */
  readonly onData?: (chunk: Buffer) => void;
  /** The connection is gone (peer closed, reset, or `reset()` was called). */
  readonly onClose?: (err: Error) => void;
}

/** The rejection of a send whose signal aborted. */
export function abortedError(signal: AbortSignal): OutputError {
  const reason: unknown = signal.reason;
  const msg = reason instanceof Error ? reason.message : String(reason ?? 'aborted');
  return new OutputError(`send aborted: ${msg}`, true, { cause: reason });
}

export class StreamConnection {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private closed = false;
  /** Incremented for each new connection (a handshake runs once per connection). */
  generation = 0;

  constructor(private readonly opts: StreamOptions) {}

  /** The open connection, connecting if there is none. */
  async ready(signal: AbortSignal): Promise<Socket> {
    if (this.closed) throw new OutputError(`${this.opts.peer}: output closed`, true);
    if (signal.aborted) throw abortedError(signal);
    if (this.socket) {
      // Let a FIN or RST that already arrived be seen before the socket is trusted again.
      await nextTurn();
      if (this.socket && isUsable(this.socket)) return this.socket;
      this.reset(new Error('connection closed by peer'));
    }
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    const sock = await raceAbort(this.connecting, signal);
    return sock;
  }

  /** Writes and waits until the bytes are flushed to the kernel. */
  async write(data: Buffer | string, signal: AbortSignal): Promise<void> {
    const sock = await this.ready(signal);
    await new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => {
        signal.removeEventListener('abort', onAbort);
        sock.off('close', onClose);
        if (err) {
          this.reset(err);
          reject(err instanceof OutputError ? err : networkError(this.opts.peer, err));
        } else resolve();
      };
      const onAbort = () => finish(abortedError(signal));
      const onClose = () => finish(new Error('connection closed while writing'));
      signal.addEventListener('abort', onAbort, { once: true });
      sock.once('close', onClose);
      sock.write(data, (err) => finish(err ?? undefined));
    });
  }

  /** Drops the connection (the next use reconnects). */
  reset(err: Error = new Error('connection reset')): void {
    const sock = this.socket;
    if (!sock) return;
    this.socket = undefined;
    sock.destroy();
    this.opts.onClose?.(err);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const sock = this.socket;
    this.socket = undefined;
    if (!sock || sock.destroyed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => sock.destroy(), 2000);
      sock.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      sock.end();
    });
  }

  private connect(): Promise<Socket> {
    const { host, port, tls, peer } = this.opts;
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    return new Promise<Socket>((resolve, reject) => {
      const sock = tls ? tlsConnect({ host, port, ...tls }) : netConnect({ host, port });
      const timer = setTimeout(() => fail(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        sock.destroy();
        reject(networkError(peer, err));
      };
      sock.once('error', fail);
      sock.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        sock.off('error', fail);
        if (this.closed) {
          sock.destroy();
          reject(new OutputError(`${peer}: output closed`, true));
          return;
        }
        this.attach(sock);
        resolve(sock);
      });
    });
  }

  private attach(sock: Socket): void {
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 30_000);
    this.socket = sock;
    this.generation++;
    let lastError: Error | undefined;
    sock.on('error', (err) => {
      lastError = err;
    });
    if (this.opts.onData) sock.on('data', this.opts.onData);
    else sock.resume();
    sock.on('close', () => {
      if (this.socket !== sock) return;
      this.socket = undefined;
      this.opts.onClose?.(lastError ?? new Error('connection closed by peer'));
    });
  }
}

function isUsable(sock: Socket): boolean {
  return !sock.destroyed && sock.writable && !sock.readableEnded;
}

/** `p`, or a rejection as soon as `signal` aborts (`p` goes on). */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return raceSignal(p, signal, (): never => {
    throw abortedError(signal);
  });
}

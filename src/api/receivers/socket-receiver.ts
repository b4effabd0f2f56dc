/**
 * @module What the socket receivers (syslog, GELF) share around their decoders: the listening TCP
 * servers and UDP sockets, the batches a connection or the UDP socket writes through the intake,
 * back-pressure, and a throttled log of what was refused.
 *
 * Back-pressure: a TCP connection has one write in flight at a time (the intake holds a write while
 * the data volume is full); while it is being stored, what the connection brings next is read into
 * the next batch, up to `MAX_BATCH` records or `MAX_BATCH_CHARS` characters of lines, and the
 * connection is paused beyond that until the write is done. Pausing at every write instead left the
 * server idle a third of the time on a fast sender (rsyslog's omfwd): each fsync waited with nothing
 * read. UDP has no way to push back, so datagrams wait in a bounded queue (`udpQueue` records) and
 * are dropped, counted, beyond it.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { RequestAccess } from '../../auth/access.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Intake } from './intake.js';
import type { Listener } from './listener.js';
import type { ProtocolCounter } from './metrics.js';
import { Throttle } from './throttle.js';

/** Records in one write at most; a connection pauses once it holds this many. */
const MAX_BATCH = 10_000;
/** Characters of lines one connection holds at most beside the write in flight (8 MiB of UTF-16). */
const MAX_BATCH_CHARS = 4 << 20;

/**
 * Datagrams are gathered this long before a write: one datagram is one line, and without it a
 * steady trickle became one store append (and fsync) per few lines.
 */
const UDP_LINGER_MS = 10;
/** The socket's receive buffer (the kernel caps it at net.core.rmem_max): room for bursts. */
const UDP_RECV_BUFFER = 8 << 20;

export interface SocketReceiverOptions {
  /** The protocol, as the log lines name it (`syslog`, `gelf`). */
  readonly name: string;
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  readonly log: (line: string) => void;
  /** UDP records waiting to be written before datagrams are dropped (default 10,000). */
  readonly udpQueue?: number;
}

/** A TCP connection's records: `add` them as they are decoded, then `flush` once per read. */
export interface Batch {
  add(record: RawRecord): void;
  flush(): void;
}

/** The UDP socket's records: `full` says whether a datagram would be dropped (before decoding it). */
export interface UdpBatch {
  full(bytes: number): boolean;
  add(record: RawRecord): void;
}

export class SocketReceiver {
  private readonly closing = new AbortController();
  private readonly sockets = new Set<Socket>();
  private readonly throttle = new Throttle(10_000);
  private readonly listeners: Listener[] = [];

  constructor(private readonly o: SocketReceiverOptions) {}

  /** Logs `what`, at most once every 10 s for each kind (by default its first words). */
  note(where: string, what: string, kind = what.slice(0, 16)): void {
    if (this.throttle.ready(kind)) this.o.log(`${this.o.name}: ${where}: ${what}`);
  }

  /** Writes one batch; false when it was not stored (logged). */
  private async write(access: RequestAccess, records: RawRecord[], where: string): Promise<boolean> {
    try {
      const r = await this.o.intake.write({
        access,
        records,
        counter: this.o.counter,
        hold: true,
        signal: this.closing.signal,
      });
      if (r.firstRefusal !== undefined)
        this.note(where, `entries refused (${JSON.stringify(r.refusedByReason)}): ${r.firstRefusal}`);
      return true;
    } catch (err) {
      this.o.log(
        `${this.o.name}: ${where}: ${records.length} message(s) not stored: ${(err as Error).message}`,
      );
      return false;
    }
  }

  /**
   * A TCP connection's batch: tracked until it closes, paused while its records are written;
   * dropped when they cannot be (the sender is refused, the store fails: the sender resends).
   */
  connection(socket: Socket, access: Promise<RequestAccess>, where: string): Batch {
    access.catch(() => {});
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let pending: RawRecord[] = [];
    let pendingChars = 0;
    let flushing = false;
    const full = (): boolean => pending.length >= MAX_BATCH || pendingChars >= MAX_BATCH_CHARS;
    const flush = async (): Promise<void> => {
      try {
        const a = await access;
        while (pending.length > 0 && !socket.destroyed) {
          const batch = pending;
          pending = [];
          pendingChars = 0;
          // The next batch is read while this one is stored.
          if (socket.isPaused() && !this.closing.signal.aborted) socket.resume();
          if (!(await this.write(a, batch, where))) {
            socket.destroy();
            return;
          }
        }
      } catch (err) {
        this.o.log(`${this.o.name}: ${where}: dropping the connection: ${(err as Error).message}`);
        socket.destroy();
      } finally {
        flushing = false;
      }
    };
    return {
      add(record) {
        pending.push(record);
        pendingChars += record.body.length;
      },
      flush() {
        if (full()) socket.pause();
        if (!flushing && pending.length > 0) {
          flushing = true;
          setImmediate(() => void flush());
        }
      },
    };
  }

  /** Listens with a TCP (or TLS) server; closed by `close`. */
  async listenTcp(server: Server, at: { host: string; port: number }): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.o.log(`${this.o.name}: listener error: ${err.message}`));
    const address = server.address() as AddressInfo;
    this.listeners.push({
      address,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    });
    return address;
  }

  /**
   * Binds a UDP socket: `onMessage` decodes each datagram into the batch, written every
   * UDP_LINGER_MS; past `udpQueue` waiting records datagrams are dropped, counted and logged.
   */
  async bindUdp(
    at: { host: string; port: number },
    access: Promise<RequestAccess>,
    onMessage: (msg: Buffer, rinfo: RemoteInfo, batch: UdpBatch) => void,
  ): Promise<AddressInfo> {
    access.catch(() => {});
    const udpQueue = this.o.udpQueue ?? 10_000;
    const sock: UdpSocket = createSocket({
      type: at.host.includes(':') ? 'udp6' : 'udp4',
      recvBufferSize: UDP_RECV_BUFFER,
    });
    let pending: RawRecord[] = [];
    let flushing = false;
    const flush = async (): Promise<void> => {
      try {
        const a = await access;
        while (pending.length > 0 && !this.closing.signal.aborted) {
          const batch = pending;
          pending = [];
          await this.write(a, batch, 'udp');
        }
      } catch (err) {
        this.o.log(`${this.o.name}: udp: not stored: ${(err as Error).message}`);
        pending = [];
      } finally {
        flushing = false;
      }
    };
    const batch: UdpBatch = {
      full: (bytes) => {
        if (pending.length < udpQueue) return false;
        this.o.counter.count('refused', 1, bytes);
        this.note('udp', `dropped datagrams: ${udpQueue} messages already wait to be stored`);
        return true;
      },
      add: (record) => {
        pending.push(record);
        if (!flushing) {
          flushing = true;
          setTimeout(() => void flush(), UDP_LINGER_MS);
        }
      },
    };
    sock.on('message', (msg, rinfo) => {
      if (!batch.full(msg.length)) onMessage(msg, rinfo, batch);
    });
    sock.on('error', (err) => this.o.log(`${this.o.name}: udp error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(at.port, at.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    const address = sock.address();
    this.listeners.push({ address, close: async () => void sock.close() });
    return address;
  }

  /** Stops listening, drops the connections and lets held writes go. */
  async close(): Promise<void> {
    this.closing.abort();
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.listeners.map((l) => l.close()));
  }
}

/**
 * @module `kjournal serve --syslog-tcp ADDR --syslog-udp ADDR --syslog-tls ADDR`: syslog straight
 * to the journal, for networks whose hosts and devices send syslog (rsyslog's omfwd, syslog-ng,
 * network gear) without an agent in between. The framing (RFC 6587: octet counting or LF, detected
 * per frame) and the parser (RFC 5424 and 3164) are the agent's (formats/syslog-framing.ts,
 * formats/syslog.ts); TLS is RFC 5425 (octet-counted syslog over TLS) with the server's certificate.
 *
 * Records: the MSG is the line; labels `source=syslog` and `node=<HOSTNAME>` (the sender's address
 * when the message names no host): each host is a stream, as the agent's records are per node;
 * the rest is structured metadata (formats/syslog-record.ts). A frame that cannot be framed (a
 * wrong octet count, past `maxFrame`) is skipped, counted refused and logged (at most every 10 s);
 * the connection goes on, as rsyslog's imtcp does.
 *
 * Back-pressure: what one read brings is written as one batch, the connection paused until it is
 * stored (the intake waits while the data volume is full); UDP has no way to push back, so
 * datagrams wait in a bounded queue (`udpQueue` records) and are dropped, counted, beyond it.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { IncomingMessage } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { RequestAccess } from '../../auth/access.js';
import { type Auth, AuthenticationError } from '../../auth/index.js';
import type { UserInfo } from '../../auth/types.js';
import { parseSyslog } from '../../formats/syslog.js';
import { DEFAULT_MAX_FRAME, SyslogFramer } from '../../formats/syslog-framing.js';
import { syslogAttributes } from '../../formats/syslog-record.js';
import { SetInterner } from '../../model/intern.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Attributes, Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { receiverAccess, receiverUser } from '../receivers/access.js';
import type { Intake } from '../receivers/intake.js';
import type { Listener } from '../receivers/listener.js';
import type { ProtocolCounter } from '../receivers/metrics.js';
import { Throttle } from '../receivers/throttle.js';

export interface SyslogListenerOptions {
  readonly tcp?: { host: string; port: number };
  readonly udp?: { host: string; port: number };
  readonly tls?: { host: string; port: number };
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  readonly auth?: Auth;
  readonly tenant: string;
  /** Largest frame (default 64 KiB, the agent's). */
  readonly maxFrame?: number;
  /** UDP records waiting to be written before datagrams are dropped (default 10,000). */
  readonly udpQueue?: number;
  /** Zone of RFC 3164 timestamps (default UTC: the server does not know the sender's zone). */
  readonly timezone?: 'local' | 'UTC';
  readonly log: (line: string) => void;
}

export interface SyslogListeners {
  readonly tcp?: AddressInfo;
  readonly udp?: AddressInfo;
  readonly tls?: AddressInfo;
  close(): Promise<void>;
}

/** Records in one write at most; a connection pauses once it holds this many. */
const MAX_BATCH = 10_000;

/**
 * Datagrams are gathered this long before a write: one datagram is one line, and without it a
 * steady trickle became one store append (and fsync) per few lines.
 */
const UDP_LINGER_MS = 10;
/** The socket's receive buffer (the kernel caps it at net.core.rmem_max): room for bursts. */
const UDP_RECV_BUFFER = 8 << 20;

export async function startSyslogListeners(opts: SyslogListenerOptions): Promise<SyslogListeners> {
  const closing = new AbortController();
  const sockets = new Set<Socket>();
  const throttle = new Throttle(10_000);
  const labelsByHost = new Map<string, Labels>();
  const attributesTable = new SetInterner<Attributes>();
  const syslogUser = receiverUser('syslog');
  const maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
  const timezone = opts.timezone ?? 'UTC';
  const listeners: Listener[] = [];
  const addresses: { tcp?: AddressInfo; udp?: AddressInfo; tls?: AddressInfo } = {};

  const labelsOf = (host: string): Labels => {
    let l = labelsByHost.get(host);
    if (!l) {
      if (labelsByHost.size > 10_000) labelsByHost.clear();
      l = { source: 'syslog', node: host };
      labelsByHost.set(host, l);
    }
    return l;
  };
  const record = (text: string, receivedNs: bigint, sender: string): RawRecord => {
    const m = parseSyslog(text, { timezone, now: receivedNs });
    return {
      timestamp: m.timestamp ?? receivedNs,
      observedTimestamp: receivedNs,
      labels: labelsOf(m.hostname ?? sender),
      attributes: attributesTable.intern(syslogAttributes(m)),
      body: m.msg,
    };
  };
  const note = (where: string, what: string, kind = what.slice(0, 12)): void => {
    if (throttle.ready(kind)) opts.log(`syslog: ${where}: ${what}`);
  };

  /** Writes one batch; false when the sender is refused (logged). */
  const write = async (access: RequestAccess, records: RawRecord[], where: string): Promise<boolean> => {
    try {
      const r = await opts.intake.write({
        access,
        records,
        counter: opts.counter,
        hold: true,
        signal: closing.signal,
      });
      if (r.firstRefusal !== undefined)
        note(where, `entries refused (${JSON.stringify(r.refusedByReason)}): ${r.firstRefusal}`);
      return true;
    } catch (err) {
      opts.log(`syslog: ${where}: ${records.length} message(s) not stored: ${(err as Error).message}`);
      return false;
    }
  };

  const onStream = (socket: Socket, user: Promise<UserInfo>): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const sender = socket.remoteAddress ?? 'unknown';
    const where = `${sender}:${socket.remotePort}`;
    const framer = new SyslogFramer({ maxFrame });
    let pending: RawRecord[] = [];
    let flushing = false;
    const access = user.then((u) => receiverAccess(opts.auth, u, opts.tenant, '/syslog'));
    access.catch(() => {});
    const flush = async (): Promise<void> => {
      flushing = true;
      socket.pause();
      try {
        const a = await access;
        while (pending.length > 0 && !socket.destroyed) {
          const batch = pending;
          pending = [];
          if (!(await write(a, batch, where))) {
            socket.destroy();
            return;
          }
        }
      } catch (err) {
        opts.log(`syslog: ${where}: dropping the connection: ${(err as Error).message}`);
        socket.destroy();
        return;
      } finally {
        flushing = false;
      }
      if (!socket.destroyed && !closing.signal.aborted) socket.resume();
    };
    socket.on('data', (chunk: Buffer) => {
      const receivedNs = nowNs();
      const { frames, problems } = framer.push(chunk);
      for (const p of problems) {
        opts.counter.count('refused', 1, 0);
        note(where, `${p.reason}: ${p.message}`);
      }
      for (const f of frames) pending.push(record(f, receivedNs, sender));
      if (pending.length >= MAX_BATCH) socket.pause();
      if (!flushing && pending.length > 0) {
        flushing = true;
        setImmediate(() => void flush());
      }
    });
  };

  const listen = async (server: Server, at: { host: string; port: number }): Promise<AddressInfo> => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => opts.log(`syslog: listener error: ${err.message}`));
    listeners.push({
      address: server.address() as AddressInfo,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    });
    return server.address() as AddressInfo;
  };

  try {
    if (opts.tcp) {
      addresses.tcp = await listen(
        createServer((s) => onStream(s, Promise.resolve(syslogUser))),
        opts.tcp,
      );
    }
    if (opts.tls) {
      const tlsOptions = opts.auth?.tls;
      if (!tlsOptions) throw new Error('--syslog-tls needs --tls-cert-file and --tls-private-key-file');
      const server = createTlsServer(tlsOptions, (s: TLSSocket) =>
        onStream(s, tlsUser(opts.auth!, s, syslogUser)),
      );
      addresses.tls = await listen(server, opts.tls);
    }
    if (opts.udp) addresses.udp = await startUdp(opts.udp);
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }

  async function startUdp(at: { host: string; port: number }): Promise<AddressInfo> {
    const udpQueue = opts.udpQueue ?? 10_000;
    const sock: UdpSocket = createSocket({
      type: at.host.includes(':') ? 'udp6' : 'udp4',
      recvBufferSize: UDP_RECV_BUFFER,
    });
    let pending: RawRecord[] = [];
    let flushing = false;
    const access = receiverAccess(opts.auth, syslogUser, opts.tenant, '/syslog');
    access.catch(() => {});
    const flush = async (): Promise<void> => {
      try {
        const a = await access;
        while (pending.length > 0 && !closing.signal.aborted) {
          const batch = pending;
          pending = [];
          await write(a, batch, 'udp');
        }
      } catch (err) {
        opts.log(`syslog: udp: not stored: ${(err as Error).message}`);
        pending = [];
      } finally {
        flushing = false;
      }
    };
    sock.on('message', (msg, rinfo) => {
      if (pending.length >= udpQueue) {
        opts.counter.count('refused', 1, msg.length);
        note('udp', `dropped datagrams: ${udpQueue} messages already wait to be stored`);
        return;
      }
      pending.push(record(msg.toString('utf8'), nowNs(), rinfo.address));
      if (!flushing) {
        flushing = true;
        setTimeout(() => void flush(), UDP_LINGER_MS);
      }
    });
    sock.on('error', (err) => opts.log(`syslog: udp error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(at.port, at.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    listeners.push({ address: sock.address(), close: async () => void sock.close() });
    return sock.address();
  }

  return {
    ...addresses,
    async close() {
      closing.abort();
      for (const s of sockets) s.destroy();
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}

/** (Called once the TLS handshake is done.) A TLS sender with a client certificate is who the certificate says (checked); else `fallback`. */
async function tlsUser(auth: Auth, socket: TLSSocket, fallback: UserInfo): Promise<UserInfo> {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return fallback;
  // The authenticators read a request; a connection with no headers is its certificate alone.
  const req = { socket, headers: {}, headersDistinct: {} } as unknown as IncomingMessage;
  try {
    return await auth.authenticate(req);
  } catch (err) {
    if (err instanceof AuthenticationError) throw new Error(`client certificate refused: ${err.message}`);
    throw err;
  }
}

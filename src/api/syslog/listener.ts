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
 * Back-pressure and batches are every socket receiver's (api/receivers/socket-receiver.ts).
 */
import type { IncomingMessage } from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
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
import type { ProtocolCounter } from '../receivers/metrics.js';
import { SocketReceiver } from '../receivers/socket-receiver.js';

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

export async function startSyslogListeners(opts: SyslogListenerOptions): Promise<SyslogListeners> {
  const receiver = new SocketReceiver({ name: 'syslog', ...opts });
  const labelsByHost = new Map<string, Labels>();
  const attributesTable = new SetInterner<Attributes>();
  const syslogUser = receiverUser('syslog');
  const maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
  const timezone = opts.timezone ?? 'UTC';
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

  const onStream = (socket: Socket, user: Promise<UserInfo>): void => {
    const sender = socket.remoteAddress ?? 'unknown';
    const where = `${sender}:${socket.remotePort}`;
    const framer = new SyslogFramer({ maxFrame });
    const access = user.then((u) => receiverAccess(opts.auth, u, opts.tenant, '/syslog'));
    const batch = receiver.connection(socket, access, where);
    socket.on('data', (chunk: Buffer) => {
      const receivedNs = nowNs();
      const { frames, problems } = framer.push(chunk);
      for (const p of problems) {
        opts.counter.count('refused', 1, 0);
        receiver.note(where, `${p.reason}: ${p.message}`);
      }
      for (const f of frames) batch.add(record(f, receivedNs, sender));
      batch.flush();
    });
  };

  try {
    if (opts.tcp) {
      addresses.tcp = await receiver.listenTcp(
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
      addresses.tls = await receiver.listenTcp(server, opts.tls);
    }
    if (opts.udp) {
      const access = receiverAccess(opts.auth, syslogUser, opts.tenant, '/syslog');
      addresses.udp = await receiver.bindUdp(opts.udp, access, (msg, rinfo, batch) =>
        batch.add(record(msg.toString('utf8'), nowNs(), rinfo.address)),
      );
    }
  } catch (err) {
    await receiver.close();
    throw err;
  }
  return { ...addresses, close: () => receiver.close() };
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

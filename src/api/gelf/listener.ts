/**
 * @module `kjournal serve --gelf-udp ADDR --gelf-tcp ADDR`: GELF as Graylog's inputs take it, for
 * Docker's `gelf` log driver, Logstash's and Fluent Bit's gelf outputs and the GELF libraries.
 * - UDP: one message per datagram, gzip or zlib compressed or not, or chunked (formats/gelf/).
 * - TCP: uncompressed messages, each ended by a NUL byte (Graylog's NUL-delimited framing); a
 *   message longer than `maxMessageBytes` is skipped up to its NUL, counted and logged.
 * A message that does not parse is refused, counted and logged (at most every 10 s); the listener
 * goes on. Back-pressure as the syslog listener: a TCP connection is paused while what it sent is
 * stored; UDP messages wait in a bounded queue and are dropped, counted, beyond it.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import type { Auth } from '../../auth/index.js';
import { FormatError } from '../../formats/errors.js';
import { GelfChunks, isGelfChunk } from '../../formats/gelf/chunks.js';
import { GelfLabels, gelfPayloadText, gelfRecord, parseGelf } from '../../formats/gelf/decode.js';
import { SetInterner } from '../../model/intern.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Attributes } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { receiverAccess, receiverUser } from '../receivers/access.js';
import type { Intake } from '../receivers/intake.js';
import type { ProtocolCounter } from '../receivers/metrics.js';
import { Throttle } from '../receivers/throttle.js';

export interface GelfListenerOptions {
  readonly udp?: { host: string; port: number };
  readonly tcp?: { host: string; port: number };
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  readonly auth?: Auth;
  readonly tenant: string;
  /** Largest message (TCP frame, or a UDP message once reassembled). */
  readonly maxMessageBytes: number;
  /** Largest message once decompressed. */
  readonly maxDecodedBytes: number;
  /** UDP messages waiting to be stored before datagrams are dropped (default 10,000). */
  readonly udpQueue?: number;
  readonly log: (line: string) => void;
}

export interface GelfListeners {
  readonly udp?: AddressInfo;
  readonly tcp?: AddressInfo;
  close(): Promise<void>;
}

const NUL = 0;

/**
 * Datagrams are gathered this long before a write: one datagram is one line, and without it a
 * steady trickle became one store append (and fsync) per few lines.
 */
const UDP_LINGER_MS = 10;
/** The socket's receive buffer (the kernel caps it at net.core.rmem_max): room for bursts. */
const UDP_RECV_BUFFER = 8 << 20;

export async function startGelfListeners(opts: GelfListenerOptions): Promise<GelfListeners> {
  const closing = new AbortController();
  const sockets = new Set<Socket>();
  const throttle = new Throttle(10_000);
  const labels = new GelfLabels();
  const attributesTable = new SetInterner<Attributes>();
  const access = receiverAccess(opts.auth, receiverUser('gelf'), opts.tenant, '/gelf');
  access.catch(() => {});
  const closers: (() => Promise<void>)[] = [];
  const out: { udp?: AddressInfo; tcp?: AddressInfo } = {};
  const note = (where: string, what: string, kind = what.slice(0, 16)): void => {
    if (throttle.ready(kind)) opts.log(`gelf: ${where}: ${what}`);
  };
  const decode = (text: string, receivedNs: bigint, where: string): RawRecord | undefined => {
    try {
      const r = gelfRecord(parseGelf(text), labels, receivedNs);
      r.attributes = attributesTable.intern(r.attributes!);
      return r;
    } catch (err) {
      if (!(err instanceof FormatError)) throw err;
      opts.counter.count('refused', 1, Buffer.byteLength(text));
      note(where, `message refused: ${err.message}`);
      return undefined;
    }
  };
  const write = async (records: RawRecord[], where: string): Promise<boolean> => {
    try {
      const r = await opts.intake.write({
        access: await access,
        records,
        counter: opts.counter,
        hold: true,
        signal: closing.signal,
      });
      if (r.firstRefusal !== undefined)
        note(where, `entries refused (${JSON.stringify(r.refusedByReason)}): ${r.firstRefusal}`);
      return true;
    } catch (err) {
      opts.log(`gelf: ${where}: ${records.length} message(s) not stored: ${(err as Error).message}`);
      return false;
    }
  };

  try {
    if (opts.tcp) {
      const server: Server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
        const where = `${socket.remoteAddress}:${socket.remotePort}`;
        let held: Buffer = Buffer.alloc(0);
        let skipping = false;
        let pending: RawRecord[] = [];
        let flushing = false;
        const flush = async (): Promise<void> => {
          socket.pause();
          while (pending.length > 0 && !socket.destroyed) {
            const batch = pending;
            pending = [];
            if (!(await write(batch, where))) {
              socket.destroy();
              break;
            }
          }
          flushing = false;
          if (!socket.destroyed && !closing.signal.aborted) socket.resume();
        };
        socket.on('data', (chunk: Buffer) => {
          const receivedNs = nowNs();
          const buf = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
          let pos = 0;
          for (;;) {
            const nul = buf.indexOf(NUL, pos);
            if (nul < 0) break;
            if (skipping) skipping = false;
            else if (nul - pos > opts.maxMessageBytes) {
              opts.counter.count('refused', 1, nul - pos);
              note(where, `message longer than the limit of ${opts.maxMessageBytes} bytes: skipped`);
            } else if (nul > pos) {
              const r = decode(buf.toString('utf8', pos, nul), receivedNs, where);
              if (r) pending.push(r);
            }
            pos = nul + 1;
          }
          held = skipping ? Buffer.alloc(0) : buf.subarray(pos);
          if (held.length > opts.maxMessageBytes) {
            opts.counter.count('refused', 1, held.length);
            note(where, `message longer than the limit of ${opts.maxMessageBytes} bytes: skipped`);
            held = Buffer.alloc(0);
            skipping = true;
          }
          if (!flushing && pending.length > 0) {
            flushing = true;
            setImmediate(() => void flush());
          }
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.tcp!.port, opts.tcp!.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => opts.log(`gelf: listener error: ${err.message}`));
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      out.tcp = server.address() as AddressInfo;
    }
    if (opts.udp) {
      const udpQueue = opts.udpQueue ?? 10_000;
      const chunks = new GelfChunks(opts.maxMessageBytes);
      const sock: UdpSocket = createSocket({
        type: opts.udp.host.includes(':') ? 'udp6' : 'udp4',
        recvBufferSize: UDP_RECV_BUFFER,
      });
      let pending: RawRecord[] = [];
      let flushing = false;
      const flush = async (): Promise<void> => {
        while (pending.length > 0 && !closing.signal.aborted) {
          const batch = pending;
          pending = [];
          await write(batch, 'udp');
        }
        flushing = false;
      };
      sock.on('message', (msg, rinfo) => {
        const where = `udp ${rinfo.address}`;
        if (pending.length >= udpQueue) {
          opts.counter.count('refused', 1, msg.length);
          note('udp', `dropped datagrams: ${udpQueue} messages already wait to be stored`);
          return;
        }
        let payload: Buffer | undefined = msg;
        try {
          if (isGelfChunk(msg)) payload = chunks.add(msg);
          if (payload === undefined) return;
          const r = decode(gelfPayloadText(payload, opts.maxDecodedBytes), nowNs(), where);
          if (r) pending.push(r);
        } catch (err) {
          if (!(err instanceof FormatError)) throw err;
          opts.counter.count('refused', 1, msg.length);
          note(where, `message refused: ${err.message}`);
          return;
        }
        if (!flushing && pending.length > 0) {
          flushing = true;
          setTimeout(() => void flush(), UDP_LINGER_MS);
        }
      });
      sock.on('error', (err) => opts.log(`gelf: udp error: ${err.message}`));
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(opts.udp!.port, opts.udp!.host, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      closers.push(async () => void sock.close());
      out.udp = sock.address();
    }
  } catch (err) {
    await Promise.all(closers.map((c) => c()));
    throw err;
  }
  return {
    ...out,
    async close() {
      closing.abort();
      for (const s of sockets) s.destroy();
      await Promise.all(closers.map((c) => c()));
    },
  };
}

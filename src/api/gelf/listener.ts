/**
 * @module `kjournal serve --gelf-udp ADDR --gelf-tcp ADDR`: GELF as Graylog's inputs take it, for
 * Docker's `gelf` log driver, Logstash's and Fluent Bit's gelf outputs and the GELF libraries.
 * - UDP: one message per datagram, gzip or zlib compressed or not, or chunked (formats/gelf/).
 * - TCP: uncompressed messages, each ended by a NUL byte (Graylog's NUL-delimited framing); a
 *   message longer than `maxMessageBytes` is skipped up to its NUL, counted and logged.
 * A message that does not parse is refused, counted and logged (at most every 10 s); the listener
 * goes on. Back-pressure and batches are every socket receiver's (api/receivers/socket-receiver.ts):
 * a TCP connection is paused while what it sent is stored; UDP messages wait in a bounded queue and
 * are dropped, counted, beyond it.
 */
import { type AddressInfo, createServer } from 'node:net';
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
import { SocketReceiver } from '../receivers/socket-receiver.js';

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

export async function startGelfListeners(opts: GelfListenerOptions): Promise<GelfListeners> {
  const receiver = new SocketReceiver({ name: 'gelf', ...opts });
  const labels = new GelfLabels();
  const attributesTable = new SetInterner<Attributes>();
  const access = receiverAccess(opts.auth, receiverUser('gelf'), opts.tenant, '/gelf');
  const out: { udp?: AddressInfo; tcp?: AddressInfo } = {};
  const decode = (text: string, receivedNs: bigint, where: string): RawRecord | undefined => {
    try {
      const r = gelfRecord(parseGelf(text), labels, receivedNs);
      r.attributes = attributesTable.intern(r.attributes!);
      return r;
    } catch (err) {
      if (!(err instanceof FormatError)) throw err;
      opts.counter.count('refused', 1, Buffer.byteLength(text));
      receiver.note(where, `message refused: ${err.message}`);
      return undefined;
    }
  };
  const tooLong = (where: string, bytes: number): void => {
    opts.counter.count('refused', 1, bytes);
    receiver.note(where, `message longer than the limit of ${opts.maxMessageBytes} bytes: skipped`);
  };

  try {
    if (opts.tcp) {
      const server = createServer((socket) => {
        const where = `${socket.remoteAddress}:${socket.remotePort}`;
        const batch = receiver.connection(socket, access, where);
        let held: Buffer = Buffer.alloc(0);
        let skipping = false;
        socket.on('data', (chunk: Buffer) => {
          const receivedNs = nowNs();
          const buf = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
          let pos = 0;
          for (;;) {
            const nul = buf.indexOf(NUL, pos);
            if (nul < 0) break;
            if (skipping) skipping = false;
            else if (nul - pos > opts.maxMessageBytes) tooLong(where, nul - pos);
            else if (nul > pos) {
              const r = decode(buf.toString('utf8', pos, nul), receivedNs, where);
              if (r) batch.add(r);
            }
            pos = nul + 1;
          }
          held = skipping ? Buffer.alloc(0) : buf.subarray(pos);
          if (held.length > opts.maxMessageBytes) {
            tooLong(where, held.length);
            held = Buffer.alloc(0);
            skipping = true;
          }
          batch.flush();
        });
      });
      out.tcp = await receiver.listenTcp(server, opts.tcp);
    }
    if (opts.udp) {
      const chunks = new GelfChunks(opts.maxMessageBytes);
      out.udp = await receiver.bindUdp(opts.udp, access, (msg, rinfo, batch) => {
        const where = `udp ${rinfo.address}`;
        try {
          const payload = isGelfChunk(msg) ? chunks.add(msg) : msg;
          if (payload === undefined) return;
          const r = decode(gelfPayloadText(payload, opts.maxDecodedBytes), nowNs(), where);
          if (r) batch.add(r);
        } catch (err) {
          if (!(err instanceof FormatError)) throw err;
          opts.counter.count('refused', 1, msg.length);
          receiver.note(where, `message refused: ${err.message}`);
        }
      });
    }
  } catch (err) {
    await receiver.close();
    throw err;
  }
  return { ...out, close: () => receiver.close() };
}

/**
 * @module `kjournal serve --forward-listen ADDR`: the Fluentd forward protocol v1 on TCP, as
 * Fluentd's in_forward serves it, for Fluentd's and Fluent Bit's `forward` outputs, Docker's
 * fluentd log driver and the fluent-logger libraries. Decoding is formats/forward/.
 *
 * - Every event mode (Message, Forward, PackedForward, CompressedPackedForward). The events of the
 *   messages complete in one read are written together; `{ack: chunk}` is sent for each message
 *   that asked, in order, only once its events are durable (the intake resolves after the store's
 *   fsync). A message whose entries are partly out of the time window or too long is still
 *   acknowledged: those entries are refused and counted, as a Loki push stores the rest.
 * - With a shared key (`--forward-shared-key-file`) the server sends HELO on connect and accepts
 *   nothing but a PING proving the key; a wrong key gets `PONG false` and the connection is closed.
 * - The UDP heartbeat: a datagram on the same port is answered with one 0x00 byte, as in_forward's
 *   heartbeat server does (out_forward's `heartbeat_type udp`).
 * - Malformed input (not msgpack, not a forward message, a bad PING) and refusals (forbidden
 *   tenant or records, a store error) drop the connection with a logged reason and no ack: nothing
 *   of that message was stored, and the client sends it again. The server goes on.
 * - Back-pressure: a connection is paused (no reads) from the moment a read holds a message until
 *   its events are stored; while the data volume is full the write waits, paused. A message larger
 *   than `maxMessageBytes` is refused as soon as its size is known, not buffered.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { RequestAccess } from '../../auth/access.js';
import type { Auth } from '../../auth/index.js';
import { FormatError } from '../../formats/errors.js';
import { decodeForward, type ForwardMessage, unpackValue } from '../../formats/forward/decode.js';
import { ack, checkPing, type HandshakeState, helo, pong } from '../../formats/forward/handshake.js';
import { MsgpackFramer } from '../../formats/forward/msgpack-framer.js';
import { ForwardLabels, forwardRecord } from '../../formats/forward/records.js';
import { SetInterner } from '../../model/intern.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Attributes } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { receiverAccess, receiverUser } from '../receivers/access.js';
import type { Intake } from '../receivers/intake.js';
import type { Listener } from '../receivers/listener.js';
import type { ProtocolCounter } from '../receivers/metrics.js';
import { Throttle } from '../receivers/throttle.js';

export interface ForwardListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  readonly auth?: Auth;
  readonly tenant: string;
  /** The shared key of the handshake; absent: no handshake. */
  readonly sharedKey?: string;
  /** The name in PONG (default: the host's name). */
  readonly serverHostname?: string;
  /** Largest message on the wire (bytes). */
  readonly maxMessageBytes: number;
  /** Largest decompressed entries of one message, and most events in one. */
  readonly maxDecodedBytes: number;
  readonly maxEvents: number;
  readonly log: (line: string) => void;
}

/** Why a connection is dropped: logged, never sent (the protocol has no error message). */
class Drop extends Error {}

export async function startForwardListener(opts: ForwardListenerOptions): Promise<Listener> {
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  const labels = new ForwardLabels();
  const attributesTable = new SetInterner<Attributes>();
  const serverHostname = opts.serverHostname ?? hostname();
  const user = receiverUser('forward');
  const throttle = new Throttle(10_000);
  const limits = { maxBytes: opts.maxDecodedBytes, maxEvents: opts.maxEvents };

  const onConnection = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const framer = new MsgpackFramer(opts.maxMessageBytes);
    let handshake: HandshakeState | undefined;
    if (opts.sharedKey !== undefined) {
      const h = helo();
      handshake = h.state;
      socket.write(h.bytes);
    }
    let access: Promise<RequestAccess> | undefined;
    const accessOf = (): Promise<RequestAccess> => {
      access ??= receiverAccess(opts.auth, user, opts.tenant, '/forward');
      return access;
    };
    const queue: Buffer[] = [];
    let busy = false;

    const drop = (reason: string, bytes: number): void => {
      opts.counter.count('refused', 0, bytes);
      opts.log(`forward: ${peer}: dropping the connection: ${reason}`);
      socket.destroy();
    };

    /** Handles the complete values of one read: handshake first, then the events, then the acks. */
    const handle = async (values: Buffer[]): Promise<void> => {
      const records: RawRecord[] = [];
      const chunks: string[] = [];
      const receivedNs = nowNs();
      for (const bytes of values) {
        const msg = decodeForward(unpackValue(bytes), limits);
        if (msg.type === 'ping') {
          if (!handshake) throw new Drop('PING without a HELO: no shared key is configured');
          const bad = checkPing(handshake, msg, opts.sharedKey!);
          socket.write(pong(handshake, msg, bad === undefined, bad ?? '', serverHostname, opts.sharedKey!));
          if (bad !== undefined) throw new Drop(`handshake from ${msg.clientHostname}: ${bad}`);
          handshake = undefined;
          continue;
        }
        if (handshake) throw new Drop('events before the handshake (PING) completed');
        for (const e of (msg as ForwardMessage).events) {
          const r = forwardRecord(e, msg.tag, labels, receivedNs);
          r.attributes = attributesTable.intern(r.attributes!);
          records.push(r);
        }
        if (msg.chunk !== undefined) chunks.push(msg.chunk);
      }
      if (records.length > 0) {
        const result = await opts.intake.write({
          access: await accessOf(),
          records,
          counter: opts.counter,
          hold: true,
          signal: closing.signal,
        });
        if (result.firstRefusal !== undefined && throttle.ready()) {
          opts.log(
            `forward: ${peer}: entries refused (${JSON.stringify(result.refusedByReason)}): ${result.firstRefusal}`,
          );
        }
      }
      for (const c of chunks) socket.write(ack(c));
    };

    const drain = async (): Promise<void> => {
      busy = true;
      try {
        while (queue.length > 0 && !socket.destroyed) {
          const chunk = queue.shift()!;
          let values: Buffer[];
          try {
            values = framer.push(chunk);
          } catch (err) {
            drop((err as Error).message, framer.buffered + chunk.length);
            return;
          }
          if (values.length === 0) continue;
          try {
            await handle(values);
          } catch (err) {
            if (err instanceof Drop || err instanceof FormatError) drop(err.message, sum(values));
            else drop(`nothing stored: ${(err as Error).message}`, 0);
            return;
          }
        }
      } finally {
        busy = false;
      }
      if (!socket.destroyed && !closing.signal.aborted) socket.resume();
    };

    socket.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      socket.pause();
      if (!busy) void drain();
    });
  };

  const server: Server = createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.log(`forward: listener error: ${err.message}`));
  const address = server.address() as AddressInfo;
  // The heartbeat: UDP on the same port, each datagram answered with 0x00 (in_forward).
  const udp: UdpSocket = createSocket(address.family === 'IPv6' ? 'udp6' : 'udp4');
  udp.on('message', (_msg, rinfo) => udp.send(HEARTBEAT, rinfo.port, rinfo.address));
  udp.on('error', (err) => opts.log(`forward: heartbeat error: ${err.message}`));
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(address.port, opts.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    server.close();
    throw err;
  }
  return {
    address,
    async close() {
      closing.abort();
      udp.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const HEARTBEAT = Buffer.from([0]);

const sum = (bufs: Buffer[]): number => bufs.reduce((n, b) => n + b.length, 0);

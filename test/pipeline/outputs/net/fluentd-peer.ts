/**
 * @module A Fluentd stand-in for the `forward` output's tests: it decodes every forward-protocol
 * message it receives (PackedForward, CompressedPackedForward, EventTime as ext type 0), answers
 * `{ack: chunk}` when asked (unless told not to), and with a shared key runs the server side of the
 * handshake (HELO, checks the PING digest, PONG).
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { addExtension, Packr, Unpackr } from 'msgpackr';
import { MsgpackReader, sha512hex } from '../../../../src/pipeline/outputs/net/forward-codec.js';
import { TcpPeer } from './peers.js';

export class EventTime {
  constructor(
    readonly seconds: number,
    readonly nanoseconds: number,
  ) {}
}

addExtension({
  type: 0,
  unpack: (b: Buffer | Uint8Array) => {
    const buf = Buffer.from(b);
    return new EventTime(buf.readUInt32BE(0), buf.readUInt32BE(4));
  },
});

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export interface ReceivedMessage {
  readonly tag: string;
  /** The raw bytes of the message's entries (after gunzip). */
  readonly entriesBytes: Buffer;
  readonly entries: [EventTime, Record<string, string>][];
  readonly option: Record<string, unknown>;
}

export interface FluentdOptions {
  /** Answer acks (default true). */
  ack?: boolean;
  /** Close the connection when a message arrives instead of answering. */
  dropOnMessage?: boolean;
  sharedKey?: string;
}

export class FluentdPeer {
  readonly messages: ReceivedMessage[] = [];
  readonly pings: unknown[][] = [];
  readonly tcp: TcpPeer;

  constructor(private readonly opts: FluentdOptions = {}) {
    const state = new Map<Socket, { reader: MsgpackReader; nonce: Buffer; authed: boolean }>();
    this.tcp = new TcpPeer({
      onConnection: (socket) => {
        const nonce = randomBytes(16);
        state.set(socket, { reader: new MsgpackReader(), nonce, authed: !opts.sharedKey });
        if (opts.sharedKey)
          socket.write(packr.pack(['HELO', { nonce, auth: Buffer.alloc(0), keepalive: true }]));
      },
      onData: (socket, chunk) => {
        const st = state.get(socket)!;
        for (const value of st.reader.push(chunk)) this.onValue(socket, st, value);
      },
    });
  }

  get port(): number {
    return this.tcp.port;
  }

  private onValue(socket: Socket, st: { nonce: Buffer; authed: boolean }, value: unknown): void {
    const v = value as unknown[];
    if (v[0] === 'PING') {
      this.pings.push(v);
      const [, host, salt, digest] = v as [string, string, string, string];
      const ok = digest === sha512hex(salt, host, st.nonce, this.opts.sharedKey ?? '');
      st.authed = ok;
      const mine = 'fluentd-test';
      socket.write(
        packr.pack([
          'PONG',
          ok,
          ok ? '' : 'shared_key mismatch',
          mine,
          sha512hex(salt, mine, st.nonce, this.opts.sharedKey ?? ''),
        ]),
      );
      if (!ok) socket.end();
      return;
    }
    if (!st.authed) {
      socket.destroy();
      return;
    }
    if (this.opts.dropOnMessage) {
      socket.destroy();
      return;
    }
    const [tag, raw, option = {}] = v as [string, Buffer, Record<string, unknown>];
    const entriesBytes = option.compressed === 'gzip' ? gunzipSync(raw) : Buffer.from(raw);
    const entries = unpackr.unpackMultiple(entriesBytes) as [EventTime, Record<string, string>][];
    this.messages.push({ tag, entriesBytes, entries, option });
    if (this.opts.ack !== false && typeof option.chunk === 'string')
      socket.write(packr.pack({ ack: option.chunk }));
  }

  /** The bodies received, in order. */
  bodies(key = 'message'): string[] {
    return this.messages.flatMap((m) => m.entries.map(([, r]) => r[key]!));
  }
}

/**
 * @module The `forward` output: records to Fluentd or Fluent Bit with the forward protocol v1
 * (forward-codec.ts), over TCP or TLS.
 *
 * Options: `url` (`tcp://host:port` or `tls://host:port`), `tag` (default `kjournal`) or `tagFrom` (a
 * label or attribute giving each record's tag; `tag` when the record has none), `requireAck` (default
 * true), `ackTimeoutSeconds` (default 30), `compress` (`gzip` for CompressedPackedForward, `none`
 * default), `messageKey` (the record key of the body, default `message`), `sharedKey`,
 * `selfHostname`, `username`, `password` (the handshake, when the server requires one), `tls`.
 *
 * A batch is one PackedForward message per run of records with the same tag. Each record is
 * `{...labels, ...attributes, [messageKey]: body}` with the record's time as EventTime. With
 * `requireAck` each message's option carries a `chunk` id and the batch is done when every message's `{ack: chunk}` came back; a timeout or a broken
 * connection is a retryable error (the connection is dropped, so a late ack cannot be mistaken).
 * Without it (no `chunk`, so the server sends no ack), when the bytes are flushed.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import type { LogRecord } from '../../../model/record.js';
import { networkError, type Output, OutputError, type OutputFactory } from '../output.js';
import { readEndpoint, readEndpointTls } from './endpoint.js';
import {
  ackOf,
  checkPong,
  entry,
  type HandshakeCredentials,
  heloOf,
  MsgpackReader,
  type PackedMessage,
  packedForward,
  ping,
} from './forward-codec.js';
import { fieldOf } from './level.js';
import { abortedError, raceAbort, StreamConnection } from './stream.js';

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

export const forwardOutput: OutputFactory = (name, opts, ctx): Output => {
  const ep = readEndpoint(opts, ['tcp', 'tls']);
  const tag = opts.string('tag', 'kjournal');
  const tagFrom = opts.optionalString('tagFrom');
  const requireAck = opts.boolean('requireAck', true);
  const ackTimeoutMs = opts.number('ackTimeoutSeconds', 30, 0.001) * 1000;
  const gzip = opts.oneOf('compress', ['gzip', 'none'] as const, 'none') === 'gzip';
  const messageKey = opts.string('messageKey', 'message');
  const sharedKey = opts.optionalString('sharedKey');
  const selfHostname = opts.string('selfHostname', hostname());
  const username = opts.optionalString('username');
  const password = opts.optionalString('password');
  const tls = readEndpointTls(opts, ep, ctx.baseDir);
  opts.done();
  const creds: HandshakeCredentials | undefined =
    sharedKey === undefined
      ? undefined
      : {
          sharedKey,
          selfHostname,
          ...(username !== undefined && { username }),
          ...(password !== undefined && { password }),
        };
  return new ForwardOutput(name, `forward ${ep.text}`, {
    tag,
    tagFrom,
    requireAck,
    ackTimeoutMs,
    gzip,
    messageKey,
    creds,
    connect: { host: ep.host, port: ep.port, ...(tls && { tls }) },
  });
};

interface ForwardSettings {
  readonly tag: string;
  readonly tagFrom: string | undefined;
  readonly requireAck: boolean;
  readonly ackTimeoutMs: number;
  readonly gzip: boolean;
  readonly messageKey: string;
  readonly creds: HandshakeCredentials | undefined;
  readonly connect: { host: string; port: number; tls?: ConnectionOptions };
}

class ForwardOutput implements Output {
  readonly type = 'forward';
  private readonly conn: StreamConnection;
  private readonly reader = new MsgpackReader();
  private readonly pending = new Map<string, Pending>();
  /** Handshake messages (HELO, PONG) not yet taken, and who waits for the next one. */
  private readonly inbox: unknown[] = [];
  private inboxWaiter: Pending | undefined;
  private handshaken = 0;

  constructor(
    readonly name: string,
    private readonly peer: string,
    private readonly s: ForwardSettings,
  ) {
    this.conn = new StreamConnection({
      peer,
      ...s.connect,
      onData: (chunk) => this.onData(chunk),
      onClose: (err) => this.onClose(err),
    });
  }

  async send(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw abortedError(signal);
    if (records.length === 0) return;
    const messages = this.encode(records);
    await this.ready(signal);
    const acks = this.s.requireAck ? Promise.all(messages.map((m) => this.expectAck(m.chunk))) : undefined;
    acks?.catch(() => {});
    try {
      await this.conn.write(Buffer.concat(messages.map((m) => m.bytes)), signal);
      if (acks) await raceAbort(this.withTimeout(acks, 'ack'), signal);
    } catch (err) {
      // Settle what is still awaited (so its timer stops); a late ack is then ignored.
      const e = err instanceof Error ? err : new Error(String(err));
      for (const m of messages) {
        this.pending.get(m.chunk)?.reject(e);
        this.pending.delete(m.chunk);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.conn.close();
    this.onClose(new Error('output closed'));
  }

  private encode(records: readonly LogRecord[]): PackedMessage[] {
    const out: PackedMessage[] = [];
    let runTag: string | undefined;
    let run: Buffer[] = [];
    const flush = () => {
      if (run.length > 0) out.push(packedForward(runTag!, run, this.s.gzip, this.s.requireAck));
      run = [];
    };
    for (const r of records) {
      const t = (this.s.tagFrom && fieldOf(r, this.s.tagFrom)) || this.s.tag;
      if (t !== runTag) flush();
      runTag = t;
      run.push(entry(r.timestamp, { ...r.labels, ...r.attributes, [this.s.messageKey]: r.body }));
    }
    flush();
    return out;
  }

  /** Connects, and runs the handshake once per connection when a shared key is set. */
  private async ready(signal: AbortSignal): Promise<void> {
    await this.conn.ready(signal);
    const creds = this.s.creds;
    if (!creds || this.handshaken === this.conn.generation) return;
    const generation = this.conn.generation;
    try {
      const helo = heloOf(await raceAbort(this.withTimeout(this.nextMessage(), 'HELO'), signal));
      if (!helo) throw new OutputError(`${this.peer}: expected HELO`, true);
      const salt = randomBytes(16).toString('hex');
      await this.conn.write(ping(helo, creds, salt), signal);
      const pong = await raceAbort(this.withTimeout(this.nextMessage(), 'PONG'), signal);
      const problem = checkPong(pong, helo, creds, salt);
      if (problem) throw new OutputError(`${this.peer}: handshake: ${problem}`, true);
      this.handshaken = generation;
    } catch (err) {
      this.conn.reset(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  private expectAck(chunk: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.set(chunk, { resolve, reject });
    });
  }

  private nextMessage(): Promise<unknown> {
    if (this.inbox.length > 0) return Promise.resolve(this.inbox.shift());
    return new Promise<unknown>((resolve, reject) => {
      this.inboxWaiter = {
        resolve: () => resolve(this.inbox.shift()),
        reject,
      };
    });
  }

  /** `p`, or a retryable error after the ack timeout (the connection is then dropped). */
  private withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        const err = new OutputError(`${this.peer}: no ${what} within ${this.s.ackTimeoutMs} ms`, true);
        this.conn.reset(err);
        reject(err);
      }, this.s.ackTimeoutMs);
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(t);
          reject(err);
        },
      );
    });
  }

  private onData(chunk: Buffer): void {
    let values: unknown[];
    try {
      values = this.reader.push(chunk);
    } catch (err) {
      this.conn.reset(networkError(this.peer, new Error(`malformed response: ${String(err)}`)));
      return;
    }
    for (const v of values) {
      const ack = ackOf(v);
      if (ack !== undefined) {
        const p = this.pending.get(ack);
        this.pending.delete(ack);
        p?.resolve();
        continue;
      }
      this.inbox.push(v);
      const w = this.inboxWaiter;
      this.inboxWaiter = undefined;
      w?.resolve();
    }
  }

  private onClose(err: Error): void {
    this.reader.reset();
    this.inbox.length = 0;
    const e = err instanceof OutputError ? err : networkError(this.peer, err);
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    const w = this.inboxWaiter;
    this.inboxWaiter = undefined;
    w?.reject(e);
  }
}

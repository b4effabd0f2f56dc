/**
 * @module The shipper: takes batches from the head of the on-disk buffer, in order, coalesces them
 * (up to `batchMaxBytes` of compressed protobuf, or whatever arrived within `batchMaxWait` of the
 * oldest; a batch of a quarter of that or more goes alone),
 * pushes them to the server's Loki push API as snappy-compressed protobuf, and retries 429, 5xx and
 * connection errors for ever with exponential backoff and jitter (client/retry.ts). A 4xx other
 * than 429 is a permanent rejection: the server has stored what it could take (a partially invalid
 * push stores the valid entries and answers 400, as Loki does) and would refuse the rest again, so
 * it is logged and counted and the batches count as done.
 *
 * Only after the server's answer, and in one atomic write of the positions file, the batches'
 * positions are merged and the acknowledged batch id advanced (positions.ts); the buffer then
 * forgets them. Exactly once with `kill -9`:
 *  - killed before a batch is in the buffer: `emit` had not resolved, the source had not moved on;
 *    the next run reads it again from the saved (or buffered) positions. Nothing lost.
 *  - killed while a batch is buffered and not yet pushed: it is on disk past the acknowledged id
 *    and is pushed after the restart. Nothing lost, nothing repeated.
 *  - killed after the server stored a push but before the positions write (the server's 2xx was
 *    sent, or lost with a killed server or a broken connection): the one window. The server has no
 *    idempotency key, so the agent closes it itself: at start, the head batches are looked up
 *    through the server's query API before anything is pushed, and a push whose answer was lost on
 *    a broken connection is looked up before it is sent again (recover.ts). What is found is
 *    committed, not re-sent. What remains: a server without a query API (a bare Loki push
 *    endpoint, or no read permission) gets such a batch twice (Loki itself drops exact duplicates
 *    of timestamp, labels and line); and a line identical in labels, timestamp and text to one
 *    already stored is taken for it.
 *  - killed after the positions write: the batches are acknowledged and gone; nothing repeated.
 * Each push carries its batch ids as `X-Kjournal-Batch` (stable across restarts), for a future
 * server-side idempotency check.
 *
 * A positions write that meets a full disk (ENOSPC) is tried again every second, for ever: the
 * server has the batches, the old positions file is intact (the write is atomic), and giving up
 * would stop shipping for good. Pushes go on meanwhile, up to `maxInFlight`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type KjournalClient, PUSH_PATH, serverMessage } from '../client/client.js';
import { backoffMs, isRetryableStatus, type RetryPolicy } from '../client/retry.js';
import type { BufferedBatch, DiskBuffer } from '../disk/buffer.js';
import { isNoSpaceError } from '../disk/disk-space.js';
import { defaultLogger, type LineLog } from '../util/log.js';
import { snappyCompress, snappyUncompress } from '../util/snappy.js';
import type { AgentMetrics } from './metrics.js';
import type { PositionsStore } from './positions.js';
import { alreadyStored, RecoverUnavailableError } from './recover.js';

/** At most this many head batches are checked against the server at start. */
const RECOVER_MAX_BATCHES = 64;
/** ...and checking stops after this many in a row were not there (more than fit in the pushes in flight). */
const RECOVER_MAX_MISSES = 16;
/** Connection errors that mean the request never reached the server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** A positions write that met a full disk is tried again after this. */
const NO_SPACE_RETRY_MS = 1000;

export interface ShipperOptions {
  readonly client: KjournalClient;
  readonly buffer: DiskBuffer;
  readonly positions: PositionsStore;
  readonly metrics: AgentMetrics;
  /** Most compressed protobuf bytes in one push (a single larger batch still goes alone). Default 1 MiB. */
  readonly batchMaxBytes?: number;
  /** Pushes in flight at once (answers are committed in order). Default 3. */
  readonly maxInFlight?: number;
  /** How long the oldest batch may wait for others to join it. Default 1000 ms. */
  readonly batchMaxWaitMs?: number;
  /** Backoff between attempts; attempts are unlimited. */
  readonly retry?: Partial<Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>>;
  readonly log?: LineLog;
  /** A positions write met ENOSPC (the agent pauses its sources). */
  readonly onNoSpace?: () => void;
}

export class Shipper {
  private readonly o: Required<Omit<ShipperOptions, 'retry' | 'onNoSpace'>> &
    Pick<ShipperOptions, 'onNoSpace'> & { policy: RetryPolicy };
  private readonly controller = new AbortController();
  /** Set by `drain`: push without waiting for more batches to join. */
  private draining = false;
  private loop: Promise<void> | undefined;
  /** The last fault that stopped the loop, if any. */
  failure: Error | undefined;
  /**
   * Buffered batches the server already had at start that follow one it did not have (several
   * pushes were in flight at the last stop, and a later one was stored): not sent again, but their
   * positions are committed in order, when the batches before them are.
   */
  private readonly storedAtStart = new Set<number>();

  constructor(options: ShipperOptions) {
    this.o = {
      batchMaxBytes: 1 << 20,
      batchMaxWaitMs: 1000,
      maxInFlight: 3,
      log: defaultLogger().line('warn'),
      ...options,
      policy: { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 250, maxDelayMs: 30_000, ...options.retry },
    };
  }

  start(): void {
    this.loop ??= this.run().catch((err: Error) => {
      this.failure = err;
      this.o.log(`agent: shipping stopped: ${err.message}`, 'error');
    });
  }

  /** Pushes what is buffered without waiting for batches to fill, until empty or `deadlineMs`. */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    this.wakeDraining?.();
    while (this.o.buffer.pending.length > 0 && Date.now() < deadlineMs && this.failure === undefined) {
      await sleep(20);
    }
  }

  private wakeDraining: (() => void) | undefined;

  /**
   * A batch this large (a quarter of `batchMaxBytes`) is pushed alone, at once, as it lies in the
   * buffer: joining compressed batches means uncompressing and compressing them again, which took a
   * fifth of the agent's time when a busy file's batches were joined (bench, agent phase).
   */
  private get aloneBytes(): number {
    return this.o.batchMaxBytes / 4;
  }

  /** Stops: waits and backoffs end at once; a push in flight is awaited (its answer matters). */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  private async run(): Promise<void> {
    const { buffer } = this.o;
    if (buffer.pending.length > 0) await this.recover();
    // Pushes in flight, oldest first. Their answers may come in any order; positions are committed
    // strictly in buffer order, so a push is committed only once every older one is.
    const inflight: { batches: readonly BufferedBatch[]; done: Promise<boolean> }[] = [];
    let takenThrough = 0;
    const commitHead = async (): Promise<boolean> => {
      const head = inflight.shift()!;
      if (!(await head.done)) return false;
      return this.commit(head.batches);
    };
    while (!this.signal.aborted) {
      // The batches not yet taken: past those in flight (ids grow along the buffer).
      const pending = buffer.pending;
      let start = 0;
      while (start < pending.length && pending[start]!.id <= takenThrough) start++;
      if (start === pending.length) {
        if (inflight.length > 0) {
          if (!(await commitHead())) break;
        } else await buffer.waitForAppend(this.signal);
        continue;
      }
      if (inflight.length >= this.o.maxInFlight) {
        if (!(await commitHead())) break;
        continue;
      }
      const oldest = pending[start]!;
      const waitUntil = oldest.appendedAt + this.o.batchMaxWaitMs;
      if (
        !this.draining &&
        oldest.bodyBytes < this.aloneBytes &&
        bodyBytes(pending, start, this.o.batchMaxBytes) < this.o.batchMaxBytes &&
        Date.now() < waitUntil
      ) {
        if (inflight.length > 0) {
          // Something is in flight: commit it (or wait for more to join, whichever comes first).
          const first = inflight[0]!;
          const joined = buffer.waitForAppend(this.signal).then(() => false);
          if (await Promise.race([first.done.then(() => true), joined])) {
            if (!(await commitHead())) break;
          }
          continue;
        }
        // Wait for more to join, or for the oldest to have waited long enough.
        // A timer of our own, not AbortSignal.timeout: that one is unref'd and would let the process exit.
        const wake = new AbortController();
        const timer = setTimeout(() => wake.abort(), Math.max(1, waitUntil - Date.now()));
        this.wakeDraining = () => wake.abort();
        await buffer.waitForAppend(AbortSignal.any([this.signal, wake.signal]));
        clearTimeout(timer);
        this.wakeDraining = undefined;
        continue;
      }
      if (this.signal.aborted) break;
      const take = takeHead(pending, start, this.o.batchMaxBytes, this.aloneBytes);
      takenThrough = take.at(-1)!.id;
      inflight.push({ batches: take, done: this.ship(take) });
    }
    // Stopping: a push in flight is awaited (its answer matters), and committed when it succeeded,
    // in order; after the first one that did not get an answer, nothing more is committed.
    while (inflight.length > 0) {
      if (!(await commitHead())) break;
    }
    await Promise.allSettled(inflight.map((f) => f.done));
  }

  /**
   * At start: commits, without sending them again, the head batches the server already stored
   * (recover.ts). Retries while the server cannot answer; gives up checking when it has no query API.
   */
  private async recover(): Promise<void> {
    const found: BufferedBatch[] = [];
    const pending = this.o.buffer.pending;
    const limit = Math.min(pending.length, RECOVER_MAX_BATCHES);
    let attempt = 0;
    // Several pushes may have been in flight: one missing batch does not mean the later ones are.
    let misses = 0;
    for (let i = 0; i < limit && misses < RECOVER_MAX_MISSES && !this.signal.aborted; ) {
      const b = pending[i]!;
      try {
        if (await alreadyStored(this.o.client, await this.o.buffer.body(b))) {
          if (found.length === i) found.push(b);
          else this.storedAtStart.add(b.id);
          misses = 0;
        } else misses++;
        i++;
        attempt = 0;
      } catch (err) {
        if (!(err instanceof RecoverUnavailableError)) throw err;
        this.o.metrics.retries.inc();
        if (attempt === 0 || attempt % 10 === 0) {
          this.o.log(`agent: cannot check what the server already has (${err.message}); retrying`);
        }
        try {
          await sleep(backoffMs(this.o.policy, attempt++), undefined, { signal: this.signal });
        } catch {
          return;
        }
      }
    }
    const stored = found.length + this.storedAtStart.size;
    if (stored === 0) return;
    this.o.log(
      `agent: ${stored} buffered batches were already stored by the server (acknowledged just before ` +
        'the last stop, not yet committed): not sending them again',
      'info',
    );
    this.o.metrics.recovered.inc(stored);
    if (found.length > 0) await this.commit(found);
  }

  /**
   * Pushes `batches` as one request until answered; false if stopped before an answer. Commits
   * nothing: the loop commits in order (batches found stored at start are left out of the body).
   */
  private async ship(batches: readonly BufferedBatch[]): Promise<boolean> {
    const { client, metrics } = this.o;
    const send = batches.filter((b) => b.bodyBytes > 0 && !this.storedAtStart.has(b.id));
    // Only positions (a rotated file let go, say), or only what the server already had: nothing to send.
    if (send.length === 0) return true;
    const { buffer } = this.o;
    // One batch goes as it lies in the buffer; several are joined uncompressed (concatenated
    // PushRequests are one PushRequest) and compressed again.
    const body =
      send.length === 1
        ? await buffer.compressedBody(send[0]!)
        : snappyCompress(Buffer.concat(await Promise.all(send.map((b) => buffer.body(b)))));
    const raw = async (): Promise<Buffer> =>
      send.length === 1 ? buffer.body(send[0]!) : snappyUncompress(body);
    const records = send.reduce((n, b) => n + b.records, 0);
    const ids = `${send[0]!.id}-${send.at(-1)!.id}`;
    // Set when an attempt may have reached the server and been stored without our seeing the answer
    // (the connection broke after the request was sent): check before sending it again.
    let inDoubt = false;
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      let retryAfter: number | undefined;
      try {
        if (inDoubt) {
          if (await alreadyStored(client, await raw())) {
            this.o.log(
              `agent: batches ${ids} were stored by the server although its answer was lost`,
              'info',
            );
            metrics.recovered.inc(batches.length);
            return true;
          }
          inDoubt = false;
        }
        const res = await client.request('POST', PUSH_PATH, {
          headers: { 'content-type': 'application/x-protobuf', 'x-kjournal-batch': ids },
          body,
        });
        if (res.status >= 200 && res.status < 300) {
          metrics.pushes.inc({ result: 'ok' });
          metrics.shippedRecords.inc(records);
          metrics.shippedBytes.inc(body.length);
          this.o.log(
            `agent: pushed batches ${ids}: ${records} records, ${body.length} bytes, HTTP ${res.status}`,
            'debug',
          );
          return true;
        }
        if (!isRetryableStatus(res.status)) {
          metrics.pushes.inc({ result: 'rejected' });
          metrics.dropped.inc({ reason: 'rejected' }, records);
          this.o.log(
            `agent: server rejected batches ${ids} (${records} records): HTTP ${res.status}: ${serverMessage(res.body)}`,
            'error',
          );
          return true;
        }
        reason = `HTTP ${res.status} ${serverMessage(res.body)}`.trim();
        const ra = res.headers['retry-after'];
        if (typeof ra === 'string' && /^\d+$/.test(ra)) retryAfter = Number(ra);
      } catch (err) {
        // Even a TLS failure is retried: a daemon outlives a certificate being fixed or rotated.
        reason = (err as Error).message;
        if (
          !(err instanceof RecoverUnavailableError) &&
          !NOT_SENT.has((err as { code?: string }).code ?? '')
        ) {
          inDoubt = true;
        }
      }
      metrics.pushes.inc({ result: 'retry' });
      metrics.retries.inc();
      if (this.signal.aborted) return false;
      const delay = backoffMs(this.o.policy, attempt, retryAfter);
      if (attempt === 0 || attempt % 10 === 0) {
        this.o.log(
          `agent: push of batches ${ids} failed (${reason}); retrying in ${(delay / 1000).toFixed(1)}s`,
        );
      }
      try {
        await sleep(delay, undefined, { signal: this.signal });
      } catch {
        return false;
      }
    }
  }

  /**
   * Commits `batches` (acknowledged by the server); false if stopped while the disk was full (the
   * next start finds them stored on the server: recover.ts).
   */
  private async commit(batches: readonly BufferedBatch[]): Promise<boolean> {
    const last = batches.at(-1)!.id;
    for (const b of batches) this.storedAtStart.delete(b.id);
    const updates = batches.map((b) => ({ source: b.source, positions: b.positions }));
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.positions.commit(last, updates);
        break;
      } catch (err) {
        if (!isNoSpaceError(err)) throw err;
        this.o.onNoSpace?.();
        if (attempt === 0 || attempt % 60 === 0) {
          this.o.log(
            `agent: cannot save positions, the state volume is full (${(err as Error).message}); retrying`,
          );
        }
        try {
          await sleep(NO_SPACE_RETRY_MS, undefined, { signal: this.signal });
        } catch {
          return false;
        }
      }
    }
    this.o.metrics.positionsSaved.inc();
    await this.o.buffer.release(last);
    this.o.metrics.bufferBytes.set(this.o.buffer.bytes);
    this.o.metrics.bufferBatches.set(this.o.buffer.pending.length);
    return true;
  }
}

/** The body bytes of the batches from `start` on, counting up to `limit`. */
function bodyBytes(batches: readonly BufferedBatch[], start: number, limit: number): number {
  let n = 0;
  for (let i = start; i < batches.length && n < limit; i++) n += batches[i]!.bodyBytes;
  return n;
}

/**
 * The batches from `start` on that make one push of at most `maxBytes`; a batch of `aloneBytes` or
 * more goes alone.
 */
function takeHead(
  batches: readonly BufferedBatch[],
  start: number,
  maxBytes: number,
  aloneBytes: number,
): BufferedBatch[] {
  const out: BufferedBatch[] = [];
  let bytes = 0;
  for (let i = start; i < batches.length; i++) {
    const b = batches[i]!;
    if (out.length > 0 && (bytes + b.bodyBytes > maxBytes || b.bodyBytes >= aloneBytes)) break;
    out.push(b);
    bytes += b.bodyBytes;
    if (b.bodyBytes >= aloneBytes) break;
  }
  return out;
}

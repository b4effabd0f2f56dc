/**
 * @module The one way in of every receiver that is not the Loki push, HTTP or not (OTLP,
 * Elasticsearch bulk, journal upload, Fluentd forward, syslog, GELF, Splunk HEC), in the Loki
 * push's order (api/loki/push.ts): the push limits record by record (formats/record-check.ts:
 * labels, time window, line size, structured metadata, in Loki's words; a record that fails is
 * refused and counted, the rest stored, as Loki's distributor does, and the refusal is tied to its
 * item so that OTLP's partial success and bulk's per-item results can name it), the labels
 * normalised once per stream (journal/records.ts), `create` on what the records are
 * (auth/writes.ts: before anything is stored, so a refused request stores nothing), then the
 * journal (flows, store), which resolves once the records are durable. Counted per protocol in the
 * receivers' counters (./metrics.ts).
 *
 * Back-pressure, the one policy of every receiver: writes run a few at a time over all receivers
 * (`maxInFlight`); the others wait their turn. A TCP listener pauses its connection before it
 * calls, so while it waits the kernel's window pushes back on the sender instead of the server
 * buffering. An HTTP receiver is refused before it reads its body (`admitWrite`, through
 * api/http/write-guard.ts) once `maxQueued` writes wait (ReceiverBusyError) or while the data volume
 * is full (journal/disk-full.ts): answered with its protocol's "retry later" status and Retry-After
 * (api/receivers/errors.ts). A TCP write that meets a full disk (`hold`) waits, its connection
 * paused, and tries again every `DISK_FULL_RETRY_AFTER_S`; UDP, which cannot push back, drops.
 */
import type { Access } from '../../auth/access.js';
import { requireWrite } from '../../auth/writes.js';
import type { PushLimits } from '../../formats/loki-push/index.js';
import { RecordChecker, type Refusal } from '../../formats/record-check.js';
import { DiskFullError } from '../../journal/disk-full.js';
import type { Appended, Journal } from '../../journal/journal.js';
import { storedRecords } from '../../journal/records.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import type { ProtocolCounter } from './metrics.js';

/** Seconds an HTTP sender refused for a full queue is told to wait. */
export const BUSY_RETRY_AFTER_S = 1;

/** Too many writes wait their turn: an HTTP receiver answers "retry later" (429/503) with Retry-After. */
export class ReceiverBusyError extends Error {
  override readonly name = 'ReceiverBusyError';
  readonly code = 'BUSY';
  readonly retryAfterSeconds = BUSY_RETRY_AFTER_S;
  constructor() {
    super('server is busy: too many writes are waiting to be stored; try again later');
  }
}

export interface IntakeOptions {
  readonly journal: Pick<Journal, 'write' | 'admitWrite'>;
  /** The Loki push's limits (the server's). */
  readonly limits: PushLimits;
  /** Writes at once over all receivers; default 4. */
  readonly maxInFlight?: number;
  /** Writes waiting for a turn beyond which HTTP receivers answer "busy" (default 32). */
  readonly maxQueued?: number;
  readonly now?: () => bigint;
}

/** One decoded item: a record, or the reason the decoder already refused it. */
export type IntakeItem = RawRecord | Refusal;

const isRefusal = (item: IntakeItem): item is Refusal => (item as Refusal).reason !== undefined;

export interface IntakeResult extends Appended {
  /** Per item, in order: undefined when it was taken, else why not. */
  readonly refusals: readonly (Refusal | undefined)[];
  /** Items taken (stored or duplicates) and refused. */
  readonly accepted: number;
  readonly refused: number;
  /** Refused items by reason (too_old, too_new, line_too_long...; `X-Kjournal-Entries-Refused`). */
  readonly refusedByReason: Readonly<Record<string, number>>;
  /** The first refusal's text, in Loki's words. */
  readonly firstRefusal?: string;
}

export interface WriteRequest {
  readonly access: Access;
  readonly records: readonly IntakeItem[];
  readonly counter: ProtocolCounter;
  /**
   * Each item's body's UTF-8 length, by index, when the decoder measured them (a decode worker
   * does, off the main thread); else measured here.
   */
  readonly lineBytes?: Uint32Array | undefined;
  /** Wait while the disk is full rather than refuse (TCP receivers, whose connections are paused). */
  readonly hold?: boolean;
  /** Stops a held write (the listener closing). */
  readonly signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * The records grouped by stream (labels object), in order within each: what a Loki push body is.
 * Shippers interleave streams (a bulk request of a node's pods, a journal of many units); the
 * store looks a stream up whenever the labels change from one record to the next, which was a
 * third of an interleaved request's store time.
 */
function byStream<T extends { labels: object }>(records: T[]): T[] {
  if (records.length < 2) return records;
  let changes = 0;
  for (let i = 1; i < records.length; i++) if (records[i]!.labels !== records[i - 1]!.labels) changes++;
  if (changes === 0) return records;
  const groups = new Map<object, T[]>();
  for (const r of records) {
    const g = groups.get(r.labels);
    if (g) g.push(r);
    else groups.set(r.labels, [r]);
  }
  if (groups.size === changes + 1) return records;
  const out: T[] = [];
  for (const g of groups.values()) for (const r of g) out.push(r);
  return out;
}

export class Intake {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly maxInFlight: number;
  private readonly now: () => bigint;
  /** One checker for every write: what it learns of a labels object holds for the next request. */
  private readonly checker: RecordChecker;
  /**
   * Stored labels by received labels object, across requests: the decoders keep one labels object
   * per stream for as long as they live, so a stream's labels are normalised once.
   */
  private readonly normalized = new WeakMap<Labels, Labels>();

  constructor(private readonly opts: IntakeOptions) {
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.now = opts.now ?? nowNs;
    this.checker = new RecordChecker(opts.limits, this.now());
  }

  /** Writes waiting for a turn (a gauge of back-pressure). */
  get queued(): number {
    return this.waiting.length;
  }

  /** True while so many writes wait that an HTTP receiver should answer "retry later". */
  get busy(): boolean {
    return this.waiting.length >= (this.opts.maxQueued ?? 32);
  }

  /**
   * An HTTP receiver's admission before it reads its body (api/http/write-guard.ts): throws
   * ReceiverBusyError while writes queue past `maxQueued`, DiskFullError while the disk is full.
   */
  admitWrite(): void {
    if (this.busy) throw new ReceiverBusyError();
    this.opts.journal.admitWrite();
  }

  /**
   * Checks, authorizes and stores the items for `access.tenant`; resolves once they are durable.
   * Throws ForbiddenError (nothing stored), DiskFullError (not held), RefusedRecordsError, or what
   * the store throws; every item of a request that throws is counted refused.
   */
  async write(req: WriteRequest): Promise<IntakeResult> {
    const items = req.records;
    const known = req.lineBytes?.length === items.length ? req.lineBytes : undefined;
    const checker = this.checker.at(this.now());
    const refusals: (Refusal | undefined)[] = new Array(items.length);
    const refusedByReason: Record<string, number> = {};
    const taken: RawRecord[] = [];
    let firstRefusal: string | undefined;
    let bytes = 0;
    let refusedBytes = 0;
    let refused = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (isRefusal(item)) {
        refusals[i] = item;
        refused++;
        refusedByReason[item.reason] = (refusedByReason[item.reason] ?? 0) + 1;
        firstRefusal ??= item.message;
        continue;
      }
      const lineBytes = known !== undefined ? known[i]! : Buffer.byteLength(item.body, 'utf8');
      const why = checker.check(item, lineBytes);
      if (why === undefined) {
        taken.push(item);
        bytes += lineBytes;
        continue;
      }
      refusals[i] = why;
      refused++;
      refusedByReason[why.reason] = (refusedByReason[why.reason] ?? 0) + 1;
      firstRefusal ??= why.message;
      refusedBytes += lineBytes;
    }
    let appended: Appended = { stored: 0, duplicates: 0 };
    try {
      // Labels normalised once per stream, in place (journal/records.ts).
      const records = byStream(storedRecords(taken, undefined, this.normalized));
      await requireWrite(req.access, records);
      if (records.length > 0) appended = await this.store(req, records, bytes);
    } catch (err) {
      // Unauthorized, or the journal refused the write (full disk, store down): nothing was stored.
      req.counter.count('refused', items.length, bytes + refusedBytes);
      throw err;
    }
    req.counter.count('accepted', taken.length, bytes);
    req.counter.count('refused', refused, refusedBytes);
    return {
      ...appended,
      refusals,
      accepted: taken.length,
      refused,
      refusedByReason,
      ...(firstRefusal !== undefined ? { firstRefusal } : {}),
    };
  }

  /** The journal's write in its turn; a held write waits out a full disk. */
  private async store(
    req: WriteRequest,
    records: Parameters<Journal['write']>[1],
    knownBytes: number,
  ): Promise<Appended> {
    await this.turn();
    try {
      for (;;) {
        try {
          this.opts.journal.admitWrite();
          return await this.opts.journal.write(req.access.tenant, records, { knownBytes });
        } catch (err) {
          if (!(err instanceof DiskFullError) || !req.hold || req.signal?.aborted) throw err;
          await sleep(err.retryAfterSeconds * 1000, req.signal);
        }
      }
    } finally {
      this.release();
    }
  }

  private turn(): Promise<void> {
    if (this.running < this.maxInFlight) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

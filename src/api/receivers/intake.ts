/**
 * @module The one way in of every receiver that is not the Loki push (Fluentd forward, syslog,
 * GELF, Splunk HEC): the entries' checks of a Loki push (the time window and the line size of the
 * server's limits, model/validate-time.ts; an entry that fails is refused and counted, the rest
 * stored, as Loki's distributor does), the labels normalised (journal/records.ts), `create` on
 * what the records are (auth/writes.ts), then the journal, which answers once they are durable.
 *
 * Back-pressure: writes run a few at a time (`maxInFlight`); the others wait their turn, and their
 * connections are paused meanwhile (the listeners pause before they call), so the kernel's window
 * pushes back on the senders instead of the server buffering. While the data volume is full
 * (journal/disk-full.ts) a write that may wait (`hold`, the TCP receivers) waits and tries again
 * every `DISK_FULL_RETRY_AFTER_S`, its connection paused; one that may not (HTTP, UDP) is refused.
 */
import type { Access } from '../../auth/access.js';
import { requireWrite } from '../../auth/writes.js';
import { DiskFullError } from '../../journal/disk-full.js';
import type { Journal } from '../../journal/journal.js';
import { storedRecords } from '../../journal/records.js';
import type { RawRecord } from '../../model/normalize.js';
import { nowNs } from '../../model/time.js';
import { type TimeLimits, TimeWindow } from '../../model/validate-time.js';
import type { ProtocolCounter } from './metrics.js';

export interface IntakeLimits extends TimeLimits {
  /** Longest line in bytes (Loki's max_line_size); 0 for none. */
  readonly maxLineSize: number;
}

export interface IntakeOptions {
  readonly journal: Pick<Journal, 'write' | 'admitWrite'>;
  readonly limits: IntakeLimits;
  /** Writes at once over all receivers; default 4. */
  readonly maxInFlight?: number;
  /** Writes waiting for a turn beyond which HTTP receivers answer "busy" (default 32). */
  readonly maxQueued?: number;
  readonly now?: () => bigint;
}

export interface IntakeResult {
  readonly stored: number;
  readonly duplicates: number;
  /** Entries refused, by reason (too_old, too_new, line_too_long). */
  readonly refused: Readonly<Record<string, number>>;
  /** The first refusal's text, in Loki's words. */
  readonly firstRefusal?: string;
}

export interface WriteRequest {
  readonly access: Access;
  readonly records: RawRecord[];
  readonly counter: ProtocolCounter;
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

export class Intake {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly maxInFlight: number;
  private readonly now: () => bigint;

  constructor(private readonly opts: IntakeOptions) {
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.now = opts.now ?? nowNs;
  }

  /** Writes waiting for a turn (a gauge of back-pressure). */
  get queued(): number {
    return this.waiting.length;
  }

  /** True while so many writes wait that an HTTP receiver should answer 503 with Retry-After. */
  get busy(): boolean {
    return this.waiting.length >= (this.opts.maxQueued ?? 32);
  }

  /** Throws DiskFullError while the journal refuses writes (HTTP receivers, before reading). */
  admit(): void {
    this.opts.journal.admitWrite();
  }

  /**
   * Checks, authorizes and stores `records` for `access.tenant`; resolves once they are durable.
   * Throws ForbiddenError (nothing stored), DiskFullError (not held), RefusedRecordsError, or what
   * the store throws.
   */
  async write(req: WriteRequest): Promise<IntakeResult> {
    const { kept, refused, firstRefusal, refusedBytes, refusedCount } = this.check(req.records);
    if (refusedCount > 0) req.counter.count('refused', refusedCount, refusedBytes);
    let bytes = 0;
    for (const r of kept) bytes += Buffer.byteLength(r.body);
    try {
      const records = storedRecords(kept);
      await requireWrite(req.access, records);
      await this.turn();
      try {
        for (;;) {
          try {
            this.opts.journal.admitWrite();
            const done = await this.opts.journal.write(req.access.tenant, records, { knownBytes: bytes });
            req.counter.count('accepted', kept.length, bytes);
            return {
              stored: done.stored,
              duplicates: done.duplicates,
              refused,
              ...(firstRefusal !== undefined ? { firstRefusal } : {}),
            };
          } catch (err) {
            if (!(err instanceof DiskFullError) || !req.hold || req.signal?.aborted) throw err;
            await sleep(err.retryAfterSeconds * 1000, req.signal);
          }
        }
      } finally {
        this.release();
      }
    } catch (err) {
      req.counter.count('refused', kept.length, bytes);
      throw err;
    }
  }

  private check(records: RawRecord[]) {
    const window = new TimeWindow(this.opts.limits, this.now());
    const maxLine = this.opts.limits.maxLineSize;
    const refused: Record<string, number> = {};
    let firstRefusal: string | undefined;
    let refusedBytes = 0;
    let refusedCount = 0;
    const kept: RawRecord[] = [];
    for (const r of records) {
      const t = window.check(r.timestamp);
      const len = maxLine > 0 && r.body.length * 3 > maxLine ? Buffer.byteLength(r.body) : 0;
      const reason = t ?? (len > maxLine ? 'line_too_long' : undefined);
      if (reason === undefined) {
        kept.push(r);
        continue;
      }
      refused[reason] = (refused[reason] ?? 0) + 1;
      refusedCount++;
      refusedBytes += Buffer.byteLength(r.body);
      firstRefusal ??=
        t !== undefined
          ? window.message(JSON.stringify(r.labels), r.timestamp, t)
          : `max entry size '${maxLine}' bytes exceeded for stream '${JSON.stringify(r.labels)}' while adding an entry with length '${len}' bytes`;
    }
    return { kept, refused, firstRefusal, refusedBytes, refusedCount };
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

export { DiskFullError };

/**
 * @module BufferedOutput: what every output gets around it, whatever its type. Records a flow sends
 * are written to a bounded on-disk buffer (the agent's DiskBuffer: CRC-checked frames in segment
 * files under `<dir>/<output>/`, each frame an NDJSON chunk of records, fsynced), then sent in
 * batches (by records, bytes and time) in order, one batch at a time.
 *
 * - A retryable OutputError (peer down, 5xx, 429) sends the same batch again after an exponential
 *   backoff with full jitter, until it is accepted: nothing is lost and the order is kept.
 * - A non-retryable one (the peer rejected the data) writes the batch to the dead-letter file
 *   `<dir>/<output>.deadletter.ndjson` with the reason, and goes on.
 * - The id of the last batch done is kept in `<dir>/<output>/acked` (atomically replaced), so after
 *   a crash (even kill -9) every fsynced batch not done is sent again (at least once).
 * - `enqueue` never waits for the peer and never blocks its caller: when the buffer holds
 *   `maxBytes`, new records are dropped and counted (`kjournal_output_dropped_records_total
 *   {reason="buffer_full"}`) with a log line, so one output that is down delays nothing else.
 *
 * `close(deadline)` writes what is in memory, sends what it can until the deadline, and leaves
 * the rest on disk for the next start.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { type BufferedBatch, DiskBuffer } from '../../disk/buffer.js';
import { writeFileAtomic } from '../../disk/fsync.js';
import type { LogRecord } from '../../model/record.js';
import { defaultLogger, type LineLog } from '../../util/log.js';
import { sleep } from '../../util/sleep.js';
import { timeoutSignal } from '../../util/timeout-signal.js';
import type { BatchSettings, RetrySettings } from '../config.js';
import { appendDeadLetters, deadLetterPath } from '../dead-letter.js';
import { type OutputMetrics, outputMetrics } from '../metrics.js';
import { recordsFromNdjson, recordToJson } from '../record-json.js';
import { type Output, OutputError } from './output.js';

export interface BufferedOutputOptions {
  readonly output: Output;
  /** Holds `<output>/` (the buffer) and `<output>.deadletter.ndjson`. */
  readonly dir: string;
  readonly maxBytes: number;
  readonly batch: BatchSettings;
  readonly retry: RetrySettings;
  readonly registry: Registry;
  readonly log?: LineLog;
  /** One send attempt is abandoned (and retried) after this long; default 60 s. */
  readonly sendTimeoutMs?: number;
  /** [0, 1); the jitter's source (tests fix it). */
  readonly random?: () => number;
}

interface Pending {
  lines: string[];
  /** The UTF-8 size of each line. */
  sizes: number[];
  done: (() => void)[];
}

const emptyPending = (): Pending => ({ lines: [], sizes: [], done: [] });

export class BufferedOutput {
  readonly name: string;
  private readonly disk: DiskBuffer;
  private readonly metrics: OutputMetrics;
  private readonly log: LineLog;
  private readonly random: () => number;
  private readonly sendTimeoutMs: number;
  private readonly deadLetterFile: string;
  private readonly ackedFile: string;
  private pending = emptyPending();
  /** Bytes of records taken by `enqueue` and not yet on disk. */
  private memBytes = 0;
  /** Bytes of records on disk not yet sent (frame headers not counted). */
  private diskBytes = 0;
  private writer: Promise<void> = Promise.resolve();
  private writing = false;
  /** An acknowledgement is being recorded (the send loop acks one batch at a time). */
  private acking = false;
  private readonly stop = new AbortController();
  private wakeCtl = new AbortController();
  private draining = false;
  private closed = false;
  private loop: Promise<void> = Promise.resolve();
  private fullDropped = 0;

  private constructor(private readonly options: BufferedOutputOptions) {
    this.name = options.output.name;
    const bufferDir = join(options.dir, this.name);
    this.disk = new DiskBuffer({
      dir: bufferDir,
      // The limit is enforced by `enqueue` (dropping), so the DiskBuffer never makes anyone wait.
      maxBytes: Number.MAX_SAFE_INTEGER,
      segmentBytes: Math.min(64 << 20, Math.max(1 << 20, Math.floor(options.maxBytes / 8))),
    });
    this.metrics = outputMetrics(options.registry);
    this.log = options.log ?? defaultLogger().line('warn');
    this.random = options.random ?? Math.random;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 60_000;
    this.deadLetterFile = deadLetterPath(options.dir, this.name);
    this.ackedFile = join(bufferDir, 'acked');
  }

  /** Opens the buffer (what a previous run left is sent first) and starts sending. */
  static async open(options: BufferedOutputOptions): Promise<BufferedOutput> {
    const b = new BufferedOutput(options);
    await b.disk.open(await b.readAcked());
    b.diskBytes = b.disk.pending.reduce((s, f) => s + f.bodyBytes, 0);
    b.updateGauge();
    b.loop = b.run();
    return b;
  }

  get output(): Output {
    return this.options.output;
  }

  /** Bytes of records waiting: on disk and not yet written. */
  get bufferedBytes(): number {
    return this.diskBytes + this.memBytes;
  }

  /**
   * Takes records for sending. Never waits for the peer; the promise resolves once the records taken
   * are fsynced (or were dropped: it never rejects), and callers need not wait for it.
   */
  enqueue(records: readonly LogRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    if (this.closed) {
      this.metrics.dropped.inc({ output: this.name, reason: 'closed' }, records.length);
      return Promise.resolve();
    }
    let dropped = 0;
    for (const r of records) {
      const line = `${recordToJson(r)}\n`;
      const bytes = Buffer.byteLength(line);
      const used = this.bufferedBytes;
      // A record bigger than the whole buffer still goes when the buffer is empty.
      if (used > 0 && used + bytes > this.options.maxBytes) {
        dropped++;
        continue;
      }
      this.pending.lines.push(line);
      this.pending.sizes.push(bytes);
      this.memBytes += bytes;
    }
    if (dropped > 0) this.dropFull(dropped);
    else this.roomAgain();
    this.updateGauge();
    if (this.pending.lines.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.pending.done.push(resolve));
    if (!this.writing) {
      this.writing = true;
      this.writer = this.write();
    }
    return done;
  }

  private dropFull(n: number): void {
    if (this.fullDropped === 0)
      this.log(`output ${this.name}: buffer full (${this.options.maxBytes} bytes); dropping new records`);
    this.fullDropped += n;
    this.metrics.dropped.inc({ output: this.name, reason: 'buffer_full' }, n);
  }

  /** After records were dropped, says so once the buffer is below 90% again. */
  private roomAgain(): void {
    if (this.fullDropped === 0 || this.bufferedBytes >= this.options.maxBytes * 0.9) return;
    this.log(`output ${this.name}: buffer has room again; ${this.fullDropped} records were dropped`, 'info');
    this.fullDropped = 0;
  }

  /** Group commit: writes everything taken so far as frames of at most one batch each. */
  private async write(): Promise<void> {
    while (this.pending.lines.length > 0) {
      const p = this.pending;
      this.pending = emptyPending();
      const { maxRecords, maxBytes } = this.options.batch;
      let start = 0;
      while (start < p.lines.length) {
        let end = start;
        let bytes = 0;
        while (end < p.lines.length && end - start < maxRecords) {
          const b = p.sizes[end]!;
          if (end > start && bytes + b > maxBytes) break;
          bytes += b;
          end++;
        }
        const body = Buffer.from(p.lines.slice(start, end).join(''), 'utf8');
        try {
          await this.disk.append(this.name, {}, end - start, body);
          this.diskBytes += body.length;
        } catch (err) {
          this.metrics.dropped.inc({ output: this.name, reason: 'write_error' }, end - start);
          this.log(
            `output ${this.name}: cannot write to the buffer, ${end - start} records dropped: ${message(err)}`,
          );
        }
        this.memBytes -= bytes;
        this.updateGauge();
        start = end;
      }
      for (const f of p.done) f();
    }
    this.writing = false;
  }

  private async readAcked(): Promise<number> {
    try {
      const n = Number((await readFile(this.ackedFile, 'utf8')).trim());
      return Number.isSafeInteger(n) && n >= 0 ? n : 0;
    } catch {
      return 0;
    }
  }

  /** The next batch: the oldest frames within the batch limits, and whether it should go now. */
  private nextBatch(): { frames: BufferedBatch[]; ready: boolean; waitMs: number } {
    const { maxRecords, maxBytes, maxWaitMs } = this.options.batch;
    const pending = this.disk.pending;
    const frames: BufferedBatch[] = [];
    let records = 0;
    let bytes = 0;
    for (const f of pending) {
      if (frames.length > 0 && (records + f.records > maxRecords || bytes + f.bodyBytes > maxBytes)) break;
      frames.push(f);
      records += f.records;
      bytes += f.bodyBytes;
    }
    if (frames.length === 0) return { frames, ready: false, waitMs: Number.POSITIVE_INFINITY };
    const full = frames.length < pending.length || records >= maxRecords || bytes >= maxBytes;
    const waitMs = frames[0]!.appendedAt + maxWaitMs - Date.now();
    return { frames, ready: full || this.draining || waitMs <= 0, waitMs };
  }

  private async run(): Promise<void> {
    const stop = this.stop.signal;
    while (!stop.aborted) {
      const { frames, ready, waitMs } = this.nextBatch();
      if (!ready) {
        if (this.draining && frames.length === 0) {
          if (!this.writing) return;
          await this.writer;
          continue;
        }
        await this.waitForWork(waitMs);
        continue;
      }
      let records: LogRecord[];
      try {
        records = [];
        for (const f of frames)
          records.push(...recordsFromNdjson((await this.disk.body(f)).toString('utf8')));
      } catch (err) {
        const n = frames.reduce((s, f) => s + f.records, 0);
        this.metrics.dropped.inc({ output: this.name, reason: 'unreadable' }, n);
        this.log(`output ${this.name}: cannot read ${n} buffered records, skipped: ${message(err)}`);
        await this.ack(frames);
        continue;
      }
      try {
        if (await this.deliver(records)) await this.ack(frames);
      } catch (err) {
        // The dead-letter file or the acked file could not be written: try the batch again later.
        this.log(`output ${this.name}: ${message(err)}; trying again`);
        await sleep(this.options.retry.minBackoffMs, stop);
      }
    }
  }

  /** Waits for a new frame, a wake-up (close), the stop, or `ms`. */
  private async waitForWork(ms: number): Promise<void> {
    const ac = new AbortController();
    const signal = AbortSignal.any([ac.signal, this.stop.signal, this.wakeCtl.signal]);
    const waits = [this.disk.waitForAppend(signal)];
    if (Number.isFinite(ms)) waits.push(sleep(Math.max(0, ms), signal));
    await Promise.race(waits);
    ac.abort();
  }

  /** Sends one batch until the peer takes it or rejects it (true), or the output stops (false). */
  private async deliver(records: LogRecord[]): Promise<boolean> {
    const stop = this.stop.signal;
    const { minBackoffMs, maxBackoffMs } = this.options.retry;
    for (let attempt = 0; ; attempt++) {
      // Not AbortSignal.timeout: inside AbortSignal.any it can be collected and never fire (timeout-signal.ts).
      const deadline = timeoutSignal(this.sendTimeoutMs);
      try {
        await this.options.output.send(records, AbortSignal.any([stop, deadline.signal]));
        this.metrics.sent.inc({ output: this.name }, records.length);
        if (attempt > 0) this.log(`output ${this.name}: sent again after ${attempt} failed attempts`, 'info');
        return true;
      } catch (err) {
        if (stop.aborted) return false;
        const retryable = !(err instanceof OutputError) || err.retryable;
        this.metrics.failedSends.inc({ output: this.name, retryable: String(retryable) });
        if (!retryable) {
          await this.deadLetter(records, message(err));
          return true;
        }
        const delay = this.random() * Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(attempt, 30));
        // The first failure of an outage, then at powers of two: enough to see it, not a flood.
        if ((attempt & (attempt + 1)) === 0)
          this.log(
            `output ${this.name}: send of ${records.length} records failed (attempt ${attempt + 1}), ` +
              `retrying in ${(delay / 1000).toFixed(1)}s: ${message(err)}`,
          );
        await sleep(delay, stop);
        if (stop.aborted) return false;
      } finally {
        deadline.clear();
      }
    }
  }

  private async deadLetter(records: readonly LogRecord[], reason: string): Promise<void> {
    await appendDeadLetters(this.deadLetterFile, this.name, reason, records);
    this.metrics.deadLetter.inc({ output: this.name }, records.length);
    this.log(
      `output ${this.name}: peer rejected ${records.length} records (${reason}); see ${this.deadLetterFile}`,
      'error',
    );
  }

  /** The frames are done (sent or dead-lettered): never again, even after a restart. */
  private async ack(frames: readonly BufferedBatch[]): Promise<void> {
    const id = frames[frames.length - 1]!.id;
    this.acking = true;
    try {
      await writeFileAtomic(this.ackedFile, `${id}\n`);
      await this.disk.release(id);
      for (const f of frames) this.diskBytes -= f.bodyBytes;
      this.updateGauge();
      this.roomAgain();
    } finally {
      this.acking = false;
    }
  }

  private updateGauge(): void {
    this.metrics.bufferBytes.set({ output: this.name }, this.bufferedBytes);
  }

  /**
   * Resolves when everything enqueued so far is written and sent (or dead-lettered); for tests and
   * for a host that wants to wait. Rejects after `timeoutMs`.
   */
  async idle(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    await this.writer;
    // Not before the last ack is done: the buffer forgets its frames before the gauge is updated.
    while (this.disk.pending.length > 0 || this.writing || this.acking) {
      if (Date.now() > until) throw new Error(`output ${this.name}: not idle after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Stops taking records, writes what is in memory, sends what it can within `deadlineMs`, then
   * closes the output. What is left stays on disk for the next start.
   */
  async close(deadlineMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    const timer = setTimeout(() => this.stop.abort(), deadlineMs);
    try {
      await this.writer;
      this.wakeCtl.abort();
      await this.loop;
    } finally {
      clearTimeout(timer);
      this.stop.abort();
      await this.loop;
      await this.disk.close();
      await this.options.output.close();
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

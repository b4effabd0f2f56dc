/**
 * @module A pool of `worker_threads` Workers that decode the JSON receivers' bodies (OTLP/JSON,
 * Splunk HEC events, Elasticsearch bulk) off the main thread (`serve --decode-workers N`). Why: in
 * the bench's receivers phase the server's main thread was the bottleneck (one core busy, the
 * other idle), and most of its time for these receivers went to decoding: the UTF-8 text of a
 * non-ASCII body, the JSON bounds scan, `JSON.parse`, the walk into records and their garbage. In a
 * worker that runs in parallel with the store path of the other requests. Measured (bench phase
 * `receivers`, 2 shared cores, 200,000 lines in bodies of 2,000, one worker, runs interleaved with
 * `--decode-workers 0`): the server's main thread spent about half the CPU (OTLP/JSON 1.2-1.4 s
 * against 1.9-2.3 s, HEC 1.2-1.3 against 2.1-2.8, bulk 1.2-1.4 against 2.2-2.9), the process
 * about as much in all, and lines/s rose from 91-116k to 117-136k for OTLP/JSON, 80-107k to
 * 121-146k for HEC and 64-79k to 108-124k for bulk.
 *
 * Small bodies decode inline: below `inlineBelow` bytes the hop (a message each way, the records
 * rebuilt) costs the main thread as much as it saves. Measured on HEC bodies: at 9 KiB the main
 * thread spent 0.09 ms pooled against 0.08 ms inline, at 18 KiB 0.09 against 0.14, at 37 KiB 0.12
 * against 0.27, at 373 KiB 0.64 against 2.9; a pooled body waits 0.1-0.2 ms longer. Bounded: each worker has at most `maxQueuedPerWorker` bodies
 * in flight; beyond, the caller decodes inline (and the intake's back-pressure bounds how many
 * requests read bodies at all). A worker that dies fails its in-flight requests with
 * DecodeWorkerError (a 5xx answer, never a hang) and is replaced. Workers start with their first
 * body, not with the server: one that takes no large JSON body loads no thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SetInterner } from '../../model/intern.js';
import type { Labels } from '../../model/record.js';
import { type DecodedBody, type DecodeJob, fromWireError, type WireError } from './decode-jobs.js';
import { type PackedBulk, type PackedRecords, unpackBulk, unpackRecords } from './decode-packed.js';
import type { DecodeRequest } from './decode-worker.js';

/** The default size: one worker per spare core, at most 2. */
export const defaultDecodeWorkers = (): number => Math.max(0, Math.min(2, availableParallelism() - 1));

/** Bodies smaller than this decode on the main thread. */
export const DECODE_INLINE_BELOW = 32 << 10;
/** Bodies one worker may hold, decoding or waiting. */
export const DECODE_QUEUE_PER_WORKER = 4;

/**
 * The young generation of a worker, in MiB (V8's default is about 16 per semi-space): a body's
 * records live until they are packed, so each scavenge of a small young generation copied them;
 * measured on bulk bodies of 2,000 documents, decoding took 10% less time with 64 than with the
 * default (64 and 96 alike). At most that much more memory per busy worker.
 */
export const WORKER_YOUNG_GENERATION_MB = 64;

/** A worker died while it held the request's body: answered as an internal error (5xx). */
export class DecodeWorkerError extends Error {
  override readonly name = 'DecodeWorkerError';
  readonly code = 'DECODE_WORKER';
}

interface Pending {
  resolve(r: Reply): void;
  reject(err: Error): void;
}

interface Slot {
  /** Started at the slot's first body: a server that never gets a large one starts no thread. */
  worker?: Worker;
  readonly pending: Map<number, Pending>;
  /** No worker will run here again (one failed to start): its share decodes inline. */
  dead?: boolean;
}

type Reply = {
  readonly id: number;
  readonly ok?: PackedRecords;
  readonly bulk?: PackedBulk;
  readonly error?: WireError;
};

export interface DecodePoolOptions {
  readonly inlineBelow?: number;
  readonly maxQueuedPerWorker?: number;
  /** Told of a worker that died (the server's log). */
  readonly log?: (line: string) => void;
  /** The worker's module (tests: one that cannot start). */
  readonly workerUrl?: URL;
}

const WORKER_URL = new URL('./decode-worker.js', import.meta.url);

export class DecodePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private crashNext = false;
  readonly inlineBelow: number;
  private readonly maxQueued: number;

  constructor(
    readonly size: number,
    private readonly opts: DecodePoolOptions = {},
  ) {
    this.inlineBelow = opts.inlineBelow ?? DECODE_INLINE_BELOW;
    this.maxQueued = opts.maxQueuedPerWorker ?? DECODE_QUEUE_PER_WORKER;
    for (let i = 0; i < size; i++) this.slots.push({ pending: new Map() });
  }

  private start(slot: Slot): Worker {
    const worker = new Worker(this.opts.workerUrl ?? WORKER_URL, {
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    // An idle worker does not keep the process alive; one holding a body does (ref'd while busy).
    worker.unref();
    slot.worker = worker;
    // Ready once its module has loaded (it says so): 'online' comes before a module that fails.
    let online = false;
    worker.on('message', (m: Reply | 'ready') => {
      if (m === 'ready') {
        online = true;
        return;
      }
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      if (m.ok) p.resolve(m);
      else p.reject(fromWireError(m.error!));
    });
    // An uncaught error is followed by 'exit', which fails what the worker held.
    worker.on('error', (err) => this.opts.log?.(`decode worker failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return;
      const failed = [...slot.pending.values()];
      slot.pending.clear();
      for (const p of failed) p.reject(new DecodeWorkerError(`decode worker exited (code ${code})`));
      if (this.closed) return;
      if (!online) {
        // It never ran (its module failed to load): restarting would only fail again, at once.
        slot.dead = true;
        this.opts.log?.(`decode worker could not start (code ${code}); decoding on the main thread`);
        return;
      }
      this.opts.log?.(
        `decode worker exited (code ${code}), ${failed.length} request(s) failed; restarting it`,
      );
      this.start(slot);
    });
    return worker;
  }

  /** The least busy worker with room, if any. */
  private slot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.dead || s.pending.size >= this.maxQueued) continue;
      if (!best || s.pending.size < best.pending.size) best = s;
    }
    return best;
  }

  /** Whether a body of `bytes` would go to a worker now. */
  wants(bytes: number): boolean {
    return !this.closed && bytes >= this.inlineBelow && this.slot() !== undefined;
  }

  /**
   * The records of `body` decoded by a worker, labels interned in `labelSets`; undefined when the
   * body is small or every worker is full (decode it inline). `body` must not be used afterwards
   * (its memory may be transferred).
   */
  decode(job: DecodeJob, body: Buffer, labelSets: SetInterner<Labels>): Promise<DecodedBody> | undefined {
    if (this.closed || body.length < this.inlineBelow) return undefined;
    const slot = this.slot();
    if (!slot) return undefined;
    // A Buffer that owns its whole ArrayBuffer is transferred; a slice of a pooled one is copied.
    const own = body.byteOffset === 0 && body.buffer.byteLength === body.length;
    const ab = own ? (body.buffer as ArrayBuffer) : (new Uint8Array(body).buffer as ArrayBuffer);
    const id = this.nextId++;
    const request: DecodeRequest = { id, job, body: ab, ...(this.crashNext ? { crash: true } : {}) };
    this.crashNext = false;
    const worker = slot.worker ?? this.start(slot);
    return new Promise<Reply>((resolve, reject) => {
      if (slot.pending.size === 0) worker.ref();
      slot.pending.set(id, { resolve, reject });
      worker.postMessage(request, [ab]);
    }).then((r) => ({
      records: unpackRecords(r.ok!, labelSets),
      lineBytes: r.ok!.lineBytes,
      ...(r.bulk ? { bulk: unpackBulk(r.bulk) } : {}),
    }));
  }

  /** Bodies sent to the workers and not yet answered. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.slots) n += s.pending.size;
    return n;
  }

  /** A test hook: the worker that takes the next body exits as it receives it, as if it crashed. */
  crashNextForTest(): void {
    this.crashNext = true;
  }

  /** The workers' thread ids (tests); -1 for one not started yet. */
  get threadIds(): number[] {
    return this.slots.map((s) => s.worker?.threadId ?? -1);
  }

  /** Terminates the workers (the server's shutdown); requests in flight fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }
}

/**
 * @module A pool of `worker_threads` Workers that decode the JSON receivers' bodies (OTLP/JSON,
 * Splunk HEC events, Elasticsearch bulk) and parse journal uploads off the main thread
 * (`serve --decode-workers N`). Why: in the bench's receivers phase the server's main thread was the
 * bottleneck (one core busy, the other idle), and most of its time for these receivers went to
 * decoding: the UTF-8 text of a non-ASCII body, the JSON bounds scan, `JSON.parse`, the walk into
 * records and their garbage. In a worker that runs in parallel with the store path of the other
 * requests. Measured (bench phase `receivers`, 2 shared cores, 200,000 lines in bodies of 2,000,
 * one worker, runs interleaved with `--decode-workers 0`): the server's main thread spent about
 * half the CPU (OTLP/JSON 1.2-1.4 s against 1.9-2.3 s, HEC 1.2-1.3 against 2.1-2.8, bulk 1.2-1.4
 * against 2.2-2.9), the process about as much in all, and lines/s rose from 91-116k to 117-136k for
 * OTLP/JSON, 80-107k to 121-146k for HEC and 64-79k to 108-124k for bulk.
 *
 * Small bodies decode inline: below `inlineBelow` bytes the hop (a message each way, the records
 * rebuilt) costs the main thread as much as it saves. Measured on HEC bodies: at 9 KiB the main
 * thread spent 0.09 ms pooled against 0.08 ms inline, at 18 KiB 0.09 against 0.14, at 37 KiB 0.12
 * against 0.27, at 373 KiB 0.64 against 2.9; a pooled body waits 0.1-0.2 ms longer. Bounded: each worker has at most `maxQueuedPerWorker` bodies
 * in flight; beyond, the caller decodes inline (and the intake's back-pressure bounds how many
 * requests read bodies at all). A worker that dies fails its in-flight requests with
 * DecodeWorkerError (a 5xx answer, never a hang) and is replaced. Workers start with their first
 * body, not with the server: one that takes no large JSON body loads no thread.
 *
 * A journal upload (`POST /upload`, api/journal-upload/upload.ts) is one long body read as it
 * arrives: it goes to one worker as a sticky stream (`openStream`), in pieces that the worker
 * parses with the upload's own parser, kept between them (./decode-journal.ts), each answered with
 * the records of the entries it completes. Why: parsing the export format and making the records was
 * most of the main thread's time for an upload; in a worker it runs beside the store path (bench:
 * the main thread's CPU for 200,000 entries 1.33-1.48 s inline, 0.75-0.82 s with one worker). A worker holds at most
 * `maxStreamsPerWorker` uploads (more are parsed inline); one that dies fails its streams' pieces
 * with DecodeWorkerError, and their later pieces too (their state died with it); a stream the
 * handler gives up (its request failed or was aborted) is discarded in the worker.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SetInterner } from '../../model/intern.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Attributes, Labels } from '../../model/record.js';
import { type DecodedBody, type DecodeJob, fromWireError, type WireError } from './decode-jobs.js';
import type { JournalStreamJob } from './decode-journal.js';
import { type PackedBulk, type PackedRecords, unpackBulk, unpackRecords } from './decode-packed.js';
import type { DecodeRequest, WorkerRequest } from './decode-worker.js';

/** The default size: one worker per spare core, at most 2. */
export const defaultDecodeWorkers = (): number => Math.max(0, Math.min(2, availableParallelism() - 1));

/** Bodies smaller than this decode on the main thread. */
export const DECODE_INLINE_BELOW = 32 << 10;
/** Bodies one worker may hold, decoding or waiting. */
export const DECODE_QUEUE_PER_WORKER = 4;
/** Journal uploads one worker may hold open (./decode-journal.ts); more are parsed inline. */
export const DECODE_STREAMS_PER_WORKER = 16;

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
  /** The streams open in the worker (sticky: their pieces go nowhere else). */
  readonly streams: Set<number>;
  /** No worker will run here again (one failed to start): its share decodes inline. */
  dead?: boolean;
}

type Reply = {
  readonly id: number;
  readonly ok?: PackedRecords;
  readonly bulk?: PackedBulk;
  /** A journal piece's corrupt entries. */
  readonly journal?: { readonly corrupt: number; readonly reasons: string[] };
  /** The answer to a probe (tests). */
  readonly streams?: number;
  readonly error?: WireError;
};

/** Packed records, their sets interned on this side, and their UTF-8 lengths. */
function unpacked(
  packed: PackedRecords,
  labelSets: SetInterner<Labels>,
  attributeSets?: SetInterner<Attributes>,
): { records: RawRecord[]; lineBytes: Uint32Array } {
  return { records: unpackRecords(packed, labelSets, attributeSets), lineBytes: packed.lineBytes };
}

/** What a piece of a journal upload gave: its records, its corrupt entries and their first reasons. */
export interface DecodedPiece {
  readonly records: RawRecord[];
  /** The records' bodies' UTF-8 lengths, when a worker measured them (for the intake). */
  readonly lineBytes?: Uint32Array;
  readonly corrupt: number;
  readonly reasons: readonly string[];
}

/** A journal piece's packed records unpacked here, label (and attribute) sets interned. */
export function unpackPiece(
  piece: { readonly packed: PackedRecords; readonly corrupt: number; readonly reasons: string[] },
  labelSets: SetInterner<Labels>,
  attributeSets?: SetInterner<Attributes>,
): DecodedPiece {
  return {
    ...unpacked(piece.packed, labelSets, attributeSets),
    corrupt: piece.corrupt,
    reasons: piece.reasons,
  };
}

/**
 * One journal upload decoded by one worker, piece after piece (the worker keeps its parser between
 * them; messages to a worker arrive in order). Each piece answers the records of the entries it
 * completes. A worker that dies fails the pieces it held and every later one with
 * DecodeWorkerError. After `end`, nothing more is sent; `discard` (a request that failed or was
 * aborted) drops the stream's state in the worker, and is a no-op once the stream ended.
 */
export interface DecodeStream {
  chunk(body: Buffer, now: bigint, maxBodyBytes: number): Promise<DecodedPiece>;
  /** The last piece (may be empty): the worker also returns the entry left open, and drops the stream. */
  end(body: Buffer, now: bigint, maxBodyBytes: number): Promise<DecodedPiece>;
  discard(): void;
}

export interface DecodePoolOptions {
  readonly inlineBelow?: number;
  readonly maxQueuedPerWorker?: number;
  readonly maxStreamsPerWorker?: number;
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
  private readonly maxStreams: number;

  constructor(
    readonly size: number,
    private readonly opts: DecodePoolOptions = {},
  ) {
    this.inlineBelow = opts.inlineBelow ?? DECODE_INLINE_BELOW;
    this.maxQueued = opts.maxQueuedPerWorker ?? DECODE_QUEUE_PER_WORKER;
    this.maxStreams = opts.maxStreamsPerWorker ?? DECODE_STREAMS_PER_WORKER;
    for (let i = 0; i < size; i++) this.slots.push({ pending: new Map(), streams: new Set() });
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
      if (m.error) p.reject(fromWireError(m.error));
      else p.resolve(m);
    });
    // An uncaught error is followed by 'exit', which fails what the worker held.
    worker.on('error', (err) => this.opts.log?.(`decode worker failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return;
      const failed = [...slot.pending.values()];
      slot.pending.clear();
      // Their state died with the worker: their next pieces fail (post() sees another worker).
      slot.streams.clear();
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

  /**
   * The least busy worker with room, if any; for a stream, one that may open another, its open
   * streams counted in its load.
   */
  private slot(forStream = false): Slot | undefined {
    let best: Slot | undefined;
    let bestLoad = 0;
    for (const s of this.slots) {
      if (s.dead || s.pending.size >= this.maxQueued) continue;
      if (forStream && s.streams.size >= this.maxStreams) continue;
      const load = s.pending.size + (forStream ? s.streams.size : 0);
      if (!best || load < bestLoad) {
        best = s;
        bestLoad = load;
      }
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
    const worker = slot.worker ?? this.start(slot);
    return this.post(slot, worker, job, body).then((r) => ({
      ...unpacked(r.ok!, labelSets),
      ...(r.bulk ? { bulk: unpackBulk(r.bulk) } : {}),
    }));
  }

  /**
   * A journal upload's stream, bound to the least busy worker with room; undefined when there is
   * none (size 0, every worker dead, full or holding its most streams): parse it inline. Records
   * come back with their label sets interned in `labelSets`.
   */
  openStream(
    labelSets: SetInterner<Labels>,
    attributeSets?: SetInterner<Attributes>,
  ): DecodeStream | undefined {
    if (this.closed) return undefined;
    const bound = this.slot(true);
    if (!bound) return undefined;
    const worker = bound.worker ?? this.start(bound);
    const stream = this.nextId++;
    bound.streams.add(stream);
    let sent = false;
    let ended = false;
    const close = (): void => void bound.streams.delete(stream);
    const piece = (kind: JournalStreamJob['kind'], body: Buffer, now: bigint, maxBodyBytes: number) => {
      if (ended) return Promise.reject(new Error(`journal stream ${stream} already ended`));
      const job: JournalStreamJob = { kind, stream, now, maxBodyBytes, ...(sent ? {} : { first: true }) };
      sent = true;
      if (kind === 'journal-end') ended = true;
      const answer = this.post(bound, worker, job, body).then((r) =>
        unpackPiece({ packed: r.ok!, ...r.journal! }, labelSets, attributeSets),
      );
      if (kind === 'journal-end') answer.then(close, close);
      return answer;
    };
    return {
      chunk: (body, now, maxBodyBytes) => piece('journal-chunk', body, now, maxBodyBytes),
      end: (body, now, maxBodyBytes) => piece('journal-end', body, now, maxBodyBytes),
      discard: () => {
        close();
        if (ended) return;
        ended = true;
        // Nothing sent: the worker holds nothing. Another worker, or none: the state died with it.
        if (sent && this.live(bound, worker)) worker.postMessage({ discard: stream } satisfies WorkerRequest);
      },
    };
  }

  /** Whether `worker` still serves `slot` (not replaced, not failed, the pool open). */
  private live(slot: Slot, worker: Worker): boolean {
    return !this.closed && !slot.dead && slot.worker === worker;
  }

  /**
   * Sends `job` with `body` to `worker`; its answer, or DecodeWorkerError once the worker is gone
   * (a message to a worker that exited would never be answered).
   */
  private post(slot: Slot, worker: Worker, job: DecodeJob | JournalStreamJob, body: Buffer): Promise<Reply> {
    if (!this.live(slot, worker)) return Promise.reject(new DecodeWorkerError('decode worker exited'));
    // A Buffer that owns its whole ArrayBuffer is transferred; a slice of a pooled one is copied.
    const own = body.byteOffset === 0 && body.buffer.byteLength === body.length;
    const ab = own ? (body.buffer as ArrayBuffer) : (new Uint8Array(body).buffer as ArrayBuffer);
    const id = this.nextId++;
    const request: DecodeRequest = { id, job, body: ab, ...(this.crashNext ? { crash: true } : {}) };
    this.crashNext = false;
    return this.send(slot, worker, request, [ab]);
  }

  private send(slot: Slot, worker: Worker, request: WorkerRequest & { id: number }, transfer: ArrayBuffer[]) {
    return new Promise<Reply>((resolve, reject) => {
      if (slot.pending.size === 0) worker.ref();
      slot.pending.set(request.id, { resolve, reject });
      worker.postMessage(request, transfer);
    });
  }

  /** Tests: the streams each started worker holds (-1 for a slot without a live worker). */
  async streamStatesForTest(): Promise<number[]> {
    return Promise.all(
      this.slots.map(async (s) => {
        if (!s.worker || !this.live(s, s.worker)) return -1;
        const r = await this.send(s, s.worker, { id: this.nextId++, probe: 'streams' }, []);
        return r.streams ?? -1;
      }),
    );
  }

  /** Streams open, as the pool counts them. */
  get openStreams(): number {
    let n = 0;
    for (const s of this.slots) n += s.streams.size;
    return n;
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

/**
 * @module `kjournal agent`'s core: sources (given by the caller) feed the bounded on-disk buffer
 * through `emit`, the shipper pushes the buffer to the server, and the positions file advances only
 * once the server has acknowledged (see shipper.ts for the exactly-once analysis).
 *
 * A source resumes from its acknowledged positions merged with those of its batches still in the
 * buffer: those batches are on disk and will be shipped, so reading them again would repeat them.
 *
 * Records dated where no server can store them are refused before they are encoded (time-gate.ts).
 *
 * `emit` appends the batch to the buffer (fsynced) and resolves; while the buffer is full it waits,
 * which is what holds a source back. When the agent stops, an `emit` still waiting rejects (the batch
 * was not taken; its data is read again after a restart).
 *
 * A full disk holds the sources back the same way: while the state directory's volume has less free
 * space than `minFreeDisk` (disk/disk-space.ts, sampled every second), or after an append met ENOSPC
 * (the buffer cuts the torn frame off), `emit` waits, the agent reports not ready, and it goes on by
 * itself once a sample finds room: the shipper keeps pushing and committing meanwhile, and what it
 * releases is the first room found. The state directory is locked (disk/dir-lock.ts): one agent per
 * state directory.
 */
import { join } from 'node:path';
import type { KjournalClient } from '../client/client.js';
import { DiskBuffer } from '../disk/buffer.js';
import { acquireDirLock, type DirLock } from '../disk/dir-lock.js';
import {
  DEFAULT_MIN_FREE,
  DiskSpaceWatch,
  type DiskWatermark,
  describeWatermark,
  formatBytes,
  isNoSpaceError,
} from '../disk/disk-space.js';
import type { Scratch } from '../formats/loki-push/encode.js';
import type { TimeLimits } from '../model/validate-time.js';
import type { Source, SourceBatch } from '../sources/source.js';
import { defaultLogger, type LineLog } from '../util/log.js';
import { snappyCompress } from '../util/snappy.js';
import { AgentMetrics } from './metrics.js';
import { mergePositions, PositionsStore } from './positions.js';
import { PushBuilder } from './push-builder.js';
import { Shipper } from './shipper.js';
import { TimeGate } from './time-gate.js';

export const DEFAULT_BUFFER_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;
export const DEFAULT_BATCH_MAX_WAIT_MS = 1000;
export const DEFAULT_STOP_GRACE_MS = 5000;

export interface AgentOptions {
  readonly sources: readonly Source[];
  readonly client: KjournalClient;
  /** Positions (`positions.json`) and the buffer (`buffer/`) live here. */
  readonly stateDir: string;
  readonly bufferMaxBytes?: number;
  readonly batchMaxBytes?: number;
  readonly batchMaxWaitMs?: number;
  /** Backoff between push attempts (attempts are unlimited). */
  readonly retry?: { readonly baseDelayMs?: number; readonly maxDelayMs?: number };
  /** How long `stop` keeps shipping what is buffered. */
  readonly stopGraceMs?: number;
  readonly metrics?: AgentMetrics;
  readonly log?: LineLog;
  /** Record times refused before buffering (default: before 1970, or 10 minutes ahead). */
  readonly timeLimits?: TimeLimits;
  /**
   * Sources pause while the state directory's volume has less free space than this (default
   * DEFAULT_MIN_FREE: 1GiB or 5% of the volume, whichever is smaller).
   */
  readonly minFreeDisk?: DiskWatermark;
  /** The state directory's lock, already taken by the caller (the CLI); else `start` takes it. */
  readonly lock?: DirLock;
}

export class Agent {
  readonly metrics: AgentMetrics;
  readonly positions: PositionsStore;
  readonly buffer: DiskBuffer;
  /** Free space on the state directory's volume. */
  readonly disk: DiskSpaceWatch;
  private lock: DirLock | undefined;
  private readonly o: AgentOptions;
  private readonly log: LineLog;
  private readonly controller = new AbortController();
  private shipper: Shipper | undefined;
  private runs: Promise<void>[] = [];
  private started = false;
  private stopped: Promise<void> | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  /** Where batches are written (push-builder.ts) before they are compressed. */
  private readonly scratch: Scratch = {};

  constructor(options: AgentOptions) {
    const names = new Set<string>();
    for (const s of options.sources) {
      if (names.has(s.name)) throw new Error(`two sources are named ${JSON.stringify(s.name)}`);
      names.add(s.name);
    }
    this.o = options;
    this.log = options.log ?? defaultLogger().line('warn');
    this.metrics = options.metrics ?? new AgentMetrics();
    this.positions = new PositionsStore(options.stateDir);
    this.buffer = new DiskBuffer({
      dir: join(options.stateDir, 'buffer'),
      maxBytes: options.bufferMaxBytes ?? DEFAULT_BUFFER_MAX_BYTES,
    });
    const minFree = options.minFreeDisk ?? DEFAULT_MIN_FREE;
    this.disk = new DiskSpaceWatch({
      dir: options.stateDir,
      minFree,
      onChange: (low, d) => {
        this.metrics.diskPaused.set(low ? 1 : 0);
        if (!low)
          this.log(`agent: ${formatBytes(d.free)} free on the state volume again: sources resume`, 'info');
        else if (d.metNoSpace) this.log('agent: the state volume is full (ENOSPC): sources pause');
        else
          this.log(
            `agent: ${formatBytes(d.free)} free on the state volume, under --min-free-disk ` +
              `(${describeWatermark(minFree)}: ${formatBytes(d.threshold)}): sources pause`,
          );
      },
      onError: (err) => this.log(`agent: cannot read free space: ${(err as Error).message}`, 'error'),
    });
    this.metrics.watchDisk(this.disk);
  }

  /** True once started, not stopping, and not paused for disk space (`GET /ready`). */
  get ready(): boolean {
    return this.started && !this.controller.signal.aborted && !this.disk.low;
  }

  /** Loads the positions and the buffer, starts shipping and every source. */
  async start(): Promise<void> {
    if (this.started) throw new Error('the agent is already started');
    this.lock = this.o.lock ?? (await acquireDirLock(this.o.stateDir, 'state directory'));
    try {
      await this.open();
    } catch (err) {
      this.disk.stop();
      await this.lock.release();
      throw err;
    }
    for (const source of this.o.sources) this.runs.push(this.runSource(source));
  }

  private async open(): Promise<void> {
    const { metrics, buffer } = this;
    await this.disk.start();
    await this.positions.load();
    buffer.onFullChange = (full) => {
      metrics.setFull(full);
      if (full)
        this.log(`agent: buffer full (${buffer.bytes} bytes): sources wait until the server takes more`);
      else this.log('agent: buffer has room again: sources resume', 'info');
    };
    await buffer.open(this.positions.ackedBatch);
    metrics.bufferMaxBytes.set(buffer.maxBytes);
    metrics.bufferBytes.set(buffer.bytes);
    metrics.bufferBatches.set(buffer.pending.length);
    if (buffer.pending.length > 0) {
      this.log(
        `agent: ${buffer.pending.length} batches (${buffer.bytes} bytes) left in the buffer: shipping them`,
        'info',
      );
    }
    this.shipper = new Shipper({
      client: this.o.client,
      buffer,
      positions: this.positions,
      metrics,
      batchMaxBytes: this.o.batchMaxBytes ?? DEFAULT_BATCH_MAX_BYTES,
      batchMaxWaitMs: this.o.batchMaxWaitMs ?? DEFAULT_BATCH_MAX_WAIT_MS,
      ...(this.o.retry ? { retry: this.o.retry } : {}),
      log: this.log,
      onNoSpace: () => this.disk.noteNoSpace(),
    });
    this.shipper.start();
    // Keeps the process alive while the agent runs, whatever its sources hold open.
    this.keepAlive = setInterval(() => undefined, 3_600_000);
    this.started = true;
  }

  /**
   * Runs `append` once the disk has room; on ENOSPC (a torn frame the buffer cut off: nothing was
   * taken) waits for room and tries again. Sources are held back meanwhile, as by a full buffer.
   */
  private async appendWhenRoom(append: () => Promise<unknown>, signal: AbortSignal): Promise<void> {
    for (;;) {
      await this.disk.waitForRoom(signal);
      try {
        await append();
        return;
      } catch (err) {
        if (!isNoSpaceError(err) || signal.aborted) throw err;
        this.disk.noteNoSpace();
      }
    }
  }

  /** Where `source` resumes: acknowledged positions, then those of its batches still buffered. */
  resumePositions(source: string): Record<string, unknown> {
    const out = this.positions.get(source);
    for (const b of this.buffer.pending) if (b.source === source) mergePositions(out, b.positions);
    return out;
  }

  private async runSource(source: Source): Promise<void> {
    const { metrics, buffer } = this;
    const signal = this.controller.signal;
    // The source's batch, encoded as its records arrive (staged or emitted).
    const builder = new PushBuilder();
    const gate = new TimeGate({
      ...(this.o.timeLimits ? { limits: this.o.timeLimits } : {}),
      onRefused: (reason) => metrics.dropped.inc({ reason }),
      log: (m) => this.log(`agent: ${source.name}: ${m}`),
    });
    let inFlight = false;
    const check = (what: string): void => {
      if (inFlight) throw new Error(`source ${source.name} called ${what} while an earlier emit was pending`);
    };
    try {
      await source.run({
        positions: this.resumePositions(source.name),
        signal,
        problem: (p) => {
          metrics.problems.inc({ source: source.name, reason: p.reason });
          this.log(`agent: ${source.name}: ${p.reason}: ${p.message}`);
        },
        stage: (records) => {
          check('stage');
          builder.add(gate.filter(records));
        },
        stageBytes: (labels, attributes, timestamp, buf, start, end) => {
          check('stage');
          if (gate.accepts(labels, timestamp))
            builder.addBytes(labels, attributes, timestamp, buf, start, end);
        },
        emit: async (batch: SourceBatch) => {
          check('emit');
          inFlight = true;
          try {
            builder.add(gate.filter(batch.records));
            const count = builder.count;
            const bytes = builder.lineBytes;
            // Written into the agent's scratch buffer and compressed at once, before any await (the
            // next batch reuses it); the buffer stores what the push carries.
            const raw = builder.finish(this.scratch);
            if (count === 0 && Object.keys(batch.positions).length === 0) return;
            const body = raw.length === 0 ? raw : snappyCompress(raw);
            await this.appendWhenRoom(
              () =>
                raw.length === 0
                  ? buffer.append(source.name, batch.positions, 0, body)
                  : buffer.append(source.name, batch.positions, count, body, 'snappy'),
              signal,
            );
            metrics.readRecords.inc({ source: source.name }, count);
            metrics.readBytes.inc({ source: source.name }, bytes);
            metrics.bufferBytes.set(buffer.bytes);
            metrics.bufferBatches.set(buffer.pending.length);
          } finally {
            inFlight = false;
          }
        },
      });
    } catch (err) {
      if (signal.aborted) return;
      metrics.problems.inc({ source: source.name, reason: 'fault' });
      this.log(`agent: source ${source.name} stopped: ${(err as Error).message}`, 'error');
    }
  }

  /**
   * Stops the sources, ships what is buffered for up to `stopGraceMs`, and keeps the rest in the
   * buffer for the next start.
   */
  stop(): Promise<void> {
    this.stopped ??= this.stopNow();
    return this.stopped;
  }

  private async stopNow(): Promise<void> {
    if (!this.started) return;
    const deadline = Date.now() + (this.o.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    this.controller.abort();
    // Sources waiting in emit for room would wait for ever: let them see the abort through a
    // rejected emit only once the grace period is over, so that room made by shipping is used.
    const sourcesDone = Promise.all(this.runs);
    const graceOver = new Promise<void>((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref());
    await Promise.race([sourcesDone, graceOver]);
    await this.shipper?.drain(deadline);
    await this.shipper?.stop();
    await this.buffer.close();
    await sourcesDone;
    clearInterval(this.keepAlive);
    this.disk.stop();
    await this.lock?.release();
    this.o.client.close();
    if (this.buffer.pending.length > 0) {
      this.log(
        `agent: stopped with ${this.buffer.pending.length} batches still buffered; they ship on the next start`,
        'info',
      );
    }
  }
}

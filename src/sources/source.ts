/**
 * @module The `Source` interface of `kjournal agent`: one per kind of input (pod logs, the audit
 * log, Kubernetes events, the journal, syslog). A source reads, turns what it reads into records,
 * and hands them to the agent in batches, each with the positions that batch reaches. The agent
 * ships the batch and, only once the server has acknowledged it, saves those positions durably;
 * on restart, a source resumes from the saved positions, so a `kill -9` of the agent or the server
 * at any moment loses no line and repeats none that was acknowledged.
 *
 * Back-pressure: `emit` resolves when the agent has taken the batch (into its bounded buffer).
 * While the buffer is full it does not resolve, and a source must not read further meanwhile
 * (files and the journal simply wait; a UDP listener counts what it drops). Every source passes
 * the contract suite in test/sources/source-contract.ts.
 */
import type { Attributes, Labels, LogRecord } from '../model/record.js';

/**
 * Where a source has got to, as opaque JSON per key (for files: the file's identity; for the
 * journal: one key holding the cursor). Saved by the agent under `--state-dir`.
 */
export type Positions = Readonly<Record<string, unknown>>;

export interface SourceBatch {
  readonly records: readonly LogRecord[];
  /**
   * The positions reached once these records are stored: merged into the saved positions when the
   * batch is acknowledged (a key mapped to `null` is deleted, e.g. a rotated file let go).
   */
  readonly positions: Positions;
}

export type StageBytes = (
  labels: Labels,
  attributes: Attributes,
  timestamp: bigint,
  buf: Buffer,
  start: number,
  end: number,
) => void;

/** Problems a source met and skipped (a corrupt line, a frame with a wrong length, ...). */
export interface SourceProblem {
  readonly source: string;
  /** A short machine-readable reason, used as the metric label (`corrupt_line`, `too_long`...). */
  readonly reason: string;
  /** One line for the log: what, where. */
  readonly message: string;
}

export interface SourceContext {
  /** The positions saved by earlier runs (only this source's keys). */
  readonly positions: Positions;
  /** Hands a batch over; resolves when the agent has taken it. Never call it concurrently. */
  emit(batch: SourceBatch): Promise<void>;
  /**
   * Hands records over ahead of the `emit` that ends their batch: they belong to that batch, before
   * its own records, and its positions cover them. The agent encodes them at once and keeps no
   * reference, so a source reading a large batch need not hold its records until it is full. Not
   * while an `emit` is pending. Records staged when the agent stops, before their emit, are
   * dropped: their positions were never saved, so they are read again.
   */
  stage(records: readonly LogRecord[]): void;
  /**
   * Like `stage`, for one entry whose line is the valid UTF-8 bytes `buf[start, end)`: encoded at
   * once, with neither a string nor a record made for it. Offered only when nothing on the node
   * needs record objects (no audit policy or pipeline flows); a source stages records otherwise.
   */
  readonly stageBytes?: StageBytes;
  /** Reports a problem: counted in the agent's metrics and logged; the source goes on. */
  problem(p: Omit<SourceProblem, 'source'>): void;
  /** Aborted when the agent stops: the source finishes what it is doing and `run` resolves. */
  readonly signal: AbortSignal;
}

export interface Source {
  /** Stable and unique within one agent (`pods`, `audit`, `events`, `journal`, `syslog-tcp`...). */
  readonly name: string;
  /** Reads until `ctx.signal` aborts; rejects only on a fault it cannot go on from. */
  run(ctx: SourceContext): Promise<void>;
}
